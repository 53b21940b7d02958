// A static glibc binary cannot load NSS modules, and c-ares refers to the two
// NSS service look-ups below. curl always passes numeric ports, so they are
// never reached; defining them here keeps glibc's NSS/dlopen machinery out of
// the binary and the link free of warnings (docs/building.md).
#include <cerrno>
#include <cstddef>

#include <netdb.h>

extern "C" int getservbyname_r(const char*, const char*, struct servent*, char*, std::size_t, struct servent** result) {
  *result = nullptr;
  return ENOENT;
}

extern "C" int getservbyport_r(int, const char*, struct servent*, char*, std::size_t, struct servent** result) {
  *result = nullptr;
  return ENOENT;
}

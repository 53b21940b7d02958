#include "net/ca_bundle.h"

// The build passes BOOTRINO_CA_BUNDLE_PATH; .incbin copies that file into
// .rodata so no generated source has to exist.
__asm__(".section .rodata\n"
        ".balign 16\n"
        "bootrino_ca_bundle_start:\n"
        ".incbin \"" BOOTRINO_CA_BUNDLE_PATH "\"\n"
        "bootrino_ca_bundle_end:\n"
        ".byte 0\n"
        ".previous\n");

// Hidden, so the compiler addresses the labels directly: through the GOT (the default for extern data in a
// PIE), aarch64's assembler rewrites both as ".rodata + offset" and the linker gives them one GOT entry, so
// end - start came out 0 in the aarch64 build.
extern "C" __attribute__((visibility("hidden"))) const char bootrino_ca_bundle_start[];
extern "C" __attribute__((visibility("hidden"))) const char bootrino_ca_bundle_end[];

namespace net {

std::string_view EmbeddedCaBundle() {
  return std::string_view(bootrino_ca_bundle_start,
                          static_cast<std::size_t>(bootrino_ca_bundle_end - bootrino_ca_bundle_start));
}

}  // namespace net

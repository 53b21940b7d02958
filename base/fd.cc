#include "base/fd.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace base {

void Fd::Reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::string SysMessage(std::string_view call, std::string_view what, int err) {
  return std::string(call) + " " + std::string(what) + ": " + std::strerror(err);
}

Result<Fd> Open(const std::string& path, int flags, unsigned mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return Fail(ErrorKind::kInternal, SysMessage("open", path, errno), errno);
  return Fd(fd);
}

Result<void> WriteAllAt(const Fd& fd, std::span<const char> bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorKind::kInternal, SysMessage("pwrite", "fd " + std::to_string(fd.get()), errno), errno);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

Result<void> ReadExactlyAt(const Fd& fd, std::span<char> bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    ssize_t n = ::pread(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorKind::kInternal, SysMessage("pread", "fd " + std::to_string(fd.get()), errno), errno);
    }
    if (n == 0) {
      return Fail(ErrorKind::kInternal, "pread: fd " + std::to_string(fd.get()) + " ends at byte " +
                                            std::to_string(offset) + ", before what was written there");
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return {};
}

Result<std::string> ReadFile(const std::string& path, std::size_t max_bytes) {
  ASSIGN_OR_RETURN(Fd fd, Open(path, O_RDONLY));
  return ReadAll(fd, path, max_bytes);
}

Result<std::string> ReadAll(const Fd& fd, const std::string& path, std::size_t max_bytes) {
  std::string out;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorKind::kInternal, SysMessage("read", path, errno), errno);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      return Fail(ErrorKind::kInternal, path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

Result<void> WriteFileAtomically(const std::string& path, std::string_view contents, unsigned mode) {
  std::string temp = path + ".tmp";
  {
    ASSIGN_OR_RETURN(Fd fd, Open(temp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    RETURN_IF_ERROR(WriteAllAt(fd, std::span<const char>(contents.data(), contents.size()), 0));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    return Fail(ErrorKind::kInternal, SysMessage("rename", temp, err), err);
  }
  return {};
}

}  // namespace base

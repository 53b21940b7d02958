// A move-only owner of a file descriptor, and the few file operations every
// folder needs, returning Result and opening everything O_CLOEXEC.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "base/result.h"

namespace base {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  /// Closes the current descriptor (if any) and takes ownership of `fd`.
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

/// open(2) with O_CLOEXEC added; errors are kInternal with errno and the path.
[[nodiscard]] Result<Fd> Open(const std::string& path, int flags, unsigned mode = 0);

/// pwrite(2) until every byte is written, retrying short writes and EINTR.
[[nodiscard]] Result<void> WriteAllAt(const Fd& fd, std::span<const char> bytes, std::uint64_t offset);

/// pread(2) until `bytes` is full, retrying short reads and EINTR; end of file first is an error.
[[nodiscard]] Result<void> ReadExactlyAt(const Fd& fd, std::span<char> bytes, std::uint64_t offset);

/// Reads a whole file, refusing files larger than `max_bytes`.
[[nodiscard]] Result<std::string> ReadFile(const std::string& path, std::size_t max_bytes);

/// Reads what is left of the open file `fd` (named `shown` in errors), refusing more than `max_bytes`.
[[nodiscard]] Result<std::string> ReadAll(const Fd& fd, const std::string& shown, std::size_t max_bytes);

/// Writes `contents` to `path` through a temporary file and rename(2), so readers
/// see either the old file or the whole new one.
[[nodiscard]] Result<void> WriteFileAtomically(const std::string& path, std::string_view contents, unsigned mode);

/// "open /x: No such file or directory" style text for errno values.
std::string SysMessage(std::string_view call, std::string_view what, int err);

}  // namespace base

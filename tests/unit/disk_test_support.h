// Helpers the disk writers' tests share: running the reference tools
// (sfdisk, fsck.vfat, e2fsck, blkid, mtools) and reading or planting bytes in
// image files.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "tests/unit/scratch_dir.h"

namespace disk::test_support {

struct Output {
  int status;
  std::string text;
};

/// Runs `command` with sh, /usr/sbin on PATH (sfdisk, fsck.vfat) and a 120 s
/// limit: a reference tool can loop on a broken filesystem (fsck.vfat -n on a
/// cyclic chain does), and that is a failure, not a hang. Captures stdout, and
/// stderr too when `with_stderr`.
inline Output Shell(const std::string& command, bool with_stderr = true) {
  Output out{-1, ""};
  std::string quoted = "'";
  // In a subshell, so a redirection inside `command` (2>/dev/null) wins over ours.
  for (char c : "(" + command + ")" + (with_stderr ? " 2>&1" : "")) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  FILE* pipe = ::popen(("PATH=\"$PATH:/usr/sbin:/sbin\" timeout 120 sh -c " + quoted + "'" +
                        (with_stderr ? " 2>&1" : "")).c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.text.append(buffer, n);
  int status = ::pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

/// `size` pseudo-random bytes, the same for the same seed.
inline std::string RandomBytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

inline std::string ReadAt(const std::filesystem::path& path, std::uint64_t offset, std::size_t size) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(size, '\0');
  in.read(out.data(), static_cast<std::streamsize>(size));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

inline void WriteAt(const std::filesystem::path& path, std::uint64_t offset, const std::string& data) {
  std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
  out.seekp(static_cast<std::streamoff>(offset));
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

using testing_support::TempDirTest;

}  // namespace disk::test_support

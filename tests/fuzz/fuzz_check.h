// What the fuzz targets share: an invariant check that libFuzzer reports as a
// crash (with the input saved), the input as text, and what a parser's refusal
// must hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "base/result.h"

/// Aborts with the condition's text when an invariant of a parser's output fails:
/// a wrong answer is a finding as much as a crash is.
#define FUZZ_REQUIRE(cond)                                                                 \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

inline std::string_view AsText(const std::uint8_t* data, std::size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

/// Relative, and no empty, "." or ".." component: a path that stays inside the
/// directory it is joined to.
inline bool IsPlainRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  for (std::size_t start = 0; start <= path.size();) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

enum class HintRule { kOptional, kRequired };

/// Whether the parser refused its input, after checking that the refusal is one
/// bootrino can report: of the `kind` its callers expect, with a message, and
/// (kRequired) a hint saying what to do.
template <typename T>
bool Refused(const base::Result<T>& parsed, base::ErrorKind kind, HintRule hint = HintRule::kOptional) {
  if (parsed) return false;
  FUZZ_REQUIRE(parsed.error().kind() == kind);
  FUZZ_REQUIRE(!parsed.error().message().empty());
  if (hint == HintRule::kRequired) FUZZ_REQUIRE(!parsed.error().hint().empty());
  return true;
}

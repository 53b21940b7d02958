#include "base/mountinfo.h"

#include <algorithm>
#include <charconv>

namespace base {
namespace {

// "\040" in a path is a space (the kernel escapes space, tab, newline and backslash in octal).
std::string Unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4 &&
        std::all_of(s.begin() + i + 1, s.begin() + i + 4, [](char c) { return c >= '0' && c <= '7'; })) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The fields of a line: separated by single spaces, as the kernel writes them (escapes hold no space).
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ParseUnsigned(std::string_view s, unsigned& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

}  // namespace

std::vector<MountEntry> ParseMountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    // id parent major:minor root mount-point options [optional…] - fstype source super-options
    std::vector<std::string_view> f = Fields(line);
    auto dash = std::find(f.begin(), f.end(), std::string_view("-"));
    if (f.size() < 6 || dash == f.end() || f.end() - dash < 3 || dash - f.begin() < 6) continue;
    std::string_view dev = f[2];
    std::size_t colon = dev.find(':');
    unsigned major = 0, minor = 0;
    if (colon == std::string_view::npos || !ParseUnsigned(dev.substr(0, colon), major) ||
        !ParseUnsigned(dev.substr(colon + 1), minor)) {
      continue;
    }
    out.push_back({major, minor, Unescape(f[3]), Unescape(f[4]), std::string(dash[1]), Unescape(dash[2])});
  }
  return out;
}

}  // namespace base

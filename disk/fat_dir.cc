#include "disk/fat_dir.h"

#include <algorithm>
#include <optional>

namespace disk::fat {
namespace {

using base::ErrorKind;

void Put16(std::string& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<char>(v & 0xFF);
  out[at + 1] = static_cast<char>(v >> 8);
}

void Put32(std::string& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// Characters a short name may hold besides A-Z and 0-9 (fatgen103 §6.1).
bool ShortNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'()-@^_`{}~").find(c) != std::string_view::npos;
}

char Upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Decodes UTF-8 into UTF-16, refusing overlong forms, surrogates and truncation.
std::optional<std::u16string> Utf16(std::string_view s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    int extra = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2 : (b & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0 || i + static_cast<std::size_t>(extra) >= s.size()) return std::nullopt;
    char32_t cp = extra == 0 ? b : b & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    if (cp >= 0x10000) {
      out.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

// The 11-byte form of base + extension, space padded.
std::string Pack(std::string_view base, std::string_view ext) {
  std::string out(11, ' ');
  std::copy(base.begin(), base.end(), out.begin());
  std::copy(ext.begin(), ext.end(), out.begin() + 8);
  return out;
}

}  // namespace

base::Result<std::u16string> LongName(std::string_view name) {
  auto fail = [&](std::string_view why) {
    return base::Fail(base::Error(ErrorKind::kUsage, "the name \"" + std::string(name) +
                                                         "\" cannot be a FAT file name: " + std::string(why))
                          .Hint("rename the file: the boot partition is FAT32, whose long names are Windows'"));
  };
  if (name.empty()) return fail("it is empty (a doubled or trailing \"/\" in the path?)");
  if (name == "." || name == "..") return fail("it is a directory reference");
  if (name.back() == '.' || name.back() == ' ') return fail("it ends with a dot or a space, which FAT drops");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F ||
        std::string_view("\"*/:<>?\\|").find(c) != std::string_view::npos) {
      return fail("it holds a control character or one of \" * / : < > ? \\ |");
    }
  }
  std::optional<std::u16string> utf16 = Utf16(name);
  if (!utf16) return fail("it is not valid UTF-8");
  if (utf16->size() > 255) return fail("it is longer than 255 characters");
  return *utf16;
}

std::string ExactShortName(std::string_view name) {
  std::size_t dot = name.find('.');
  std::string_view base = name.substr(0, dot);
  std::string_view ext = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  if (base.empty() || base.size() > 8 || ext.size() > 3 || (dot != std::string_view::npos && ext.empty())) return "";
  if (!std::all_of(base.begin(), base.end(), ShortNameChar) || !std::all_of(ext.begin(), ext.end(), ShortNameChar)) {
    return "";
  }
  return Pack(base, ext);
}

std::string MakeShortName(std::string_view name, const std::set<std::string>& taken) {
  // The basis name (fatgen103 §7.2): upper case, characters a short name
  // cannot hold become '_', spaces and leading dots go, the last dot splits
  // off the extension. Any loss forces a numeric tail.
  bool lossy = false;
  std::size_t start = name.find_first_not_of('.');
  if (start != 0) lossy = true;
  std::string_view rest = start == std::string_view::npos ? std::string_view() : name.substr(start);
  std::size_t last_dot = rest.rfind('.');
  auto convert = [&](std::string_view part, std::size_t limit) {
    std::string out;
    for (std::size_t i = 0; i < part.size(); ++i) {
      char c = Upper(part[i]);
      if (c == ' ' || c == '.') {
        lossy = true;
        continue;
      }
      if (static_cast<unsigned char>(c) >= 0x80) {
        // One '_' per UTF-8 sequence: skip its continuation bytes.
        while (i + 1 < part.size() && (static_cast<unsigned char>(part[i + 1]) & 0xC0) == 0x80) ++i;
        c = '_';
        lossy = true;
      } else if (!ShortNameChar(c)) {
        c = '_';
        lossy = true;
      }
      if (out.size() == limit) {
        lossy = true;
        break;
      }
      out.push_back(c);
    }
    return out;
  };
  std::string base = convert(rest.substr(0, last_dot), 8);
  std::string ext = last_dot == std::string_view::npos ? "" : convert(rest.substr(last_dot + 1), 3);
  if (base.empty()) {
    base = "_";
    lossy = true;
  }
  if (!lossy && !taken.contains(Pack(base, ext))) return Pack(base, ext);
  for (unsigned n = 1;; ++n) {
    std::string tail = "~" + std::to_string(n);
    std::string candidate = Pack(base.substr(0, std::min(base.size(), 8 - tail.size())) + tail, ext);
    if (!taken.contains(candidate)) return candidate;
  }
}

std::uint8_t ShortNameChecksum(std::string_view short_name) {
  std::uint8_t sum = 0;
  for (char c : short_name) {
    sum = static_cast<std::uint8_t>(((sum & 1) << 7) + (sum >> 1) + static_cast<unsigned char>(c));
  }
  return sum;
}

std::string ShortEntry(std::string_view short_name, std::uint8_t attributes, std::uint32_t first_cluster,
                       std::uint32_t size) {
  std::string e(kDirEntryBytes, '\0');
  std::copy(short_name.begin(), short_name.end(), e.begin());
  e[11] = static_cast<char>(attributes);
  Put16(e, 14, kFixedTime);  // creation time
  Put16(e, 16, kFixedDate);  // creation date
  Put16(e, 18, kFixedDate);  // last access date
  Put16(e, 20, static_cast<std::uint16_t>(first_cluster >> 16));
  Put16(e, 22, kFixedTime);  // write time
  Put16(e, 24, kFixedDate);  // write date
  Put16(e, 26, static_cast<std::uint16_t>(first_cluster & 0xFFFF));
  Put32(e, 28, size);
  return e;
}

std::string LongNameEntries(const std::u16string& long_name, std::uint8_t checksum) {
  static constexpr std::size_t kCharsPerEntry = 13;
  static constexpr std::size_t kCharOffsets[kCharsPerEntry] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
  std::size_t count = (long_name.size() + kCharsPerEntry - 1) / kCharsPerEntry;
  std::string out;
  for (std::size_t ordinal = count; ordinal >= 1; --ordinal) {
    std::string e(kDirEntryBytes, '\0');
    e[0] = static_cast<char>(ordinal | (ordinal == count ? 0x40 : 0));
    e[11] = static_cast<char>(kAttrLongName);
    e[13] = static_cast<char>(checksum);
    for (std::size_t k = 0; k < kCharsPerEntry; ++k) {
      std::size_t i = (ordinal - 1) * kCharsPerEntry + k;
      // After the name: one NUL terminator, then 0xFFFF padding.
      std::uint16_t unit = i < long_name.size() ? long_name[i] : i == long_name.size() ? 0x0000 : 0xFFFF;
      Put16(e, kCharOffsets[k], unit);
    }
    out += e;
  }
  return out;
}

std::size_t EntryCount(const std::u16string& long_name, bool needs_long_name) {
  return 1 + (needs_long_name ? (long_name.size() + 12) / 13 : 0);
}

base::Result<std::string> LabelField(std::string_view label) {
  if (label.empty()) return std::string("NO NAME    ");
  if (label.size() > 11) {
    return base::Fail(base::Error(ErrorKind::kUsage, "the FAT volume label \"" + std::string(label) +
                                                         "\" is longer than 11 characters")
                          .Hint("choose a label of at most 11 letters, digits and spaces"));
  }
  std::string out(11, ' ');
  for (std::size_t i = 0; i < label.size(); ++i) {
    char c = Upper(label[i]);
    if (c != ' ' && !ShortNameChar(c)) {
      return base::Fail(base::Error(ErrorKind::kUsage, "the FAT volume label \"" + std::string(label) +
                                                           "\" may hold only letters, digits, spaces and "
                                                           "!#$%&'()-@^_`{}~")
                            .Hint("choose a label of at most 11 letters, digits and spaces"));
    }
    out[i] = c;
  }
  return out;
}

}  // namespace disk::fat

// FAT directory entries, 32 bytes each: 8.3 short names, the VFAT long-name
// entries that carry every other name, and the checksum tying them together
// (Microsoft's FAT specification "fatgen103", sections 6 and 7). Used by
// disk/fat32.cc; separate so the name rules can be tested on their own.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "base/base.h"

namespace disk::fat {

inline constexpr std::size_t kDirEntryBytes = 32;
inline constexpr std::uint8_t kAttrVolumeId = 0x08;
inline constexpr std::uint8_t kAttrDirectory = 0x10;
inline constexpr std::uint8_t kAttrArchive = 0x20;
inline constexpr std::uint8_t kAttrLongName = 0x0F;

/// Every timestamp in the filesystem is 1980-01-01 00:00:00, the FAT epoch,
/// so equal input gives a byte-equal image.
inline constexpr std::uint16_t kFixedDate = (0 << 9) | (1 << 5) | 1;
inline constexpr std::uint16_t kFixedTime = 0;

/// Checks one path component ("BOOTX64.EFI", "vmlinuz-virt") as a VFAT long
/// name and returns it in UTF-16. Errors (kUsage): empty, "." or "..", invalid
/// UTF-8, a character FAT forbids, a trailing dot or space, over 255 units.
[[nodiscard]] base::Result<std::u16string> LongName(std::string_view name);

/// The 11-byte on-disk form ("BOOTX64 EFI") when `name` already is a valid
/// upper-case 8.3 name, else "": such names need no long-name entries.
std::string ExactShortName(std::string_view name);

/// A short name for a `name` that is not exactly 8.3, not in `taken` (11-byte
/// forms): the upper-cased basis ("LOADER"), or with a numeric tail
/// ("VMLINU~1") when the basis lost characters or is taken.
std::string MakeShortName(std::string_view name, const std::set<std::string>& taken);

/// The checksum of an 11-byte short name that each of its long-name entries carries.
std::uint8_t ShortNameChecksum(std::string_view short_name);

/// One short entry with the fixed timestamps.
std::string ShortEntry(std::string_view short_name, std::uint8_t attributes, std::uint32_t first_cluster,
                       std::uint32_t size);

/// The long-name entries for `long_name` in on-disk order (last part first),
/// to be placed right before the short entry whose checksum they carry.
std::string LongNameEntries(const std::u16string& long_name, std::uint8_t checksum);

/// How many 32-byte entries a name takes: 1, plus its long-name entries.
std::size_t EntryCount(const std::u16string& long_name, bool needs_long_name);

/// The volume label as the BPB and the root's label entry hold it: upper
/// case, space-padded to 11 bytes; "NO NAME    " for an empty label.
/// Errors (kUsage): longer than 11 characters or a character labels forbid.
[[nodiscard]] base::Result<std::string> LabelField(std::string_view label);

}  // namespace disk::fat

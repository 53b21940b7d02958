// The limits of the disk bootrino writes, in one place: the manifest parser
// refuses what the layout could not plan, and the layout plans what the
// FAT32 and ext4 writers can make.
#pragma once

#include <cstdint>

namespace base {

/// FAT32 needs at least 65,525 clusters. The boot partition's writer uses
/// 512-byte clusters below 260 MiB and 4 KiB clusters from 260 MiB up, where
/// 65,525 clusters take 256 MiB: 260 MiB keeps a margin for its metadata.
inline constexpr std::uint64_t kMinBootPartitionMiB = 260;
/// 64 GiB: far beyond any kernel and initrd, and under FAT32's limits with 32 KiB clusters.
inline constexpr std::uint64_t kMaxBootPartitionMiB = 65536;
/// Room for an ext4 journal and a useful amount of data on the data partition.
inline constexpr std::uint64_t kMinDataPartitionMiB = 64;

}  // namespace base

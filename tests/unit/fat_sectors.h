// Test helper: the sectors a file in a FAT32 image's root directory occupies,
// read from the image itself (BPB, root directory, cluster chain), so tests
// can hand bootrino the same sector list Debian's syslinux installer used.
// Only what the tests need: 8.3 names in the root directory, no LFN lookup.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace test_fat {

inline std::uint32_t Le(const std::string& s, std::size_t off, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s.at(off + i));
  return v;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Partition-relative sectors of `name83` ("LDLINUX SYS": 8+3, space padded),
/// in file order and covering its size rounded up to sectors; empty if absent.
inline std::vector<std::uint64_t> FileSectors(const std::string& image, const std::string& name83) {
  std::uint32_t bytes_per_sector = Le(image, 11, 2), per_cluster = Le(image, 13, 1);
  std::uint64_t fat_start = Le(image, 14, 2), fat_sectors = Le(image, 36, 4);
  std::uint64_t data_start = fat_start + Le(image, 16, 1) * fat_sectors;
  auto next = [&](std::uint32_t cluster) { return Le(image, fat_start * bytes_per_sector + 4 * cluster, 4) & 0x0FFFFFFF; };
  auto chain_sectors = [&](std::uint32_t cluster) {
    std::vector<std::uint64_t> out;
    for (; cluster >= 2 && cluster < 0x0FFFFFF8; cluster = next(cluster)) {
      for (std::uint32_t i = 0; i < per_cluster; ++i) out.push_back(data_start + (cluster - 2ull) * per_cluster + i);
    }
    return out;
  };
  for (std::uint64_t sector : chain_sectors(Le(image, 44, 4))) {
    for (std::size_t off = sector * bytes_per_sector; off < (sector + 1) * bytes_per_sector; off += 32) {
      if (image.compare(off, 11, name83) != 0) continue;
      std::uint32_t first = Le(image, off + 20, 2) << 16 | Le(image, off + 26, 2);
      std::uint64_t size = Le(image, off + 28, 4);
      std::vector<std::uint64_t> sectors = chain_sectors(first);
      sectors.resize((size + bytes_per_sector - 1) / bytes_per_sector);
      return sectors;
    }
  }
  return {};
}

}  // namespace test_fat

#include "disk/fat32.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "disk/fat_dir.h"

namespace disk {
namespace {

using base::ErrorKind;

constexpr std::uint32_t kReservedSectors = 32;
constexpr std::uint32_t kInfoSector = 1;
constexpr std::uint32_t kBackupBootSector = 6;
constexpr std::uint64_t kMinClusters = 65525;       // fewer and every driver takes it for FAT16 (fatgen103 §3.5)
constexpr std::uint64_t kMaxClusters = 0x0FFFFFF4;  // cluster numbers must stay below the 0x0FFFFFF7 marker
constexpr std::uint32_t kEndOfChain = 0x0FFFFFFF;
constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::size_t kChunkBytes = 1 << 20;  // FAT and source files are written in pieces this big

std::uint64_t CeilDiv(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

std::unexpected<base::Error> FailWithHint(ErrorKind kind, std::string message, std::string hint) {
  return base::Fail(base::Error(kind, std::move(message)).Hint(std::move(hint)));
}

void Put16(std::string& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<char>(v & 0xFF);
  out[at + 1] = static_cast<char>(v >> 8);
}

void Put32(std::string& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

// The smallest FAT (in sectors) that has an entry for every cluster left
// after both FATs, grown until the data area starts on a cluster boundary.
FatGeometry Shape(std::uint64_t total, std::uint32_t sector_size, std::uint32_t sectors_per_cluster) {
  auto fits = [&](std::uint64_t fat) {
    if (kReservedSectors + 2 * fat >= total) return true;
    std::uint64_t clusters = (total - kReservedSectors - 2 * fat) / sectors_per_cluster;
    return fat * sector_size / 4 >= clusters + 2;
  };
  // Enough even if the FATs took no room; a few steps down reach the smallest.
  std::uint64_t fat = CeilDiv(((total - kReservedSectors) / sectors_per_cluster + 2) * 4, sector_size);
  while (fat > 1 && fits(fat - 1)) --fat;
  while ((kReservedSectors + 2 * fat) % sectors_per_cluster != 0) ++fat;
  FatGeometry g;
  g.sector_size = sector_size;
  g.sectors_per_cluster = sectors_per_cluster;
  g.reserved_sectors = kReservedSectors;
  g.fat_sectors = static_cast<std::uint32_t>(fat);
  g.total_sectors = static_cast<std::uint32_t>(total);
  g.clusters = g.DataStart() >= total ? 0 : static_cast<std::uint32_t>((total - g.DataStart()) / sectors_per_cluster);
  return g;
}

std::string Mib(std::uint64_t sectors, std::uint32_t sector_size) {
  return std::to_string(CeilDiv(sectors * sector_size, kMiB)) + " MiB";
}

base::Result<FatGeometry> ChooseGeometry(const FatVolume& v) {
  if (v.sector_size != 512 && v.sector_size != 4096) {
    return FailWithHint(ErrorKind::kDisk,
                        "the disk has " + std::to_string(v.sector_size) +
                            "-byte logical sectors; the FAT32 writer supports 512 and 4096",
                        "use a disk with 512- or 4096-byte logical sectors");
  }
  std::uint64_t min = Fat32Image::MinimumSectors(v.sector_size);
  if (v.sectors < min) {
    return FailWithHint(ErrorKind::kDisk,
                        "the boot partition has " + std::to_string(v.sectors) + " sectors of " +
                            std::to_string(v.sector_size) + " bytes, too small for FAT32, which needs at least " +
                            std::to_string(min) + " sectors (" + Mib(min, v.sector_size) + ")",
                        "make the boot partition at least " + Mib(min, v.sector_size));
  }
  if (v.sectors > UINT32_MAX || v.hidden_sectors > UINT32_MAX) {
    return FailWithHint(ErrorKind::kDisk, "a FAT32 boot partition must start and end within the first 2^32 sectors",
                        "make the boot partition smaller and place it at the start of the disk");
  }
  // mkfs.fat's choice (dosfstools mkfs.fat.c, after Microsoft's format):
  // 512-byte clusters up to 260 MiB, 4 KiB to 8 GiB, 8 KiB to 16 GiB, 16 KiB
  // to 32 GiB, 32 KiB beyond; never smaller than a sector.
  std::uint64_t mib = CeilDiv(v.sectors * v.sector_size, kMiB);
  std::uint32_t cluster_bytes = mib > 32768 ? 32768 : mib > 16384 ? 16384 : mib > 8192 ? 8192 : mib > 260 ? 4096 : 512;
  for (cluster_bytes = std::max(cluster_bytes, v.sector_size);; cluster_bytes /= 2) {
    FatGeometry g = Shape(v.sectors, v.sector_size, cluster_bytes / v.sector_size);
    if (g.clusters > kMaxClusters) {
      return FailWithHint(
          ErrorKind::kDisk,
          "the boot partition (" + Mib(v.sectors, v.sector_size) + ") is too large for FAT32 with 32 KiB clusters",
          "make the boot partition smaller");
    }
    if (g.clusters >= kMinClusters) return g;
    if (cluster_bytes == v.sector_size) {
      return base::Fail(ErrorKind::kInternal, "no FAT32 cluster size fits " + std::to_string(v.sectors) + " sectors");
    }
  }
}

// A file or directory while planning.
struct Node {
  std::string name;  // the path component as given
  std::u16string long_name;
  std::string short_name;       // 11 bytes
  bool long_entries = false;    // the name needs VFAT long-name entries
  std::size_t file = SIZE_MAX;  // index into the files, SIZE_MAX for a directory
  std::size_t parent = 0;
  std::vector<std::size_t> children;
  std::uint32_t first_cluster = 0;
  std::uint32_t clusters = 0;
};

std::string Fold(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return out;
}

// Builds the tree (node 0 is the root) and checks every name.
base::Result<std::vector<Node>> BuildTree(const std::vector<FatFile>& files) {
  std::vector<Node> nodes(1);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& path = files[i].path;
    auto fail = [&](std::string why) {
      return base::Fail(ErrorKind::kUsage, "boot partition file \"" + path + "\": " + why);
    };
    std::size_t cur = 0;
    for (std::size_t start = 0;;) {
      std::size_t slash = path.find('/', start);
      std::string_view name =
          std::string_view(path).substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      bool last = slash == std::string::npos;
      ASSIGN_OR_RETURN(std::u16string long_name,
                       base::WithContext(fat::LongName(name), "boot partition file \"" + path + "\""));
      auto same = [&](std::size_t c) { return Fold(nodes[c].name) == Fold(name); };
      auto found = std::find_if(nodes[cur].children.begin(), nodes[cur].children.end(), same);
      if (found != nodes[cur].children.end()) {
        if (last || nodes[*found].file != SIZE_MAX) {
          return fail("another file or directory has that name, perhaps in other case (FAT ignores case)");
        }
        cur = *found;
      } else {
        Node node;
        node.name = std::string(name);
        node.long_name = long_name;
        node.file = last ? i : SIZE_MAX;
        node.parent = cur;
        nodes.push_back(std::move(node));
        nodes[cur].children.push_back(nodes.size() - 1);
        cur = nodes.size() - 1;
      }
      if (last) break;
      start = slash + 1;
    }
  }
  return nodes;
}

// Exact 8.3 names first, so a generated "VMLINU~1" can never take the name
// of a file that is literally called that.
void AssignShortNames(std::vector<Node>& nodes) {
  for (Node& dir : nodes) {
    std::set<std::string> taken;
    for (std::size_t c : dir.children) {
      nodes[c].short_name = fat::ExactShortName(nodes[c].name);
      if (!nodes[c].short_name.empty()) taken.insert(nodes[c].short_name);
    }
    for (std::size_t c : dir.children) {
      if (!nodes[c].short_name.empty()) continue;
      nodes[c].short_name = fat::MakeShortName(nodes[c].name, taken);
      nodes[c].long_entries = true;
      taken.insert(nodes[c].short_name);
    }
  }
}

std::size_t DirEntryCount(const std::vector<Node>& nodes, std::size_t dir, bool label) {
  std::size_t count = dir == 0 ? (label ? 1 : 0) : 2;  // the label, or "." and ".."
  for (std::size_t c : nodes[dir].children) count += fat::EntryCount(nodes[c].long_name, nodes[c].long_entries);
  return count;
}

std::string EncodeDir(const std::vector<Node>& nodes, std::size_t dir, const std::string& label_field, bool label,
                      const std::vector<FatFile>& files) {
  std::string out;
  if (dir == 0 && label) out += fat::ShortEntry(label_field, fat::kAttrVolumeId, 0, 0);
  if (dir != 0) {
    out += fat::ShortEntry(".          ", fat::kAttrDirectory, nodes[dir].first_cluster, 0);
    // ".." of a directory in the root points at cluster 0, not 2 (fatgen103 §6.7).
    std::size_t parent = nodes[dir].parent;
    out += fat::ShortEntry("..         ", fat::kAttrDirectory, parent == 0 ? 0 : nodes[parent].first_cluster, 0);
  }
  for (std::size_t c : nodes[dir].children) {
    const Node& n = nodes[c];
    if (n.long_entries) out += fat::LongNameEntries(n.long_name, fat::ShortNameChecksum(n.short_name));
    bool is_dir = n.file == SIZE_MAX;
    out += fat::ShortEntry(n.short_name, is_dir ? fat::kAttrDirectory : fat::kAttrArchive, n.first_cluster,
                           is_dir ? 0 : static_cast<std::uint32_t>(files[n.file].size));
  }
  return out;
}

std::string BootSectorFor(const FatGeometry& g, const FatVolume& v, const std::string& label_field) {
  std::string s(g.sector_size, '\0');
  s.replace(0, 11, "\xEB\x58\x90MSWIN4.1");  // jump over the BPB to 0x5A; the most compatible OEM name
  Put16(s, 0x0B, static_cast<std::uint16_t>(g.sector_size));
  s[0x0D] = static_cast<char>(g.sectors_per_cluster);
  Put16(s, 0x0E, static_cast<std::uint16_t>(g.reserved_sectors));
  s[0x10] = 2;                        // FATs
  s[0x15] = static_cast<char>(0xF8);  // media: fixed disk
  Put16(s, 0x18, 63);                 // CHS geometry, unused by LBA loaders
  Put16(s, 0x1A, 255);
  Put32(s, 0x1C, static_cast<std::uint32_t>(v.hidden_sectors));
  Put32(s, 0x20, g.total_sectors);
  Put32(s, 0x24, g.fat_sectors);
  Put32(s, 0x2C, 2);  // root directory cluster
  Put16(s, 0x30, kInfoSector);
  Put16(s, 0x32, kBackupBootSector);
  s[0x40] = static_cast<char>(0x80);  // BIOS drive number
  s[0x42] = 0x29;                     // extended boot signature: the next three fields are valid
  Put32(s, 0x43, v.volume_id);
  s.replace(0x47, 11, label_field);
  s.replace(0x52, 8, "FAT32   ");
  // Boot code for a BIOS that boots this partition without a loader
  // installed: print the message at 0x74 via INT 10h, then INT 18h (try the
  // next boot device). xor ax,ax; mov ds,ax; mov si,0x7C74; lodsb; test al,al;
  // jz +9; mov ah,0Eh; mov bx,7; int 10h; jmp -14; int 18h; hlt; jmp -3.
  static constexpr unsigned char kCode[] = {0x31, 0xC0, 0x8E, 0xD8, 0xBE, 0x74, 0x7C, 0xAC, 0x84,
                                            0xC0, 0x74, 0x09, 0xB4, 0x0E, 0xBB, 0x07, 0x00, 0xCD,
                                            0x10, 0xEB, 0xF2, 0xCD, 0x18, 0xF4, 0xEB, 0xFD};
  s.replace(0x5A, sizeof kCode, reinterpret_cast<const char*>(kCode), sizeof kCode);
  static constexpr std::string_view kMessage = "This partition has no BIOS boot loader.\r\n";
  s.replace(0x74, kMessage.size(), kMessage);  // NUL-terminated by the zeros after it
  s[0x1FE] = 0x55;
  s[0x1FF] = static_cast<char>(0xAA);
  return s;
}

// pwrite at `offset`; a failure is the disk's (kDisk), with where it happened.
base::Result<void> WriteAt(const base::Fd& fd, std::string_view bytes, std::uint64_t offset) {
  auto written = base::WriteAllAt(fd, bytes, offset);
  if (!written) {
    return base::Fail(base::Error(ErrorKind::kDisk, written.error().message(), written.error().sys_errno())
                          .Context("writing the FAT32 boot partition at byte " + std::to_string(offset)));
  }
  return {};
}

// Reads until `size` bytes are at `out` or the file ends; returns the bytes read.
base::Result<std::size_t> ReadFull(int fd, char* out, std::size_t size, const std::string& path) {
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::read(fd, out + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return base::Fail(ErrorKind::kDisk, base::SysMessage("read", path, errno), errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

}  // namespace

std::uint64_t Fat32Image::MinimumSectors(std::uint32_t sector_size) {
  // One sector per cluster; each FAT holds kMinClusters + 2 entries of 4 bytes.
  return kReservedSectors + 2 * CeilDiv((kMinClusters + 2) * 4, sector_size) + kMinClusters;
}

base::Result<Fat32Image> Fat32Image::Plan(const FatVolume& volume, std::vector<FatFile> files) {
  Fat32Image image;
  ASSIGN_OR_RETURN(image.geometry_, ChooseGeometry(volume));
  ASSIGN_OR_RETURN(std::string label_field, fat::LabelField(volume.label));
  const FatGeometry& g = image.geometry_;
  for (FatFile& f : files) {
    if (f.source.empty()) f.size = f.data.size();
    if (!f.source.empty() && (!f.data.empty() || !f.parts.empty())) {
      return base::Fail(ErrorKind::kInternal, "boot partition file \"" + f.path + "\" has a source and other content");
    }
    for (const FilePart& p : f.parts) {
      if (p.padded < p.size || p.padded > UINT32_MAX) {
        return base::Fail(ErrorKind::kInternal, "boot partition file \"" + f.path + "\": part " + p.source + " of " +
                                                    std::to_string(p.size) + " bytes padded to " +
                                                    std::to_string(p.padded));
      }
      f.size += p.padded;
    }
    if (f.size > UINT32_MAX) {
      return FailWithHint(ErrorKind::kUsage,
                          "boot partition file \"" + f.path + "\" has " + std::to_string(f.size) +
                              " bytes; FAT32 holds files under 4 GiB",
                          "use a smaller file (a kernel or initrd under 4 GiB)");
    }
  }
  ASSIGN_OR_RETURN(std::vector<Node> nodes, BuildTree(files));
  AssignShortNames(nodes);

  // Clusters in order: the directories breadth-first (the root at cluster
  // 2, as the BPB says), then the files as given. Every run is contiguous.
  std::vector<std::size_t> order = {0};
  for (std::size_t i = 0; i < order.size(); ++i) {
    for (std::size_t c : nodes[order[i]].children) {
      if (nodes[c].file == SIZE_MAX) order.push_back(c);
    }
  }
  std::vector<std::size_t> file_node(files.size());
  for (std::size_t n = 1; n < nodes.size(); ++n) {
    if (nodes[n].file != SIZE_MAX) file_node[nodes[n].file] = n;
  }
  order.insert(order.end(), file_node.begin(), file_node.end());
  bool label = !volume.label.empty();
  std::uint64_t next = 2;
  for (std::size_t n : order) {
    std::uint64_t bytes =
        nodes[n].file == SIZE_MAX ? DirEntryCount(nodes, n, label) * fat::kDirEntryBytes : files[nodes[n].file].size;
    if (nodes[n].file == SIZE_MAX && bytes > 65536 * fat::kDirEntryBytes) {
      return FailWithHint(ErrorKind::kUsage, "a boot partition directory holds more than 65,536 entries",
                          "spread the files over more directories");
    }
    std::uint64_t clusters = std::max<std::uint64_t>(CeilDiv(bytes, g.ClusterBytes()), nodes[n].file == SIZE_MAX);
    nodes[n].first_cluster = clusters ? static_cast<std::uint32_t>(std::min<std::uint64_t>(next, UINT32_MAX)) : 0;
    nodes[n].clusters = static_cast<std::uint32_t>(std::min<std::uint64_t>(clusters, UINT32_MAX));
    next += clusters;
  }
  if (next - 2 > g.clusters) {
    return FailWithHint(ErrorKind::kDisk,
                        "the boot partition files need " + Mib((next - 2) * g.sectors_per_cluster, g.sector_size) +
                            " but its FAT32 filesystem holds " +
                            Mib(std::uint64_t{g.clusters} * g.sectors_per_cluster, g.sector_size),
                        "make the boot partition larger, or the kernel and initrds smaller");
  }
  image.next_free_ = static_cast<std::uint32_t>(next);
  for (std::size_t n : order) {
    Entry e{.path = nodes[n].file == SIZE_MAX ? "" : files[nodes[n].file].path,
            .file = nodes[n].file,
            .first_cluster = nodes[n].first_cluster,
            .clusters = nodes[n].clusters,
            .dir_entries = {}};
    if (nodes[n].file == SIZE_MAX) e.dir_entries = EncodeDir(nodes, n, label_field, label, files);
    image.entries_.push_back(std::move(e));
  }
  image.files_ = std::move(files);
  image.boot_sector_ = BootSectorFor(g, volume, label_field);
  return image;
}

const Fat32Image::Entry* Fat32Image::FindFile(std::string_view path) const {
  for (const Entry& e : entries_) {
    if (e.file != SIZE_MAX && e.path == path) return &e;
  }
  return nullptr;
}

base::Result<FatPlacement> Fat32Image::PlacementOf(std::string_view path) const {
  const Entry* e = FindFile(path);
  if (!e) return base::Fail(ErrorKind::kInternal, "\"" + std::string(path) + "\" is not a planned boot partition file");
  if (e->clusters == 0) return FatPlacement{};
  return FatPlacement{
      .first_sector = geometry_.DataStart() + std::uint64_t{e->first_cluster - 2} * geometry_.sectors_per_cluster,
      .sectors = CeilDiv(files_[e->file].size, geometry_.sector_size)};
}

base::Result<void> Fat32Image::ReplaceData(std::string_view path, std::string data) {
  const Entry* e = FindFile(path);
  if (!e) return base::Fail(ErrorKind::kInternal, "\"" + std::string(path) + "\" is not a planned boot partition file");
  FatFile& f = files_[e->file];
  if (data.size() != f.size) {
    return base::Fail(ErrorKind::kInternal, "replacing \"" + f.path + "\": " + std::to_string(data.size()) +
                                                " bytes where " + std::to_string(f.size) + " were planned");
  }
  f.data = std::move(data);
  f.source.clear();
  f.parts.clear();
  return {};
}

base::Result<void> Fat32Image::SetBootSector(std::string sector) {
  if (sector.size() != boot_sector_.size() || sector.compare(0x0B, 0x5A - 0x0B, boot_sector_, 0x0B, 0x5A - 0x0B) != 0 ||
      sector.compare(0x1FE, 2, "\x55\xAA") != 0) {
    return base::Fail(ErrorKind::kInternal, "a replacement FAT32 boot sector must be " +
                                                std::to_string(boot_sector_.size()) +
                                                " bytes and keep the BPB (0x0B-0x59) and the 0x55AA signature");
  }
  boot_sector_ = std::move(sector);
  return {};
}

std::string Fat32Image::InfoSector() const {
  std::string s(geometry_.sector_size, '\0');
  std::uint32_t free = geometry_.clusters + 2 - next_free_;
  Put32(s, 0, 0x41615252);    // "RRaA"
  Put32(s, 484, 0x61417272);  // "rrAa"
  Put32(s, 488, free);
  Put32(s, 492, free ? next_free_ : 0xFFFFFFFF);  // where a driver starts looking for a free cluster
  Put32(s, 508, 0xAA550000);
  return s;
}

base::Result<void> Fat32Image::WriteFats(const base::Fd& fd, std::uint64_t offset) const {
  std::vector<std::uint32_t> ends;  // the last cluster of every run, ascending
  for (const Entry& e : entries_) {
    if (e.clusters) ends.push_back(e.first_cluster + e.clusters - 1);
  }
  const std::uint64_t fat_bytes = std::uint64_t{geometry_.fat_sectors} * geometry_.sector_size;
  std::string chunk;
  auto end = ends.begin();
  for (std::uint64_t at = 0; at < fat_bytes; at += chunk.size()) {
    chunk.assign(std::min<std::uint64_t>(kChunkBytes, fat_bytes - at), '\0');
    for (std::size_t k = 0; k < chunk.size() / 4; ++k) {
      std::uint64_t cluster = at / 4 + k;
      std::uint32_t value = 0;  // free
      if (cluster == 0) {
        value = 0x0FFFFFF8;  // the media byte
      } else if (cluster == 1) {
        value = kEndOfChain;  // its top bits also say: cleanly unmounted, no I/O errors
      } else if (end != ends.end() && *end == cluster) {
        value = kEndOfChain;
        ++end;
      } else if (cluster < next_free_) {
        value = static_cast<std::uint32_t>(cluster + 1);  // runs are contiguous
      }
      Put32(chunk, 4 * k, value);
    }
    for (std::uint64_t copy = 0; copy < 2; ++copy) {
      std::uint64_t fat_start =
          (geometry_.reserved_sectors + copy * geometry_.fat_sectors) * std::uint64_t{geometry_.sector_size};
      RETURN_IF_ERROR(WriteAt(fd, chunk, offset + fat_start + at));
    }
  }
  return {};
}

base::Result<std::vector<base::Fd>> Fat32Image::OpenSources(const FatFile& f) const {
  std::vector<FilePart> wanted = f.parts;
  if (!f.source.empty()) wanted.push_back({f.source, f.size, f.size});
  std::vector<base::Fd> out;
  for (const FilePart& p : wanted) {
    auto context = [&](base::Error error) {
      return base::Fail(std::move(error).Context("copying " + p.source + " to the boot partition as " + f.path));
    };
    auto in = base::Open(p.source, O_RDONLY);
    if (!in) {
      return context(base::Error(ErrorKind::kDisk, in.error().message(), in.error().sys_errno())
                         .Hint("the staged file is gone; run bootrino again"));
    }
    struct stat st {};
    if (::fstat(in->get(), &st) != 0)
      return context(base::Error(ErrorKind::kDisk, base::SysMessage("fstat", p.source, errno), errno));
    if (static_cast<std::uint64_t>(st.st_size) != p.size) {
      return context(base::Error(ErrorKind::kDisk, "it has " + std::to_string(st.st_size) + " bytes, " +
                                                       std::to_string(p.size) + " were planned")
                         .Hint("the staged file changed while bootrino ran; run bootrino again"));
    }
    out.push_back(std::move(*in));
  }
  return out;
}

namespace {

// A boot partition file's bytes in order: its parts (each a staged file, then zeros up to its padded size),
// then its data, then zeros to the end of its last cluster. Read in chunks, so that a file composed of
// several staged files is written in whole clusters without being held in memory.
class ContentReader {
 public:
  ContentReader(const FatFile& f, const std::vector<base::Fd>& sources) : f_(f), sources_(sources) {
    if (!f.source.empty()) parts_.push_back({f.source, f.size, f.size});
    parts_.insert(parts_.end(), f.parts.begin(), f.parts.end());
  }

  // Fills `buffer` (all of it: zeros once the content ends).
  base::Result<void> Fill(std::string& buffer) {
    std::size_t at = 0;
    while (at < buffer.size()) {
      if (part_ < parts_.size()) {
        const FilePart& p = parts_[part_];
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size() - at, p.padded - pos_));
        const std::size_t from_file =
            pos_ < p.size ? static_cast<std::size_t>(std::min<std::uint64_t>(want, p.size - pos_)) : 0;
        if (from_file > 0) {
          auto got = ReadFull(sources_[part_].get(), buffer.data() + at, from_file, p.source);
          if (!got) return Context(p, std::move(got).error());
          if (*got < from_file) {
            return Context(p, base::Error(ErrorKind::kDisk, "it ended early")
                                  .Hint("the staged file changed while bootrino ran; run bootrino again"));
          }
        }
        std::fill(buffer.begin() + static_cast<std::ptrdiff_t>(at + from_file),
                  buffer.begin() + static_cast<std::ptrdiff_t>(at + want), '\0');
        at += want;
        pos_ += want;
        if (pos_ == p.padded) ++part_, pos_ = 0;
      } else if (data_at_ < f_.data.size()) {
        const std::size_t n = std::min(buffer.size() - at, f_.data.size() - data_at_);
        buffer.replace(at, n, f_.data, data_at_, n);
        at += n;
        data_at_ += n;
      } else {
        std::fill(buffer.begin() + static_cast<std::ptrdiff_t>(at), buffer.end(), '\0');
        at = buffer.size();
      }
    }
    return {};
  }

 private:
  base::Result<void> Context(const FilePart& p, base::Error error) const {
    return base::Fail(std::move(error).Context("copying " + p.source + " to the boot partition as " + f_.path));
  }

  const FatFile& f_;
  const std::vector<base::Fd>& sources_;
  std::vector<FilePart> parts_;
  std::size_t part_ = 0;
  std::uint64_t pos_ = 0;
  std::size_t data_at_ = 0;
};

}  // namespace

base::Result<void> Fat32Image::WriteFile(const base::Fd& fd, std::uint64_t offset, const Entry& e,
                                         const std::vector<base::Fd>& sources) const {
  const FatFile& f = files_[e.file];
  const std::uint64_t padded = std::uint64_t{e.clusters} * geometry_.ClusterBytes();
  ContentReader content(f, sources);
  std::string buffer;
  for (std::uint64_t at = 0; at < padded; at += buffer.size()) {
    buffer.resize(std::min<std::uint64_t>(kChunkBytes, padded - at));
    RETURN_IF_ERROR(content.Fill(buffer));
    RETURN_IF_ERROR(WriteAt(fd, buffer, offset + at));
  }
  return {};
}

base::Result<void> Fat32Image::Write(const Disk& disk, std::uint64_t partition_offset_bytes) const {
  const FatGeometry& g = geometry_;
  if (disk.sector_size() != g.sector_size) {
    return base::Fail(base::Error(ErrorKind::kDisk, disk.name() + " has " + std::to_string(disk.sector_size()) +
                                                        "-byte sectors, the boot partition was planned for " +
                                                        std::to_string(g.sector_size))
                          .Hint("plan the layout for this disk; nothing was written"));
  }
  const std::uint64_t volume_bytes = std::uint64_t{g.total_sectors} * g.sector_size;
  if (volume_bytes > disk.bytes() || partition_offset_bytes > disk.bytes() - volume_bytes) {
    return base::Fail(base::Error(ErrorKind::kDisk, "the boot partition's " + std::to_string(volume_bytes) +
                                                        " bytes at byte " + std::to_string(partition_offset_bytes) +
                                                        " end past the end of " + disk.name() + " (" +
                                                        std::to_string(disk.bytes()) + " bytes)")
                          .Hint("plan the layout for this disk; nothing was written"));
  }
  const base::Fd& fd = disk.fd();
  auto cluster_offset = [&](std::uint32_t cluster) {
    return partition_offset_bytes +
           (g.DataStart() + std::uint64_t{cluster - 2} * g.sectors_per_cluster) * g.sector_size;
  };
  // Every source is opened and its size checked before the first byte is written: a staged file that
  // is gone or changed fails here, with the disk as it was.
  std::vector<std::vector<base::Fd>> sources(files_.size());
  for (std::size_t i = 0; i < files_.size(); ++i) {
    ASSIGN_OR_RETURN(sources[i], OpenSources(files_[i]));
  }
  for (const Entry& e : entries_) {
    if (e.clusters == 0) continue;
    if (e.file == SIZE_MAX) {
      std::string bytes = e.dir_entries;
      bytes.resize(e.clusters * g.ClusterBytes(), '\0');
      RETURN_IF_ERROR(WriteAt(fd, bytes, cluster_offset(e.first_cluster)));
    } else {
      RETURN_IF_ERROR(WriteFile(fd, cluster_offset(e.first_cluster), e, sources[e.file]));
    }
  }
  RETURN_IF_ERROR(WriteFats(fd, partition_offset_bytes));
  std::string reserved(std::uint64_t{g.reserved_sectors} * g.sector_size, '\0');
  std::string info = InfoSector();
  for (std::uint32_t base_sector : {0u, kBackupBootSector}) {
    reserved.replace(std::uint64_t{base_sector} * g.sector_size, g.sector_size, boot_sector_);
    reserved.replace(std::uint64_t{base_sector + kInfoSector} * g.sector_size, g.sector_size, info);
  }
  return WriteAt(fd, reserved, partition_offset_bytes);
}

}  // namespace disk

#include "disk/ext4.h"

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include <blkid/blkid.h>
#include <ext2fs/ext2fs.h>  // brings com_err.h and ext2_err.h, inside extern "C"

#include "base/base.h"

// s_mkfs_time, s_wtime and inode times are taken from fs->now, and 0 is an
// honest "unknown" only when this flag says fs->now is meant (e2fsprogs 1.47.1).
#ifndef EXT2_FLAG2_USE_FAKE_TIME
#error "libext2fs from e2fsprogs 1.47.1 or later is needed (EXT2_FLAG2_USE_FAKE_TIME)"
#endif

namespace disk {
namespace {

using base::ErrorKind;

constexpr std::uint64_t kZapBytes = 64 * 1024;     // zeroed at the start: boot sectors, old superblocks
constexpr std::uint64_t kDiscardStep = 2ull << 30;  // mke2fs's DISCARD_STEP_MB
constexpr int kFlexBgLog = 4;                       // flex_bg_size 16, mke2fs's default
constexpr int kInodeSize = 256;
constexpr double kReservedPercent = 5.0;

std::unexpected<base::Error> FailWithHint(ErrorKind kind, std::string message, std::string hint) {
  return base::Fail(base::Error(kind, std::move(message)).Hint(std::move(hint)));
}

// A libext2fs failure, with com_err's text for the code. Codes below 256 are
// errno values; the rest are libext2fs's own.
base::Error Ext2Error(errcode_t code, const std::string& what) {
  int sys_errno = code > 0 && code < 256 ? static_cast<int>(code) : 0;
  return base::Error(ErrorKind::kDisk, what + ": " + error_message(code), sys_errno);
}

std::unexpected<base::Error> Ext2Fail(errcode_t code, const std::string& what) {
  return base::Fail(
      Ext2Error(code, what).Hint("look for I/O errors in the kernel log (dmesg): the disk may be failing"));
}

struct FsFree {
  void operator()(ext2_filsys fs) const { ext2fs_free(fs); }  // drops unwritten state: only Close writes it
};
using FsHandle = std::unique_ptr<struct_ext2_filsys, FsFree>;

struct ProbeFree {
  void operator()(blkid_probe probe) const { blkid_free_probe(probe); }
};

[[nodiscard]] base::Result<std::array<unsigned char, 16>> ParseUuid(const std::string& text) {
  std::array<unsigned char, 16> out{};
  auto bad = [&](std::string why) {
    return FailWithHint(ErrorKind::kUsage, "filesystem UUID \"" + text + "\" " + why,
                        "give a UUID as 36 characters of text, e.g. 0fc63daf-8483-4772-8e79-3d69d8477de4");
  };
  if (text.size() != 36) return bad("is not 36 characters long");
  std::size_t byte = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return bad("lacks a '-' at position " + std::to_string(i + 1));
      continue;
    }
    char c = text[i];
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) return bad("has a character that is not hexadecimal at position " + std::to_string(i + 1));
    out[byte / 2] = static_cast<unsigned char>(out[byte / 2] | (byte % 2 ? v : v << 4));
    ++byte;
  }
  if (out == std::array<unsigned char, 16>{}) return bad("is the nil UUID, which names no filesystem");
  return out;
}

[[nodiscard]] base::Result<void> CheckOptions(const Ext4Options& options) {
  if (options.label.size() > sizeof(ext2_super_block::s_volume_name)) {
    return FailWithHint(ErrorKind::kUsage,
                        "ext4 label \"" + options.label + "\" is " + std::to_string(options.label.size()) +
                            " bytes long; ext4 holds at most 16",
                        "choose a label of at most 16 bytes");
  }
  if (options.label.find('\0') != std::string::npos) {
    return FailWithHint(ErrorKind::kUsage, "the ext4 label contains a NUL byte", "choose a label of printable text");
  }
  if (options.block_size != 1024 && options.block_size != 2048 && options.block_size != 4096) {
    return FailWithHint(ErrorKind::kUsage,
                        "ext4 block size " + std::to_string(options.block_size) + " is not supported",
                        "use 4096 (or 1024 or 2048)");
  }
  RETURN_IF_ERROR(ParseUuid(options.uuid));
  return {};
}

// mke2fs's usage types by size (mke2fs.conf: small, floppy, big, huge): bytes per inode.
std::uint32_t InodeRatio(std::uint64_t bytes, std::uint32_t block_size) {
  constexpr std::uint64_t kMiB = 1ull << 20;
  std::uint32_t ratio = bytes < 3 * kMiB ? 8192 : bytes < 512 * kMiB ? 4096 : bytes < (4ull << 40) ? 16384
                        : bytes < (16ull << 40) ? 32768 : 65536;
  return ratio < block_size ? block_size : ratio;
}

// The superblock parameters mke2fs derives from Debian 12's mke2fs.conf for "-t ext4".
ext2_super_block Parameters(std::uint64_t blocks, std::uint32_t block_size) {
  ext2_super_block p{};
  p.s_rev_level = EXT2_DYNAMIC_REV;
  p.s_log_block_size = static_cast<__u32>(std::countr_zero(block_size >> EXT2_MIN_BLOCK_LOG_SIZE));
  p.s_log_cluster_size = p.s_log_block_size;
  p.s_inode_size = kInodeSize;
  p.s_log_groups_per_flex = kFlexBgLog;
  p.s_desc_size = EXT2_MIN_DESC_SIZE_64BIT;
  // [defaults] base_features, then [fs_types] ext4's features.
  ext2fs_set_feature_sparse_super(&p);
  ext2fs_set_feature_large_file(&p);
  ext2fs_set_feature_filetype(&p);
  ext2fs_set_feature_resize_inode(&p);
  ext2fs_set_feature_dir_index(&p);
  ext2fs_set_feature_xattr(&p);
  ext2fs_set_feature_journal(&p);
  ext2fs_set_feature_extents(&p);
  ext2fs_set_feature_huge_file(&p);
  ext2fs_set_feature_flex_bg(&p);
  ext2fs_set_feature_metadata_csum(&p);
  ext2fs_set_feature_64bit(&p);
  ext2fs_set_feature_dir_nlink(&p);
  ext2fs_set_feature_extra_isize(&p);
  // Reserved GDT blocks address at most 2^32 blocks: mke2fs drops resize_inode beyond.
  if (blocks > 0xFFFFFFFFull) ext2fs_clear_feature_resize_inode(&p);
  p.s_default_mount_opts = EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL;  // default_mntopts = acl,user_xattr
  ext2fs_blocks_count_set(&p, blocks);
  std::uint64_t inodes = blocks * block_size / InodeRatio(blocks * block_size, block_size);
  p.s_inodes_count = static_cast<__u32>(std::min<std::uint64_t>(inodes, 0xFFFFFFFFull));
  ext2fs_r_blocks_count_set(&p, static_cast<blk64_t>(kReservedPercent * static_cast<double>(blocks) / 100.0));
  return p;
}

// The directory-hash seed: private to the filesystem in mke2fs (random), here
// derived from the UUID so equal inputs give equal bytes.
void SetHashSeed(ext2_filsys fs) {
  static constexpr char kDomain[] = "bootrino ext4 s_hash_seed";
  unsigned char in[sizeof(kDomain) - 1 + 16];
  std::memcpy(in, kDomain, sizeof(kDomain) - 1);
  std::memcpy(in + sizeof(kDomain) - 1, fs->super->s_uuid, 16);
  unsigned char digest[EXT2FS_SHA512_LENGTH];
  ext2fs_sha512(in, sizeof(in), digest);
  std::memcpy(fs->super->s_hash_seed, digest, sizeof(fs->super->s_hash_seed));
  fs->super->s_def_hash_version = EXT2_HASH_HALF_MD4;
}

// What mke2fs does after ext2fs_initialize: identity, checks and counters.
void SetIdentity(ext2_filsys fs, const std::array<unsigned char, 16>& uuid, const std::string& label) {
  ext2_super_block* sb = fs->super;
  // Every timestamp libext2fs writes comes from fs->now.
  fs->now = 0;
  fs->flags2 |= EXT2_FLAG2_USE_FAKE_TIME;
  sb->s_mkfs_time = sb->s_lastcheck = 0;
  sb->s_mkfs_time_hi = sb->s_lastcheck_hi = 0;
  sb->s_kbytes_written = 1;  // mke2fs: counts from 1 for ext4 features
  std::memcpy(sb->s_uuid, uuid.data(), uuid.size());
  ext2fs_init_csum_seed(fs);
  SetHashSeed(fs);
  sb->s_max_mnt_count = -1;  // enable_periodic_fsck = 0
  sb->s_checkinterval = 0;
  std::memset(sb->s_volume_name, 0, sizeof(sb->s_volume_name));
  std::memcpy(sb->s_volume_name, label.data(), label.size());
  sb->s_checksum_type = EXT2_CRC32C_CHKSUM;
  // ext2fs_initialize picks the hash flavour by the signedness of char, which
  // differs between x86 and ARM; the kernel honours either, so fix x86's.
  sb->s_flags = (sb->s_flags & ~EXT2_FLAGS_UNSIGNED_HASH) | EXT2_FLAGS_SIGNED_HASH;
}

// Discards the whole filesystem, as mke2fs does first: an image file gets a
// hole (reads as zeros), a device BLKDISCARD, which may be unsupported.
// Returns whether every block now reads as zeros.
bool Discard(ext2_filsys fs) {
  blk64_t blocks = ext2fs_blocks_count(fs->super);
  blk64_t step = kDiscardStep / fs->blocksize;
  for (blk64_t cur = 0; cur < blocks; cur += step) {
    if (io_channel_discard(fs->io, cur, std::min(step, blocks - cur)) != 0) return false;
  }
  return io_channel_discard_zeroes_data(fs->io) != 0;
}

// Erases every filesystem, RAID and partition-table signature libblkid finds
// in [offset, offset + size), as `wipefs -a` would on that range.
[[nodiscard]] base::Result<void> WipeSignatures(const Disk& disk, std::uint64_t offset, std::uint64_t size) {
  const std::string& device = disk.name();
  std::unique_ptr<struct blkid_struct_probe, ProbeFree> probe(blkid_new_probe());
  if (!probe) return base::Fail(ErrorKind::kInternal, "blkid_new_probe: out of memory");
  if (blkid_probe_set_device(probe.get(), disk.fd().get(), static_cast<blkid_loff_t>(offset),
                             static_cast<blkid_loff_t>(size)) != 0) {
    return FailWithHint(ErrorKind::kDisk, "libblkid cannot probe " + device + " at offset " + std::to_string(offset),
                        "look for I/O errors in the kernel log (dmesg): the disk may be failing");
  }
  blkid_probe_enable_superblocks(probe.get(), 1);
  blkid_probe_set_superblocks_flags(probe.get(), BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_BADCSUM);
  blkid_probe_enable_partitions(probe.get(), 1);
  blkid_probe_set_partitions_flags(probe.get(), BLKID_PARTS_MAGIC);
  // Each wipe steps the probe back, so the next probe finds the next signature; a
  // bound guards against a signature that keeps being found.
  for (int i = 0; i < 256; ++i) {
    if (blkid_do_probe(probe.get()) != 0) return {};
    if (blkid_do_wipe(probe.get(), 0) != 0) {
      int err = errno;
      return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("wiping an old signature on", device, err), err)
                            .Hint("look for I/O errors in the kernel log (dmesg): the disk may be failing"));
    }
  }
  return FailWithHint(ErrorKind::kDisk, "libblkid still finds signatures on " + device + " after 256 wipes",
                      "erase the partition's first and last MiB by hand (wipefs -a), then run bootrino again");
}

[[nodiscard]] base::Result<void> ZeroBlocks(ext2_filsys fs, blk64_t first, blk64_t count, const char* what) {
  while (count > 0) {
    int n = static_cast<int>(std::min<blk64_t>(count, 1u << 30));
    blk64_t bad = 0;
    int bad_count = 0;
    if (errcode_t e = ext2fs_zero_blocks2(fs, first, n, &bad, &bad_count)) {
      return Ext2Fail(e, std::string("zeroing ") + what + " at block " + std::to_string(bad));
    }
    first += n;
    count -= n;
  }
  return {};
}

// mke2fs: the first 64 KiB (boot sectors, other filesystems' superblocks) and
// the end (MD RAID superblocks) hold nothing of the new filesystem yet.
[[nodiscard]] base::Result<void> ZeroEdges(ext2_filsys fs) {
  blk64_t blocks = ext2fs_blocks_count(fs->super);
  RETURN_IF_ERROR(ZeroBlocks(fs, 0, kZapBytes / fs->blocksize, "the start"));
  blk64_t rsv = kZapBytes / fs->blocksize;
  blk64_t start = blocks & ~(rsv - 1);
  if (start > rsv) start -= rsv;
  if (start > 0) RETURN_IF_ERROR(ZeroBlocks(fs, start, blocks - start, "the end"));
  return {};
}

// mke2fs's write_inode_tables with lazy_itable_init: only the part of each
// table in use is written; the kernel zeroes the rest after mount unless the
// discard already did.
[[nodiscard]] base::Result<void> WriteInodeTables(ext2_filsys fs, bool zeroed) {
  for (dgrp_t g = 0; g < fs->group_desc_count; ++g) {
    if (zeroed) {
      ext2fs_bg_flags_set(fs, g, EXT2_BG_INODE_ZEROED);
      ext2fs_group_desc_csum_set(fs, g);
      continue;
    }
    blk64_t used = ext2fs_div_ceil(
        (fs->super->s_inodes_per_group - ext2fs_bg_itable_unused(fs, g)) * EXT2_INODE_SIZE(fs->super), fs->blocksize);
    RETURN_IF_ERROR(ZeroBlocks(fs, ext2fs_inode_table_loc(fs, g), used, "an inode table"));
  }
  ext2fs_zero_blocks2(nullptr, 0, 0, nullptr, nullptr);  // frees libext2fs's static zero buffer
  // Reserved inodes must always carry valid checksums (metadata_csum).
  std::string zero(EXT2_INODE_SIZE(fs->super), '\0');
  for (ext2_ino_t ino = 1; ino < EXT2_FIRST_INO(fs->super); ++ino) {
    if (errcode_t e = ext2fs_write_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(zero.data()),
                                              static_cast<int>(zero.size()))) {
      return Ext2Fail(e, "writing reserved inode " + std::to_string(ino));
    }
  }
  return {};
}

// mke2fs's create_root_dir, create_lost_and_found, reserve_inodes and
// create_bad_block_inode; lost+found gets 16 KiB so e2fsck never has to grow it.
[[nodiscard]] base::Result<void> MakeDirectories(ext2_filsys fs) {
  if (errcode_t e = ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, nullptr)) return Ext2Fail(e, "creating /");
  fs->umask = 077;
  static constexpr char kLostFound[] = "lost+found";
  if (errcode_t e = ext2fs_mkdir(fs, EXT2_ROOT_INO, 0, kLostFound)) return Ext2Fail(e, "creating /lost+found");
  ext2_ino_t ino = 0;
  if (errcode_t e = ext2fs_lookup(fs, EXT2_ROOT_INO, kLostFound, sizeof(kLostFound) - 1, nullptr, &ino)) {
    return Ext2Fail(e, "looking up /lost+found");
  }
  unsigned size = 0;
  for (int i = 1; i < EXT2_NDIR_BLOCKS; ++i) {
    if ((size += fs->blocksize) >= 16 * 1024 && size >= 2 * fs->blocksize) break;
    if (errcode_t e = ext2fs_expand_dir(fs, ino)) return Ext2Fail(e, "expanding /lost+found");
  }
  for (ext2_ino_t i = EXT2_ROOT_INO + 1; i < EXT2_FIRST_INODE(fs->super); ++i) {
    ext2fs_inode_alloc_stats2(fs, i, +1, 0);  // the reserved inodes 3-10
  }
  ext2fs_mark_ib_dirty(fs);
  ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
  ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
  if (errcode_t e = ext2fs_update_bb_inode(fs, nullptr)) return Ext2Fail(e, "writing the bad-block inode");
  if (ext2fs_has_feature_resize_inode(fs->super)) {
    if (errcode_t e = ext2fs_create_resize_inode(fs)) return Ext2Fail(e, "reserving blocks for online resize");
  }
  return {};
}

// Lays out everything but the journal on an initialised handle.
[[nodiscard]] base::Result<blk64_t> Build(ext2_filsys fs, const Disk& disk, std::uint64_t offset,
                                          bool discard, bool* zeroed) {
  *zeroed = discard && Discard(fs);
  RETURN_IF_ERROR(WipeSignatures(disk, offset, ext2fs_blocks_count(fs->super) * fs->blocksize));
  if (!*zeroed) RETURN_IF_ERROR(ZeroEdges(fs));
  fs->stride = fs->super->s_raid_stride;
  if (errcode_t e = ext2fs_allocate_tables(fs)) return Ext2Fail(e, "allocating the group tables");
  if (errcode_t e = ext2fs_convert_subcluster_bitmap(fs, &fs->block_map)) {
    return Ext2Fail(e, "converting the block bitmap");
  }
  blk64_t overhead = 0;
  if (errcode_t e = ext2fs_count_used_clusters(fs, fs->super->s_first_data_block,
                                               ext2fs_blocks_count(fs->super) - 1, &overhead)) {
    return Ext2Fail(e, "counting the metadata blocks");
  }
  RETURN_IF_ERROR(WriteInodeTables(fs, *zeroed));
  RETURN_IF_ERROR(MakeDirectories(fs));
  return overhead;
}

// Checks that the range lies within the device and suits ext4; returns its size in blocks.
[[nodiscard]] base::Result<std::uint64_t> CheckRange(const Disk& disk, std::uint64_t offset, std::uint64_t size,
                                                     std::uint32_t bs) {
  const std::string& device = disk.name();
  const std::uint64_t disk_bytes = disk.bytes();
  if (size > disk_bytes || offset > disk_bytes - size) {
    return FailWithHint(ErrorKind::kDisk,
                        "the filesystem's " + std::to_string(size) + " bytes end past the end of " + device + " (" +
                            std::to_string(disk_bytes) + " bytes)",
                        "the layout was planned for another disk size: plan it again for this disk");
  }
  if (disk.sector_size() > bs) {
    return FailWithHint(ErrorKind::kDisk,
                        "the block size " + std::to_string(bs) + " is smaller than the device's " +
                            std::to_string(disk.sector_size()) + "-byte sectors",
                        "use a block size of 4096");
  }
  const std::uint64_t blocks = size / bs;
  if (blocks < 2048) {  // ext2fs_default_journal_size: no journal below 2048 blocks
    return FailWithHint(ErrorKind::kDisk, std::to_string(size) + " bytes is too small for ext4 with a journal",
                        "make the data partition at least " + std::to_string(2048 * bs / 1024) + " KiB");
  }
  if (blocks >> (std::countr_zero(bs) + 3 + 32)) {  // mke2fs: block group count must fit in 32 bits
    return FailWithHint(ErrorKind::kDisk, std::to_string(size) + " bytes is too large for ext4",
                        "make the data partition smaller");
  }
  return blocks;
}

// ext2fs_initialize with Debian's parameters; reads and writes nothing yet.
[[nodiscard]] base::Result<FsHandle> Initialize(const Disk& disk, std::uint64_t offset, std::uint64_t blocks,
                                                std::uint32_t bs) {
  ext2_super_block param = Parameters(blocks, bs);
  // libext2fs's unixfd manager takes a descriptor by its number and closes it
  // with the handle: it gets a duplicate of the disk's, the same open file
  // (and lock), so nothing is opened by name. It owns the duplicate from its
  // open on; only an allocation failing before that (ENOMEM) would leak it.
  // Not O_EXCL and no mount check: the takeover writes the disk while its old
  // filesystems are still mounted, frozen (disk/quiesce.h).
  const int fd = fcntl(disk.fd().get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    return base::Fail(base::Error(ErrorKind::kDisk, base::SysMessage("dup", disk.name(), err), err)
                          .Hint("raise the limit on open files (ulimit -n) and run again"));
  }
  const std::string fd_name = std::to_string(fd);
  ext2_filsys raw = nullptr;
  if (errcode_t e = ext2fs_initialize(fd_name.c_str(), EXT2_FLAG_64BITS, &param, unixfd_io_manager, &raw)) {
    return Ext2Fail(e, "setting up the superblock");
  }
  FsHandle fs(raw);
  std::string option = "offset=" + std::to_string(offset);
  if (errcode_t e = io_channel_set_options(fs->io, option.c_str())) return Ext2Fail(e, option);
  return fs;
}

// The default journal (mke2fs's size for the filesystem's size), placed in the
// middle. A journal over stale blocks could replay them after a crash (they may
// even carry valid checksums: the UUID comes from a seed that a reinstall may
// repeat), so it is zeroed unless the discard zeroed it already. Returns its
// size in clusters.
[[nodiscard]] base::Result<blk64_t> AddJournal(ext2_filsys fs, bool zeroed) {
  ext2fs_journal_params journal{};
  if (errcode_t e = ext2fs_get_journal_params(&journal, fs)) return Ext2Fail(e, "sizing the journal");
  int flags = EXT2_MKJOURNAL_NO_MNT_CHECK | (zeroed ? EXT2_MKJOURNAL_LAZYINIT : 0);
  if (errcode_t e = ext2fs_add_journal_inode3(fs, &journal, ~0ULL, flags)) return Ext2Fail(e, "creating the journal");
  return EXT2FS_NUM_B2C(fs, journal.num_journal_blocks + journal.num_fc_blocks);
}

// libext2fs keeps static state (its zeroing buffer) and com_err a global table.
std::mutex ext4_mutex;
std::once_flag error_table_once;

}  // namespace

base::Result<void> MakeExt4(const Disk& disk, std::uint64_t offset_bytes, std::uint64_t size_bytes,
                            const Ext4Options& options) {
  std::lock_guard lock(ext4_mutex);
  std::call_once(error_table_once, [] { initialize_ext2_error_table(); });
  RETURN_IF_ERROR(CheckOptions(options));
  ASSIGN_OR_RETURN(auto uuid, ParseUuid(options.uuid));
  const std::string where = "making ext4 on " + disk.name() + " at byte " + std::to_string(offset_bytes);
  ASSIGN_OR_RETURN(std::uint64_t blocks,
                   WithContext(CheckRange(disk, offset_bytes, size_bytes, options.block_size), where));
  ASSIGN_OR_RETURN(FsHandle fs, WithContext(Initialize(disk, offset_bytes, blocks, options.block_size), where));
  // Nothing has been written yet; from here on only the range is.
  SetIdentity(fs.get(), uuid, options.label);

  bool zeroed = false;
  ASSIGN_OR_RETURN(blk64_t overhead, WithContext(Build(fs.get(), disk, offset_bytes, options.discard, &zeroed),
                                                 where));
  ASSIGN_OR_RETURN(blk64_t journal, WithContext(AddJournal(fs.get(), zeroed), where));
  fs->super->s_overhead_clusters = static_cast<__u32>(overhead + journal + fs->super->s_first_data_block);

  ext2_filsys raw = fs.release();
  if (errcode_t e = ext2fs_close_free(&raw)) return Ext2Fail(e, where + ": writing the superblocks and bitmaps");
  return {};
}

}  // namespace disk

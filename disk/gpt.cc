#include "disk/gpt.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include <strings.h>

#include <libfdisk/libfdisk.h>
#include <uuid/uuid.h>

namespace disk {
namespace {

using base::ErrorKind;

// A GPT of 128 entries of 128 bytes (UEFI 2.10, 5.3): what every tool writes
// and what PlanLayout leaves room for.
constexpr std::uint64_t kEntries = 128;
constexpr std::uint64_t kEntryBytes = 128;
constexpr std::size_t kMaxNameUnits = 36;  // a GPT entry's name: 72 bytes of UTF-16LE

struct ContextUnref {
  void operator()(fdisk_context* p) const { fdisk_unref_context(p); }
};
struct PartitionUnref {
  void operator()(fdisk_partition* p) const { fdisk_unref_partition(p); }
};
struct ParttypeUnref {
  void operator()(fdisk_parttype* p) const { fdisk_unref_parttype(p); }
};
struct ScriptUnref {
  void operator()(fdisk_script* p) const { fdisk_unref_script(p); }
};
struct Free {
  void operator()(char* p) const { std::free(p); }
};
using Context = std::unique_ptr<fdisk_context, ContextUnref>;
using PartitionPtr = std::unique_ptr<fdisk_partition, PartitionUnref>;
using ParttypePtr = std::unique_ptr<fdisk_parttype, ParttypeUnref>;
using ScriptPtr = std::unique_ptr<fdisk_script, ScriptUnref>;

/// Where a GPT with 128 entries puts its usable area on a disk of `total` sectors.
struct GptArea {
  std::uint64_t total = 0;
  std::uint64_t first_usable = 0;  ///< after the protective MBR, the header and the entries
  std::uint64_t last_usable = 0;   ///< before the backup entries and the backup header (last sector)
};

GptArea AreaOf(const Layout& layout) {
  const std::uint64_t ss = layout.sector_size;
  const std::uint64_t entry_sectors = (kEntries * kEntryBytes + ss - 1) / ss;
  GptArea area;
  area.total = layout.disk_bytes / ss;
  area.first_usable = 2 + entry_sectors;
  area.last_usable = area.total >= 2 * area.first_usable ? area.total - area.first_usable : 0;
  return area;
}

/// UTF-16 code units of UTF-8 `text` (4-byte sequences become surrogate pairs).
std::size_t Utf16Units(std::string_view text) {
  std::size_t units = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    units += c >= 0xF0 ? 2 : 1;
  }
  return units;
}

bool IsGuid(const std::string& text) {
  uuid_t parsed;
  return text.size() == 36 && uuid_parse(text.c_str(), parsed) == 0;
}

std::unexpected<base::Error> LayoutBug(const std::string& message) {
  return base::Fail(base::Error(ErrorKind::kInternal, "inconsistent disk layout: " + message)
                        .Hint("this is a bug in bootrino's disk plan: report it with the output of --dry-run --json"));
}

base::Result<void> CheckPartition(const Partition& p, const GptArea& area) {
  const std::string what = "partition " + std::to_string(p.number) + " (" + p.name + ")";
  if (p.number < 1 || static_cast<std::uint64_t>(p.number) > kEntries) {
    return LayoutBug(what + ": the number must be 1 to " + std::to_string(kEntries));
  }
  if (p.first_lba > p.last_lba || p.first_lba < area.first_usable || p.last_lba > area.last_usable) {
    return LayoutBug(what + ": sectors " + std::to_string(p.first_lba) + "-" + std::to_string(p.last_lba) +
                     " are outside the GPT's usable sectors " + std::to_string(area.first_usable) + "-" +
                     std::to_string(area.last_usable));
  }
  if (!IsGuid(p.type_guid)) return LayoutBug(what + ": type \"" + p.type_guid + "\" is not a GUID");
  if (!IsGuid(p.uuid)) return LayoutBug(what + ": unique GUID \"" + p.uuid + "\" is not a GUID");
  if (Utf16Units(p.name) > kMaxNameUnits) {
    return LayoutBug(what + ": the name is longer than a GPT entry's " + std::to_string(kMaxNameUnits) +
                     " UTF-16 characters");
  }
  return {};
}

base::Result<void> CheckLayout(const Layout& layout) {
  if (layout.sector_size != 512 && layout.sector_size != 4096) {
    return LayoutBug("sector size " + std::to_string(layout.sector_size) + " (512 or 4096 expected)");
  }
  const GptArea area = AreaOf(layout);
  if (area.last_usable < area.first_usable) {
    return LayoutBug("a disk of " + std::to_string(layout.disk_bytes) + " bytes cannot hold a GPT");
  }
  if (!IsGuid(layout.disk_guid)) return LayoutBug("disk GUID \"" + layout.disk_guid + "\" is not a GUID");
  RETURN_IF_ERROR(CheckPartition(layout.boot, area));
  RETURN_IF_ERROR(CheckPartition(layout.data, area));
  if (layout.boot.number == layout.data.number) {
    return LayoutBug("boot and data are both partition " + std::to_string(layout.boot.number));
  }
  if (layout.boot.first_lba <= layout.data.last_lba && layout.data.first_lba <= layout.boot.last_lba) {
    return LayoutBug("the boot and data partitions overlap");
  }
  return {};
}

/// Keeps libfdisk's last warning so that errors can say what it objected to;
/// libfdisk prints nothing itself when it has a callback.
int KeepWarning(fdisk_context*, fdisk_ask* ask, void* data) noexcept {
  const int type = fdisk_ask_get_type(ask);
  if (type != FDISK_ASKTYPE_WARN && type != FDISK_ASKTYPE_WARNX) return 0;
  const char* message = fdisk_ask_print_get_mesg(ask);
  try {
    *static_cast<std::string*>(data) = message ? message : "";
  } catch (...) {  // out of memory: the error goes without libfdisk's detail
  }
  return 0;
}

constexpr const char* kNothingWritten =
    "nothing was written; check that the device is the disk the layout was planned for";

/// An error for a failed libfdisk call returning -errno (or a positive count of problems).
base::Error FdiskError(const std::string& what, int rc, std::string& warning, std::string hint = kNothingWritten) {
  std::string message = what + ": ";
  message += rc < 0 ? std::strerror(-rc) : std::to_string(rc) + " problem(s) found";
  if (!warning.empty()) message += " (libfdisk: " + warning + ")";
  warning.clear();
  return std::move(base::Error(ErrorKind::kDisk, message, rc < 0 ? -rc : 0).Hint(std::move(hint)));
}

base::Result<void> AddPartition(fdisk_context* cxt, const Partition& p, std::string& warning) {
  const std::string what = "adding partition " + std::to_string(p.number) + " (" + p.name + ")";
  PartitionPtr pa(fdisk_new_partition());
  ParttypePtr type(fdisk_label_parse_parttype(fdisk_get_label(cxt, "gpt"), p.type_guid.c_str()));
  if (!pa || !type) return base::Fail(FdiskError(what, -ENOMEM, warning));
  const std::size_t partno = static_cast<std::size_t>(p.number - 1);
  int rc = fdisk_partition_set_partno(pa.get(), partno);
  if (rc == 0) rc = fdisk_partition_set_start(pa.get(), p.first_lba);
  if (rc == 0) rc = fdisk_partition_set_size(pa.get(), p.Sectors());
  if (rc == 0) rc = fdisk_partition_size_explicit(pa.get(), 1);  // exactly this size, not rounded to the grain
  if (rc == 0) rc = fdisk_partition_set_type(pa.get(), type.get());
  if (rc == 0) rc = fdisk_partition_set_uuid(pa.get(), p.uuid.c_str());
  if (rc == 0) rc = fdisk_partition_set_name(pa.get(), p.name.c_str());
  if (rc == 0) rc = fdisk_add_partition(cxt, pa.get(), nullptr);
  // Any 64 bits, set as a number: libfdisk's attribute strings name only some of them.
  if (rc == 0) rc = fdisk_gpt_set_partition_attrs(cxt, partno, p.attributes);
  if (rc != 0) return base::Fail(FdiskError(what, rc, warning));
  return {};
}

/// Creates the in-memory GPT: the disk GUID, the first usable LBA and the
/// table length come from a libfdisk script header, as with `sfdisk`, so
/// neither a random GUID nor the device's I/O topology enters the table.
base::Result<void> CreateLabel(fdisk_context* cxt, const Layout& layout, std::string& warning) {
  ScriptPtr script(fdisk_new_script(cxt));
  if (!script) return base::Fail(FdiskError("creating a GPT", -ENOMEM, warning));
  const std::string first_lba = std::to_string(AreaOf(layout).first_usable), entries = std::to_string(kEntries);
  int rc = fdisk_script_set_header(script.get(), "label-id", layout.disk_guid.c_str());
  if (rc == 0) rc = fdisk_script_set_header(script.get(), "first-lba", first_lba.c_str());
  if (rc == 0) rc = fdisk_script_set_header(script.get(), "table-length", entries.c_str());
  if (rc == 0) rc = fdisk_set_script(cxt, script.get());
  if (rc == 0) {
    rc = fdisk_create_disklabel(cxt, "gpt");
    fdisk_set_script(cxt, nullptr);
  }
  if (rc != 0) return base::Fail(FdiskError("creating a GPT", rc, warning));

  // libfdisk falls back to a random GUID for a label-id it cannot parse: make sure it took ours.
  char* raw_id = nullptr;
  rc = fdisk_get_disklabel_id(cxt, &raw_id);
  std::unique_ptr<char, Free> id(raw_id);
  if (rc != 0 || !id || ::strcasecmp(id.get(), layout.disk_guid.c_str()) != 0) {
    return LayoutBug("libfdisk did not take disk GUID " + layout.disk_guid);
  }
  return {};
}

/// The device must be the disk the layout was planned for: same logical sector size, same size.
base::Result<void> CheckDevice(fdisk_context* cxt, const std::string& device, const Layout& layout) {
  const unsigned long sector = fdisk_get_sector_size(cxt);
  if (sector != layout.sector_size) {
    return base::Fail(base::Error(ErrorKind::kDisk, device + " has " + std::to_string(sector) +
                                                        "-byte logical sectors, the layout was planned for " +
                                                        std::to_string(layout.sector_size) + "-byte sectors")
                          .Hint("plan the layout for this disk; nothing was written"));
  }
  const std::uint64_t have = fdisk_get_nsectors(cxt), want = AreaOf(layout).total;
  if (have != want) {
    const std::string sizes = device + " holds " + std::to_string(have) + " sectors of " + std::to_string(sector) +
                              " bytes, the layout was planned for a disk of " + std::to_string(want) + " sectors";
    return base::Fail(base::Error(ErrorKind::kDisk, have < want ? "the layout does not fit: " + sizes
                                                                : "the disk is larger than planned: " + sizes)
                          .Hint("plan the layout for this disk (its size is not the one planned for); "
                                "nothing was written"));
  }
  return {};
}

}  // namespace

base::Result<void> WritePartitionTable(const Disk& disk, const Layout& layout) {
  RETURN_IF_ERROR(CheckLayout(layout));
  const std::string& device = disk.name();

  std::string warning;
  Context cxt(fdisk_new_context());
  if (!cxt) return base::Fail(FdiskError("writing a GPT to " + device, -ENOMEM, warning));
  fdisk_set_ask(cxt.get(), KeepWarning, &warning);
  fdisk_disable_dialogs(cxt.get(), 1);               // never ask: a question fails the call instead
  fdisk_enable_bootbits_protection(cxt.get(), 0);    // a protective MBR with zeroed boot code
  // An image file has no sector size of its own: it has the one its handle was given.
  if (!disk.block_device()) fdisk_save_user_sector_size(cxt.get(), disk.sector_size(), disk.sector_size());
  // The handle's descriptor, which the context neither reopens nor closes.
  int rc = fdisk_assign_device_by_fd(cxt.get(), disk.fd().get(), device.c_str(), 0);
  if (rc != 0) return base::Fail(FdiskError("reading " + device, rc, warning));
  RETURN_IF_ERROR(CheckDevice(cxt.get(), device, layout));

  // Old partition-table, filesystem and RAID signatures go, wherever libblkid finds them on the whole disk.
  fdisk_enable_wipe(cxt.get(), 1);
  RETURN_IF_ERROR(base::WithContext(CreateLabel(cxt.get(), layout, warning), device));
  RETURN_IF_ERROR(base::WithContext(AddPartition(cxt.get(), layout.boot, warning), device));
  RETURN_IF_ERROR(base::WithContext(AddPartition(cxt.get(), layout.data, warning), device));
  rc = fdisk_verify_disklabel(cxt.get());
  if (rc != 0) return base::Fail(FdiskError("checking the new GPT for " + device, rc, warning));

  // The first write: the wipe, then protective MBR, both headers and both entry arrays.
  rc = fdisk_write_disklabel(cxt.get());
  if (rc != 0) {
    return base::Fail(FdiskError("writing the GPT to " + device, rc, warning,
                                 "the partition table may be half-written: run again, or wipe the disk"));
  }
  rc = fdisk_deassign_device(cxt.get(), 1);  // fsync(2) of this device only, no global sync(2)
  if (rc != 0) {
    return base::Fail(FdiskError("flushing the GPT to " + device, rc, warning,
                                 "the device may be failing: check the kernel log"));
  }
  return {};
}

}  // namespace disk

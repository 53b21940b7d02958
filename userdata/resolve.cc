// Resolve: the search for user-data on this host, in the order cloud-init's
// own files, NoCloud seeds, a config drive, then the metadata services, and the
// merge of what the platform says (SSH keys, hostname) into the parsed Config.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <sstream>

#include <blkid/blkid.h>

#include "base/base.h"
#include "userdata/config.h"
#include "userdata/http.h"
#include "userdata/instance_data.h"
#include "userdata/metadata.h"
#include "userdata/reader_util.h"

namespace userdata {
namespace {

namespace fs = std::filesystem;
using base::ErrorKind;

struct Found {
  std::string bytes;
  std::string source;
};

fs::path Under(const std::string& root, std::string_view absolute) {
  return fs::path(root.empty() ? "/" : root) / fs::path(absolute).relative_path();
}

// A user-data file: nullopt when it is absent or empty (noted), an error when unreadable.
base::Result<std::optional<Found>> ReadCandidate(const fs::path& path, const std::string& shown,
                                                 std::vector<std::string>& notes) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  auto bytes = base::ReadFile(path.string(), kMaxUserDataBytes);
  if (!bytes) {
    return base::Fail(base::Error(ErrorKind::kUsage, "cannot read user-data " + shown + ": " + bytes.error().message())
                          .Hint("user-data is at most 16 MiB; run as root so cloud-init's files can be read"));
  }
  if (bytes->empty()) {
    notes.push_back(shown + " is empty");
    return std::nullopt;
  }
  return Found{std::move(*bytes), shown};
}

struct BlockMount {
  dev_t device;
  std::string mount_point;
};

// The mounts of a whole block-device file system in mountinfo, in its order: the
// device number the kernel mounted (0:N for tmpfs, FUSE, overlay and every other
// file system with no block device), and the directory of that file system mounted
// ("/" unless a bind mount of a subdirectory). The source is not read: whoever
// mounts a FUSE file system chooses it, "/dev/sr0" included.
std::vector<BlockMount> BlockMounts(const std::string& root) {
  std::vector<BlockMount> mounts;
  auto text = base::ReadFile(Under(root, "/proc/self/mountinfo").string(), 1 << 22);
  if (!text) return mounts;
  for (const base::MountEntry& m : base::ParseMountinfo(*text)) {
    if (m.major == 0 || m.root != "/") continue;
    mounts.push_back({makedev(m.major, m.minor), m.mount_point});
  }
  return mounts;
}

// The device node of block device `device`, as the kernel names it in sysfs
// (DEVNAME=sr0 → /dev/sr0, a path under `root`), when that node is this very
// device: a block device whose st_rdev is `device`.
std::optional<std::string> BlockDeviceNode(const std::string& root, dev_t device) {
  const std::string id = std::to_string(major(device)) + ":" + std::to_string(minor(device));
  auto uevent = base::ReadFile(Under(root, "/sys/dev/block/" + id + "/uevent").string(), 4096);
  if (!uevent) return std::nullopt;
  std::istringstream lines(*uevent);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("DEVNAME=")) continue;
    const std::string name = line.substr(8);
    if (name.empty() || name.find("..") != std::string::npos) return std::nullopt;
    const std::string node = "/dev/" + name;
    struct stat st {};
    if (stat(Under(root, node).c_str(), &st) != 0 || !S_ISBLK(st.st_mode) || st.st_rdev != device) return std::nullopt;
    return node;
  }
  return std::nullopt;
}

struct ProbeFree {
  void operator()(blkid_probe probe) const { blkid_free_probe(probe); }
};

struct FileSystem {
  std::string label;
  std::string type;  ///< libblkid's name: "vfat", "iso9660", "ext4"…
};

// The file system libblkid finds at `path` (a block device or an image file); empty when there is none, or
// signatures that disagree.
FileSystem ProbeFileSystem(const std::string& path) {
  // O_RDONLY probe of the superblock only: what `blkid -s LABEL -s TYPE` reads.
  std::unique_ptr<struct blkid_struct_probe, ProbeFree> probe(blkid_new_probe_from_filename(path.c_str()));
  if (!probe) return {};
  blkid_probe_enable_superblocks(probe.get(), 1);
  blkid_probe_set_superblocks_flags(probe.get(), BLKID_SUBLKS_LABEL | BLKID_SUBLKS_TYPE);
  if (blkid_do_safeprobe(probe.get()) != 0) return {};  // nothing, or ambivalent signatures
  FileSystem found;
  const char* value = nullptr;
  if (blkid_probe_lookup_value(probe.get(), "LABEL", &value, nullptr) == 0 && value) found.label = value;
  if (blkid_probe_lookup_value(probe.get(), "TYPE", &value, nullptr) == 0 && value) found.type = value;
  return found;
}

std::string FileSystemLabel(const std::string& path) { return ProbeFileSystem(path).label; }

// The labels cloud-init's ds-identify recognises a volume of each kind by.
bool IsCidataLabel(std::string_view label) { return label == "cidata" || label == "CIDATA"; }
bool IsConfigDriveLabel(std::string_view label) { return label == "config-2" || label == "CONFIG-2"; }

}  // namespace

bool HasCidataLabel(const std::string& path) { return IsCidataLabel(FileSystemLabel(path)); }
bool HasConfigDriveLabel(const std::string& path) { return IsConfigDriveLabel(FileSystemLabel(path)); }

namespace {

// The two kinds of seed volume, each found by its label.
enum class SeedKind { kCidata, kConfigDrive };
constexpr SeedKind kSeedKinds[] = {SeedKind::kCidata, SeedKind::kConfigDrive};

std::string KindLabel(SeedKind kind) { return kind == SeedKind::kCidata ? "cidata" : "config-2"; }
bool HasLabelOf(SeedKind kind, std::string_view label) {
  return kind == SeedKind::kCidata ? IsCidataLabel(label) : IsConfigDriveLabel(label);
}

// A seed volume's files are under `mount_point` (a path under Sources::root). `device` is set when bootrino
// mounted the volume itself, only for as long as it reads it: notes and sources name the device then.
struct SeedVolume {
  SeedKind kind;
  std::string mount_point;
  std::string device;  ///< "/dev/vdb"; "" when the volume was mounted already
};

// "/media/seed", or "the cidata volume /dev/vdb, mounted read-only by bootrino".
std::string Named(const SeedVolume& volume) {
  if (volume.device.empty()) return volume.mount_point;
  return "the " + KindLabel(volume.kind) + " volume " + volume.device + ", mounted read-only by bootrino";
}

// How notes and sources name `file` ("/user-data") on `volume`: its path, or where a directory bootrino
// removes again would say nothing, the file on the device.
std::string Shown(const SeedVolume& volume, const std::string& file) {
  if (volume.device.empty()) return volume.mount_point + file;
  return file.substr(1) + " on " + Named(volume);
}

// The file systems cloud-init reads a seed volume of either kind from.
bool IsSeedFileSystem(std::string_view type) { return type == "vfat" || type == "iso9660"; }

// The seed volumes, looked for when first needed. Where one is mounted: the first block-device mount whose
// device libblkid finds labelled cidata (NoCloud: cloud-localds) or config-2 (an OpenStack config drive), the
// device named by the kernel (its device number), never by a mount's source text. Where none of a kind is
// mounted (a golden image started without cloud-init: nobody mounted it) and bootrino runs as root: the first
// block device in sysfs with that label, mounted read-only as cloud-init would, on a fresh directory of
// bootrino's own, unmounted and removed when this goes, whichever way Resolve returns.
class SeedVolumes {
 public:
  SeedVolumes(std::string root, base::Sys& sys, std::vector<std::string>& notes)
      : root_(std::move(root)), sys_(sys), notes_(notes) {
    for (const BlockMount& mount : BlockMounts(root_)) {
      const std::optional<std::string> node = BlockDeviceNode(root_, mount.device);
      if (!node) continue;
      const std::string label = FileSystemLabel(Under(root_, *node).string());
      for (SeedKind kind : kSeedKinds) {
        if (!At(kind) && HasLabelOf(kind, label)) At(kind) = SeedVolume{kind, mount.mount_point, ""};
      }
    }
  }
  ~SeedVolumes() {
    for (const OwnMount& own : own_) {
      if (own.mounted) sys_.Unmount(Under(root_, own.dir).string());
      std::error_code ec;
      fs::remove(Under(root_, own.dir), ec);  // only the empty directory: never what a mount still shows
    }
  }
  SeedVolumes(const SeedVolumes&) = delete;
  SeedVolumes& operator=(const SeedVolumes&) = delete;

  // The volume of `kind`, mounted; nullptr when there is none, or it could not be mounted (noted).
  const SeedVolume* Get(SeedKind kind) {
    if (!At(kind) && !tried_[static_cast<int>(kind)]) {
      tried_[static_cast<int>(kind)] = true;
      MountUnmounted(kind);
    }
    return At(kind) ? &*At(kind) : nullptr;
  }

 private:
  struct OwnMount {
    std::string dir;  ///< under root_
    bool mounted = false;
  };

  std::optional<SeedVolume>& At(SeedKind kind) { return volumes_[static_cast<int>(kind)]; }

  void MountUnmounted(SeedKind kind) {
    if (geteuid() != 0) {
      if (!said_not_root_) notes_.push_back("not root: a cidata or config-2 volume nobody mounted is not looked for");
      said_not_root_ = true;
      return;
    }
    std::error_code ec;
    std::vector<std::string> names;  // the kernel's block devices, in the order of their names
    for (const auto& entry : fs::directory_iterator(Under(root_, "/sys/class/block"), ec)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::optional<std::string> node = DeviceNodeOf(name);
      if (!node) continue;
      const FileSystem probed = ProbeFileSystem(Under(root_, *node).string());
      if (!HasLabelOf(kind, probed.label)) continue;
      if (!IsSeedFileSystem(probed.type)) {
        notes_.push_back("skipped " + *node + ", labelled " + probed.label + ": its file system is " + probed.type +
                         ", and cloud-init reads a " + KindLabel(kind) + " volume only from vfat or iso9660");
        continue;
      }
      Mount(kind, *node, probed.type);
      return;
    }
  }

  // The device node of the block device sysfs names `name` (its "dev" file: MAJOR:MINOR).
  std::optional<std::string> DeviceNodeOf(const std::string& name) {
    auto text = base::ReadFile(Under(root_, "/sys/class/block/" + name + "/dev").string(), 64);
    unsigned major_number = 0, minor_number = 0;
    if (!text || std::sscanf(text->c_str(), "%u:%u", &major_number, &minor_number) != 2) return std::nullopt;
    return BlockDeviceNode(root_, makedev(major_number, minor_number));
  }

  void Mount(SeedKind kind, const std::string& node, const std::string& type) {
    const std::string what = "the " + KindLabel(kind) + " volume " + node + " (" + type + ")";
    SeedVolume volume{kind, "", node};
    // A directory of bootrino's own, mode 0700, in RAM where there is /run: never one another process chose.
    int err = 0;
    for (const char* parent : {"/run", "/tmp"}) {
      std::string dir = Under(root_, std::string(parent) + "/bootrino-seed.XXXXXX").string();
      if (!mkdtemp(dir.data())) {
        err = errno;
        continue;
      }
      volume.mount_point = std::string(parent) + "/" + fs::path(dir).filename().string();
      break;
    }
    if (volume.mount_point.empty()) {
      notes_.push_back("could not mount " + what + ": no directory of its own in /run or /tmp (" + std::strerror(err) +
                       "); mount it read-only yourself (mount -r " + node + " /mnt) for bootrino to read it");
      return;
    }
    own_.push_back({volume.mount_point});
    if ((err = sys_.MountReadOnly(Under(root_, node).string(), Under(root_, volume.mount_point).string(), type))) {
      notes_.push_back("could not mount " + what + ": " + std::strerror(err) + "; mount it read-only yourself " +
                       "(mount -r " + node + " /mnt) for bootrino to read it");
      return;
    }
    own_.back().mounted = true;
    notes_.push_back(what + " was not mounted: bootrino mounted it read-only while it read it");
    At(kind) = std::move(volume);
  }

  std::string root_;
  base::Sys& sys_;
  std::vector<std::string>& notes_;
  std::optional<SeedVolume> volumes_[2];
  bool tried_[2] = {};
  bool said_not_root_ = false;
  std::vector<OwnMount> own_;
};

// Where a config drive keeps the instance's metadata and user-data (the "latest" version of OpenStack's layout).
const std::string kConfigDriveMetaData = "/openstack/latest/meta_data.json";
const std::string kConfigDriveUserData = "/openstack/latest/user_data";

base::Result<std::optional<Found>> FindOnDisk(const std::string& root, SeedVolumes& volumes,
                                              std::vector<std::string>& looked, std::vector<std::string>& notes) {
  std::vector<std::string> candidates = {"/var/lib/cloud/instance/user-data.txt"};
  std::error_code ec;
  std::vector<std::string> seeds;  // directory names, in cloud-init's order: nocloud, then nocloud-net
  for (const auto& entry : fs::directory_iterator(Under(root, "/var/lib/cloud/seed"), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("nocloud")) seeds.push_back(name);
  }
  std::sort(seeds.begin(), seeds.end());
  for (const std::string& name : seeds) candidates.push_back("/var/lib/cloud/seed/" + name + "/user-data");
  for (const std::string& path : candidates) {
    looked.push_back(path);
    ASSIGN_OR_RETURN(auto found, ReadCandidate(Under(root, path), path, notes));
    if (found) return found;
  }
  if (seeds.empty()) looked.push_back("/var/lib/cloud/seed/nocloud*/user-data");
  // The volumes last: one that is not mounted is mounted only when nothing above gave user-data.
  for (SeedKind kind : kSeedKinds) {
    const SeedVolume* volume = volumes.Get(kind);
    if (!volume) continue;
    const std::string file = kind == SeedKind::kCidata ? "/user-data" : kConfigDriveUserData;
    looked.push_back(Shown(*volume, file));
    ASSIGN_OR_RETURN(auto found, ReadCandidate(Under(root, volume->mount_point + file), looked.back(), notes));
    if (found) return found;
  }
  return std::nullopt;
}

// What the config drive `drive` says of the instance, from its meta_data.json; nullopt (noted) when that is
// missing, unreadable or not OpenStack's document.
std::optional<OpenStackMetaData> ReadConfigDrive(const std::string& root, const SeedVolume& drive,
                                                 std::vector<std::string>& notes) {
  const std::string shown = Shown(drive, kConfigDriveMetaData);
  auto text = base::ReadFile(Under(root, drive.mount_point + kConfigDriveMetaData).string(), 1 << 20);
  if (!text) {
    notes.push_back("skipped the config drive at " + Named(drive) + ": " + text.error().message());
    return std::nullopt;
  }
  std::string why_not;
  std::optional<OpenStackMetaData> meta = ParseOpenStackMetaData(*text, "config drive " + shown, why_not);
  if (!meta) notes.push_back("skipped the config drive at " + Named(drive) + ": " + shown + " is " + why_not);
  return meta;
}

// Which services to ask: the one of the cloud this host is identified as; with kAny, on a host identified
// as none, AWS's, GCP's and DigitalOcean's at once: the ones look-alike clouds imitate. The services with a
// protocol of their own (Azure, Oracle, Hetzner, OpenStack, Vultr, Linode…) are asked only where identified.
std::vector<Cloud> CloudsToAsk(const Sources& sources, const std::optional<Identity>& identity,
                               std::vector<std::string>& notes) {
  if (sources.metadata == MetadataPolicy::kNever) return {};
  if (identity) {
    notes.push_back("this host is " + std::string(CloudName(identity->cloud)) + " (" + identity->evidence +
                    "): only its metadata service is asked");
    return {identity->cloud};
  }
  if (sources.metadata == MetadataPolicy::kAny) {
    notes.push_back("this host is not identified as a cloud bootrino knows: the AWS, GCP and DigitalOcean metadata "
                    "services asked (--metadata any), and whoever answers 169.254.169.254 is believed");
    return {Cloud::kAws, Cloud::kGcp, Cloud::kDigitalOcean};
  }
  notes.push_back("this host is not identified as a cloud bootrino knows (by DMI, /sys/hypervisor/uuid or "
                  "cloud-init's /run/cloud-init): metadata services not asked (--metadata any asks them)");
  return {};
}

const std::string& BaseUrl(const Sources& sources, Cloud cloud) {
  switch (cloud) {
    case Cloud::kAws: return sources.aws_url;
    case Cloud::kGcp: return sources.gcp_url;
    case Cloud::kDigitalOcean: return sources.digitalocean_url;
    case Cloud::kAzure:
    case Cloud::kOracle:
    case Cloud::kHetzner:
    case Cloud::kOpenStack:
    case Cloud::kVultr:
    case Cloud::kLinode:
    case Cloud::kExoscale: return sources.other_url;
    case Cloud::kScaleway: return sources.scaleway_url;
  }
  return sources.aws_url;
}

// Asks every service in `clouds` at once (on a host without them each waits out
// its connect timeout: together that is one timeout, not three). The first in
// `clouds` order that answers wins.
base::Result<std::optional<Metadata>> AskServices(const Sources& sources, const std::vector<Cloud>& clouds, Http& http,
                                                  std::vector<std::string>& why_not) {
  struct Answer {
    base::Result<std::optional<Metadata>> result = std::nullopt;
    std::string why_not;
  };
  std::vector<std::future<Answer>> answers;
  for (Cloud cloud : clouds) {
    answers.push_back(std::async(std::launch::async, [&sources, &http, cloud] {
      Answer a;
      a.result = QueryMetadata(cloud, BaseUrl(sources, cloud), http, a.why_not);
      // An IPv6-only instance reaches IMDS at its IPv6 address only (on Nitro, where it is enabled).
      if (cloud == Cloud::kAws && a.result && !*a.result && !sources.aws_ipv6_url.empty()) {
        std::string why_not_v6;
        a.result = QueryMetadata(cloud, sources.aws_ipv6_url, http, why_not_v6);
        if (a.result && !*a.result) a.why_not += "; " + why_not_v6;
      }
      return a;
    }));
  }
  std::optional<Metadata> chosen;
  std::optional<base::Error> failure;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    Answer a = answers[i].get();  // every future is waited for before returning
    if (!a.result) {
      if (!chosen && !failure) failure = std::move(a.result).error();
    } else if (*a.result) {
      if (!chosen && !failure) chosen = std::move(**a.result);
    } else {
      why_not.push_back(std::string(CloudName(clouds[i])) + ": " + a.why_not);
    }
  }
  if (failure) return base::Fail(std::move(*failure));
  return chosen;
}

// Adds the keys `facts` gives that `config` has not yet (and the hostname, when `config` has none), each
// with where it came from, and the notes of what was skipped.
void AddFacts(const InstanceFacts& facts, const std::string& from, Config& config, std::vector<std::string>& notes) {
  for (const std::string& key : facts.ssh_keys) {
    if (std::find(config.ssh_keys.begin(), config.ssh_keys.end(), key) != config.ssh_keys.end()) continue;
    config.ssh_keys.push_back(key);
    config.ssh_key_from.push_back(from);
  }
  if (config.hostname.empty() && !facts.hostname.empty()) {
    config.hostname = facts.hostname;
    config.hostname_from = from;
  }
  notes.insert(notes.end(), facts.notes.begin(), facts.notes.end());
}

}  // namespace

std::optional<MetadataPolicy> MetadataPolicyFromName(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kMetadataPolicyNames); ++i) {
    if (kMetadataPolicyNames[i] == name) return static_cast<MetadataPolicy>(i);
  }
  return std::nullopt;
}

Sources HostSources() {
  Sources sources;
  // Only where the services are: whether they are asked stays `metadata`'s to say.
  if (const char* url = std::getenv("BOOTRINO_IMDS_URL"); url && *url) {
    sources.aws_url = sources.aws_ipv6_url = sources.gcp_url = sources.digitalocean_url = sources.other_url =
        sources.scaleway_url = url;
  }
  if (const char* root = std::getenv("BOOTRINO_USERDATA_ROOT"); root && *root) sources.root = root;
  return sources;
}

base::Result<Config> Resolve(const Sources& sources) {
  std::vector<std::string> notes, looked;
  std::optional<Found> found;
  SeedVolumes volumes(sources.root, sources.sys ? *sources.sys : base::RealSys(), notes);
  if (!sources.file.empty()) {
    ASSIGN_OR_RETURN(found, ReadCandidate(sources.file, sources.file, notes));
    if (!found && notes.empty()) {
      return base::Fail(base::Error(ErrorKind::kUsage, "user-data file " + sources.file + " does not exist")
                            .Hint("name an existing file"));
    }
    looked.push_back(sources.file);
  } else {
    ASSIGN_OR_RETURN(found, FindOnDisk(sources.root, volumes, looked, notes));
  }

  // When cloud-init ran, it has identified the platform and read its metadata already: its record is
  // believed, and no service is asked. Otherwise (a golden image's unit), a config drive's metadata (the
  // hypervisor attached it: cloud-init's ds-identify needs no more than its label), else the identified
  // cloud's service.
  std::optional<InstanceData> instance = ReadInstanceData(sources.root, notes);
  if (instance && instance->cloud_name == "none") {
    notes.push_back("cloud-init found no datasource (" + instance->path + " has cloud_name \"none\"): its record "
                    "says nothing of the platform");
    instance.reset();
  }
  std::vector<Cloud> clouds;
  std::optional<OpenStackMetaData> drive;
  const SeedVolume* drive_volume = nullptr;
  if (instance) {
    notes.push_back("cloud-init recorded this instance in " + instance->path + " (cloud_name \"" +
                    instance->cloud_name + "\"): its SSH keys and hostname are used, no metadata service is asked");
  } else if ((drive_volume = volumes.Get(SeedKind::kConfigDrive)) &&
             (drive = ReadConfigDrive(sources.root, *drive_volume, notes))) {
    const std::string where = drive_volume->device.empty() ? "mounted at " + drive_volume->mount_point
                                                           : Named(*drive_volume);
    notes.push_back("a config drive is " + where + " (instance " + drive->uuid +
                    "): its SSH keys and hostname are used, no metadata service is asked");
  } else {
    clouds = CloudsToAsk(sources, IdentifyCloud(sources.root), notes);
  }
  std::optional<Metadata> metadata;
  if (!clouds.empty()) {
    std::unique_ptr<Http> own_http;
    Http* http = sources.http;
    if (!http) {
      own_http = NewCurlHttp(sources.connect_timeout, sources.request_timeout);
      http = own_http.get();
    }
    std::vector<std::string> why_not;
    ASSIGN_OR_RETURN(metadata, AskServices(sources, clouds, *http, why_not));
    if (!metadata) notes.push_back("no metadata service answered (" + base::Join(why_not, "; ") + ")");
  }
  if (metadata && sources.file.empty()) {
    if (!found && metadata->user_data) found = Found{std::move(*metadata->user_data), metadata->user_data_url};
    if (!metadata->user_data) looked.push_back(metadata->user_data_url);
  }

  Config config;
  if (found) {
    auto parsed = Parse(found->bytes);
    if (!parsed && sources.strict) return base::Fail(std::move(parsed).error().Context("user-data from " + found->source));
    if (parsed) {
      config = std::move(*parsed);
      config.ssh_key_from.assign(config.ssh_keys.size(), found->source);
      if (!config.hostname.empty()) config.hostname_from = found->source;
    } else {
      config.user_data_error = std::move(parsed).error().Context("user-data from " + found->source);
    }
    config.source = found->source;
  } else {
    notes.push_back("no user-data in " + base::Join(looked, ", "));
  }
  if (instance) {
    config.cloud = CloudNameOfInstance(*instance);
    config.instance_data = instance->path;
    config.platform = instance->platform;
    config.region = instance->region;
    config.instance_id = instance->instance_id;
    AddFacts(*instance, "cloud-init's " + instance->path, config, notes);
  }
  if (drive) {
    config.cloud = "configdrive";  // cloud-init's name for this datasource
    AddFacts(*drive, "config drive " + Shown(*drive_volume, kConfigDriveMetaData), config, notes);
  }
  if (metadata) {
    config.cloud = std::string(CloudName(metadata->cloud));
    config.metadata_url = metadata->service_url;
    AddFacts(*metadata, std::string(CloudName(metadata->cloud)) + " metadata service", config, notes);
  }
  config.notes.insert(config.notes.begin(), notes.begin(), notes.end());
  return config;
}

}  // namespace userdata

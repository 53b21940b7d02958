// userdata::Resolve: the search on disk (under a fake root) and the metadata
// services, against tests/lib/fake_metadata.py on 127.0.0.1, which enforces what
// the real services do (AWS's session token, GCP's Metadata-Flavor header).
#include "userdata/config.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <ostream>
#include <string>

#include <gtest/gtest.h>

#include "tests/unit/fake_sys.h"
#include "tests/unit/userdata_testing.h"
#include "userdata/http.h"
#include "userdata/metadata.h"

namespace userdata {
namespace {

namespace fs = std::filesystem;
using namespace userdata::testing;
using Clock = std::chrono::steady_clock;

std::string S(std::string_view s) { return std::string(s); }

void WriteFile(const fs::path& path, std::string_view data) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

bool HasNote(const Config& c, std::string_view needle) {
  return std::any_of(c.notes.begin(), c.notes.end(), [&](const std::string& n) { return n.find(needle) != n.npos; });
}

std::string Notes(const Config& c) {
  std::string out;
  for (const auto& n : c.notes) out += n + "\n";
  return out;
}

// What a resolved Config says about the instance: the four fields most tests check together, compared (and
// printed on a failure) as one.
struct Instance {
  std::string cloud, manifest;
  std::vector<std::string> ssh_keys;
  std::string hostname;
  bool operator==(const Instance&) const = default;
  friend std::ostream& operator<<(std::ostream& out, const Instance& i) {
    out << "{cloud \"" << i.cloud << "\", manifest \"" << i.manifest << "\", ssh_keys [";
    for (const std::string& key : i.ssh_keys) out << "\"" << key << "\" ";
    return out << "], hostname \"" << i.hostname << "\"}";
  }
};

Instance InstanceOf(const Config& c) { return {c.cloud, c.manifest, c.ssh_keys, c.hostname}; }

// ResolvedFrom: Resolve succeeded and took the manifest kRef from SOURCE (what most on-disk tests check first).
::testing::AssertionResult ResolvedFrom(const base::Result<Config>& c, std::string_view source) {
  if (!c) return ::testing::AssertionFailure() << "Resolve failed: " << c.error().message();
  if (c->source != source) return ::testing::AssertionFailure() << "source is " << c->source << ", not " << source;
  if (c->manifest != kRef) return ::testing::AssertionFailure() << "manifest is " << c->manifest << ", not " << kRef;
  return ::testing::AssertionSuccess();
}

// A port nothing listens on: connections to it are refused at once.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t length = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  close(fd);
  return ntohs(addr.sin_port);
}

class ProxyEnvironment {  // a proxy that does not exist: a request through it would fail
 public:
  ProxyEnvironment() {
    for (const char* name : kNames) setenv(name, "http://127.0.0.1:9", 1);
  }
  ~ProxyEnvironment() {
    for (const char* name : kNames) unsetenv(name);
  }

 private:
  static constexpr const char* kNames[] = {"http_proxy", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"};
};

class ResolveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    served_ = fs::temp_directory_path() / ("bootrino-imds-" + std::to_string(getpid()));
    fs::create_directories(served_);
    int to_child[2], from_child[2];
    ASSERT_EQ(pipe2(to_child, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(from_child, O_CLOEXEC), 0);
    server_ = fork();
    ASSERT_GE(server_, 0);
    if (server_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      execlp("python3", "python3", BOOTRINO_FAKE_METADATA, served_.c_str(), nullptr);
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    server_stdin_ = to_child[1];
    std::string port;
    char c;
    while (read(from_child[0], &c, 1) == 1 && c != '\n') port += c;
    close(from_child[0]);
    ASSERT_FALSE(port.empty()) << "fake_metadata.py did not start (is python3 installed?)";
    base_ = "http://127.0.0.1:" + port;
  }

  static void TearDownTestSuite() {
    close(server_stdin_);  // the server exits when its stdin closes
    kill(server_, SIGTERM);
    waitpid(server_, nullptr, 0);
    fs::remove_all(served_);
  }

  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("bootrino-root-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    closed_ = "http://127.0.0.1:" + std::to_string(ClosedPort());
  }
  void TearDown() override { fs::remove_all(root_); }

  // Sources that find nothing unless a test adds it: an empty root, every service refused.
  Sources Nothing() const {
    Sources s;
    s.root = root_.string();
    s.metadata = MetadataPolicy::kAny;
    s.aws_url = s.aws_ipv6_url = s.gcp_url = s.digitalocean_url = s.other_url = s.scaleway_url = closed_;
    return s;
  }
  // Nothing but the fake root's files: no metadata service is asked.
  Sources OnDiskOnly() const {
    Sources s = Nothing();
    s.metadata = MetadataPolicy::kNever;
    return s;
  }
  // Writes a file the fake metadata server serves at /<scenario>/<path>.
  static void Serve(const std::string& scenario, const std::string& path, std::string_view data) {
    WriteFile(served_ / scenario / path, data);
  }
  static std::string Url(const std::string& scenario) { return base_ + "/" + scenario; }
  // What Resolve finds asking only the service at `field` (the scenario `scenario`), with a proxy in the
  // environment that would fail every request sent through it: the metadata services are never proxied.
  base::Result<Config> ResolveDespiteProxy(std::string Sources::*field, const std::string& scenario) const {
    ProxyEnvironment proxy;
    Sources s = Nothing();
    s.*field = Url(scenario);
    return Resolve(s);
  }
  // Something answering at `s`'s service URL `field` (the scenario `scenario`) that is not the identified cloud's
  // service: nothing comes from it (no cloud, no hostname) and a note says why.
  static void ExpectNotTheService(Sources s, std::string Sources::*field, const std::string& scenario,
                                  std::string_view note) {
    s.*field = Url(scenario);
    auto c = Resolve(s);
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->cloud, "");
    EXPECT_EQ(c->hostname, "");
    EXPECT_TRUE(HasNote(*c, note)) << Notes(*c);
  }

  static inline fs::path served_;
  static inline pid_t server_ = -1;
  static inline int server_stdin_ = -1;
  static inline std::string base_;
  fs::path root_;
  std::string closed_;
};

const std::string kCloudConfig = "#cloud-config\nbootrino:\n  manifest: " + S(kRef) + "\n  yes: true\n";

// ---- on disk ---------------------------------------------------------------------------------------------------

TEST_F(ResolveTest, CloudInitsCopyComesFirstThenNoCloudSeeds) {
  WriteFile(root_ / "var/lib/cloud/seed/nocloud-net/user-data", "#cloud-config\nbootrino: " + S(kOtherRef) + "\n");
  WriteFile(root_ / "var/lib/cloud/seed/nocloud/user-data", "#!/bin/sh\nbootrino run " + S(kOtherRef) + " --yes\n");
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt", kCloudConfig);
  Sources s = OnDiskOnly();
  auto c = Resolve(s);
  ASSERT_TRUE(ResolvedFrom(c, "/var/lib/cloud/instance/user-data.txt"));
  EXPECT_EQ(c->cloud, "");

  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt", "");  // cloud-init writes an empty file for none
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "/var/lib/cloud/seed/nocloud/user-data");  // nocloud sorts before nocloud-net
  EXPECT_EQ(c->manifest, kOtherRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_TRUE(HasNote(*c, "/var/lib/cloud/instance/user-data.txt is empty")) << Notes(*c);

  fs::remove(root_ / "var/lib/cloud/seed/nocloud/user-data");
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "/var/lib/cloud/seed/nocloud-net/user-data");
}

// A FAT image at `path` labelled `label`, made by mkfs.vfat (dosfstools).
void MakeVfat(const fs::path& path, const std::string& label) {
  fs::remove(path);
  const std::string command = "mkfs.vfat -C -n " + label + " '" + path.string() + "' 1024 >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command << " failed (is dosfstools installed?)";
}

// Both probes read the label as libblkid finds it, case-insensitively, and nothing else: each image is
// checked against both, so a cidata volume is never a config drive and the other way round.
TEST_F(ResolveTest, VolumeLabelsAsLibblkidProbesThem) {
  struct Case {
    const char* label;
    bool cidata, config_drive;
  };
  for (const Case& c : {Case{"cidata", true, false}, Case{"CIDATA", true, false}, Case{"cidatax", false, false},
                        Case{"config-2", false, true}, Case{"CONFIG-2", false, true}, Case{"config-3", false, false}}) {
    const fs::path image = root_ / (std::string(c.label) + ".img");
    MakeVfat(image, c.label);
    EXPECT_EQ(HasCidataLabel(image.string()), c.cidata) << c.label;
    EXPECT_EQ(HasConfigDriveLabel(image.string()), c.config_drive) << c.label;
  }
  // A name is not a label: no file system here.
  WriteFile(root_ / "text", "LABEL=cidata\nLABEL=config-2\n");
  EXPECT_FALSE(HasCidataLabel((root_ / "text").string()));
  EXPECT_FALSE(HasConfigDriveLabel((root_ / "text").string()));
  EXPECT_FALSE(HasCidataLabel((root_ / "missing").string()));
  EXPECT_FALSE(HasConfigDriveLabel((root_ / "missing").string()));
}

TEST_F(ResolveTest, AMountsSourceTextDoesNotMakeItASeed) {
  // What any user can mount with FUSE: a file system whose "source" is /dev/sr0, the device
  // udev's cidata link names. Its device number is 0:N, as for every mount without a block device.
  fs::create_directories(root_ / "dev/disk/by-label");
  fs::create_symlink("../../sr0", root_ / "dev/disk/by-label/cidata");
  WriteFile(root_ / "proc/self/mounts", "/dev/vda1 / ext4 rw 0 0\n/dev/sr0 /home/eve/seed fuse.sshfs rw 0 0\n");
  WriteFile(root_ / "proc/self/mountinfo", "25 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
                                           "90 25 0:77 / /home/eve/seed rw,nosuid,nodev - fuse.sshfs /dev/sr0 rw\n");
  WriteFile(root_ / "home/eve/seed/user-data", kCloudConfig);
  Sources s = OnDiskOnly();
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "");
  EXPECT_EQ(c->manifest, "");
}

// A read-only loop device over an image file under the test's own directory, detached at the end.
class LoopDevice {
 public:
  explicit LoopDevice(const fs::path& image) {
    const std::string command = "losetup --find --show --read-only '" + image.string() + "' 2>/dev/null";
    if (FILE* p = popen(command.c_str(), "r")) {
      char buffer[256] = {};
      if (fgets(buffer, sizeof buffer, p)) path_ = buffer;
      pclose(p);
    }
    while (!path_.empty() && path_.back() == '\n') path_.pop_back();
  }
  ~LoopDevice() {
    if (!path_.empty()) std::system(("losetup -d " + path_).c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The fake root's view of the block device numbered `rdev`, which the kernel names `name`: its sysfs uevent,
// and a device node of that number. Its "MAJOR:MINOR", as mountinfo writes it.
std::string AddBlockDevice(const fs::path& root, const std::string& name, dev_t rdev) {
  const std::string id = std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev));
  WriteFile(root / "sys/dev/block" / id / "uevent", "MAJOR=7\nDEVNAME=" + name + "\nDEVTYPE=disk\n");
  fs::create_directories(root / "dev");
  EXPECT_EQ(mknod((root / "dev" / name).c_str(), S_IFBLK | 0600, rdev), 0) << name;
  return id;
}

// A fake root that also has loop devices over image files of the test's own. Needs root: skipped otherwise.
class LoopVolumeTest : public ResolveTest {
 protected:
  void SetUp() override {
    ResolveTest::SetUp();
    if (geteuid() != 0) GTEST_SKIP() << "needs root for a loop device";
  }

  // Attaches `image` and names it `name` in the fake root (sysfs, /dev, ids_[name] its "MAJOR:MINOR"); its device
  // number, or nullopt when no loop device could be had (a device attached but not there to stat is a failure).
  std::optional<dev_t> Attach(const fs::path& image, const std::string& name) {
    loops_.push_back(std::make_unique<LoopDevice>(image));
    if (loops_.back()->path().empty()) return std::nullopt;
    struct stat st {};
    if (stat(loops_.back()->path().c_str(), &st) != 0) {
      ADD_FAILURE() << "losetup attached " << loops_.back()->path() << " but it cannot be stat'ed: " << strerror(errno);
      return std::nullopt;
    }
    ids_[name] = AddBlockDevice(root_, name, st.st_rdev);
    return st.st_rdev;
  }

  std::vector<std::unique_ptr<LoopDevice>> loops_;
  std::map<std::string, std::string> ids_;
};

TEST_F(LoopVolumeTest, MountedCidataVolumeFoundByItsDeviceNumber) {
  MakeVfat(root_ / "seed.img", "cidata");
  MakeVfat(root_ / "plain.img", "data");
  // The fake root's view: the kernel's names of the two devices (sysfs), their nodes (the same
  // device numbers) and mountinfo. The files are written where the mounts would be: nothing is mounted.
  const std::optional<dev_t> plain = Attach(root_ / "plain.img", "plain0");
  if (!plain || !Attach(root_ / "seed.img", "seed0")) GTEST_SKIP() << "losetup could not attach a loop device";
  const std::string plain_id = ids_["plain0"], seed_id = ids_["seed0"];
  WriteFile(root_ / "proc/self/mountinfo",
            "25 1 " + plain_id + " / /mnt/data rw - vfat /dev/plain0 rw\n"
            "90 25 0:77 / /home/eve/seed rw - fuse.x /dev/seed0 rw\n"
            "92 25 " + seed_id + " /sub /srv/sub ro - vfat /dev/seed0 ro\n"
            "91 25 " + seed_id + " / /media/seed\\040disk ro - vfat /somewhere/else ro\n");
  WriteFile(root_ / "mnt/data/user-data", "#cloud-config\nbootrino: " + S(kOtherRef) + "\n");
  WriteFile(root_ / "home/eve/seed/user-data", "#cloud-config\nbootrino: " + S(kOtherRef) + "\n");
  WriteFile(root_ / "srv/sub/user-data", "#cloud-config\nbootrino: " + S(kOtherRef) + "\n");  // not its root
  WriteFile(root_ / "media/seed disk/user-data", kCloudConfig);
  Sources s = OnDiskOnly();
  auto c = Resolve(s);
  ASSERT_TRUE(ResolvedFrom(c, "/media/seed disk/user-data"));

  // A node whose device number is not the mount's is not that mount's device.
  fs::remove(root_ / "dev/seed0");
  ASSERT_EQ(mknod((root_ / "dev/seed0").c_str(), S_IFBLK | 0600, *plain), 0);
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "");
}

// ---- a seed volume nobody mounted -------------------------------------------------------------------------------

// A Sys whose read-only mount shows `volume_files` in the directory, as the volume's file system would, and whose
// unmount takes them away again. Both calls are in `log` (FakeSys's). `mount_errno`: what a mount answers instead.
class MountingSys : public testing_support::FakeSys {
 public:
  std::map<std::string, std::string> volume_files;
  int mount_errno = 0;

  int MountReadOnly(const std::string& device, const std::string& dir, const std::string& type) override {
    if (int err = FakeSys::MountReadOnly(device, dir, type)) return err;
    if (mount_errno) return mount_errno;
    for (const auto& [path, data] : volume_files) WriteFile(fs::path(dir) / path, data);
    return 0;
  }
  int Unmount(const std::string& dir) override {
    for (const auto& entry : fs::directory_iterator(dir)) fs::remove_all(entry.path());
    return FakeSys::Unmount(dir);
  }
};

// An Http that throws: Resolve leaves by an exception after it mounted a volume.
class ThrowingHttp : public Http {
 public:
  base::Result<Response> Send(const Request&) override { throw std::runtime_error("the test's Http throws"); }
};

// A fake root with the loop devices of `images` (image file → the kernel name the root gives it), each in
// /sys/class/block as well as /sys/dev/block and /dev, and an empty /run. Needs root.
class SeedVolumeTest : public LoopVolumeTest {
 protected:
  // Attaches `image` and names it `name` in the fake root, in /sys/class/block too; false when no loop device
  // could be had.
  bool AddLoopDevice(const fs::path& image, const std::string& name) {
    if (!Attach(image, name)) return false;
    WriteFile(root_ / "sys/class/block" / name / "dev", ids_[name] + "\n");
    return true;
  }
  void SetUp() override {
    LoopVolumeTest::SetUp();
    fs::create_directories(root_ / "run");
  }
  // What Resolve left in /run: nothing, once it has returned.
  std::vector<std::string> LeftInRun() const {
    std::vector<std::string> left;
    for (const auto& entry : fs::directory_iterator(root_ / "run")) left.push_back(entry.path().string());
    return left;
  }
  // The log of one mount of `device` (vfat) on a directory of bootrino's own in /run, then its unmount.
  void ExpectMountedAndUnmounted(const MountingSys& sys, const std::string& device) const {
    ASSERT_EQ(sys.log.size(), 2u) << ::testing::PrintToString(sys.log);
    const std::string prefix = "mount-ro vfat " + (root_ / "dev" / device).string() + " " +
                               (root_ / "run/bootrino-seed.").string();
    EXPECT_TRUE(sys.log[0].starts_with(prefix)) << sys.log[0];
    const std::string dir = sys.log[0].substr(sys.log[0].rfind(' ') + 1);
    EXPECT_EQ(sys.log[1], "unmount " + dir);
    EXPECT_EQ(LeftInRun(), std::vector<std::string>{});
  }
};

TEST_F(SeedVolumeTest, UnmountedCidataVolumeIsMountedReadOnlyReadAndUnmounted) {
  MakeVfat(root_ / "plain.img", "data");
  MakeVfat(root_ / "seed.img", "cidata");
  if (!AddLoopDevice(root_ / "plain.img", "loop0") || !AddLoopDevice(root_ / "seed.img", "vdb")) {
    GTEST_SKIP() << "losetup could not attach a loop device";
  }
  MountingSys sys;
  sys.volume_files = {{"user-data", kCloudConfig}, {"meta-data", "instance-id: iid-seed\n"}};
  Sources s = OnDiskOnly();
  s.sys = &sys;
  auto c = Resolve(s);
  ASSERT_TRUE(ResolvedFrom(c, "user-data on the cidata volume /dev/vdb, mounted read-only by bootrino"));
  EXPECT_TRUE(HasNote(*c, "the cidata volume /dev/vdb (vfat) was not mounted: bootrino mounted it read-only"))
      << Notes(*c);
  ExpectMountedAndUnmounted(sys, "vdb");

  // Unmounted on every way out: malformed user-data (an error)…
  sys.log.clear();
  sys.volume_files["user-data"] = "#cloud-config\nbootrino: [unclosed\n";
  c = Resolve(s);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("user-data on the cidata volume /dev/vdb"), std::string::npos)
      << c.error().message();
  ExpectMountedAndUnmounted(sys, "vdb");
  // …and an exception, thrown after the volume was read (by the metadata service's client).
  sys.log.clear();
  sys.volume_files["user-data"] = kCloudConfig;
  ThrowingHttp http;
  s.http = &http;
  s.metadata = MetadataPolicy::kAny;
  EXPECT_THROW((void)Resolve(s), std::runtime_error);
  ExpectMountedAndUnmounted(sys, "vdb");
  s.http = nullptr;
  s.metadata = MetadataPolicy::kNever;

  // A mount that fails is a note, and the directory goes.
  sys.log.clear();
  sys.mount_errno = ENODEV;
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "");
  EXPECT_TRUE(HasNote(*c, "could not mount the cidata volume /dev/vdb (vfat): " + S(std::strerror(ENODEV)) +
                              "; mount it read-only yourself (mount -r /dev/vdb /mnt)"))
      << Notes(*c);
  ASSERT_EQ(sys.log.size(), 1u);
  EXPECT_EQ(LeftInRun(), std::vector<std::string>{});
  sys.mount_errno = 0;

  // Nothing is mounted when cloud-init's copy comes first…
  sys.log.clear();
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt", "#cloud-config\nbootrino: " + S(kOtherRef) + "\n");
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "/var/lib/cloud/instance/user-data.txt");
  EXPECT_EQ(sys.log, std::vector<std::string>{});
  fs::remove(root_ / "var/lib/cloud/instance/user-data.txt");
  // …nor when the volume is mounted already: that mount is read.
  WriteFile(root_ / "proc/self/mountinfo", "91 25 " + ids_["vdb"] + " / /media/seed ro - vfat /dev/vdb ro\n");
  WriteFile(root_ / "media/seed/user-data", kCloudConfig);
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "/media/seed/user-data");
  EXPECT_EQ(sys.log, std::vector<std::string>{});
}

TEST_F(SeedVolumeTest, OnlyVfatAndIso9660VolumesAreMounted) {
  const std::string command = "mkfs.ext4 -q -F -L cidata '" + (root_ / "seed.img").string() + "' 4M >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command << " failed (is e2fsprogs installed?)";
  if (!AddLoopDevice(root_ / "seed.img", "vdb")) GTEST_SKIP() << "losetup could not attach a loop device";
  MountingSys sys;
  sys.volume_files = {{"user-data", kCloudConfig}};
  Sources s = OnDiskOnly();
  s.sys = &sys;
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "");
  EXPECT_EQ(sys.log, std::vector<std::string>{});
  EXPECT_TRUE(HasNote(*c, "skipped /dev/vdb, labelled cidata: its file system is ext4, and cloud-init reads a cidata "
                          "volume only from vfat or iso9660"))
      << Notes(*c);
}

TEST_F(SeedVolumeTest, UnmountedConfigDriveGivesUserDataKeysAndHostname) {
  MakeVfat(root_ / "drive.img", "config-2");
  if (!AddLoopDevice(root_ / "drive.img", "sr0")) GTEST_SKIP() << "losetup could not attach a loop device";
  MountingSys sys;
  sys.volume_files = {
      {"openstack/latest/meta_data.json",
       R"({"uuid": "d8e02d56-2648-49a3-bf97-6be8f1204f38", "hostname": "os-drive-1", "public_keys": {"k": ")" +
           S(kAlice) + R"("}})"},
      {"openstack/latest/user_data", kCloudConfig}};
  Sources s = Nothing();
  s.sys = &sys;
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  // Mounted once, for the user-data and the metadata both.
  ExpectMountedAndUnmounted(sys, "sr0");
  EXPECT_EQ(c->source, "openstack/latest/user_data on the config-2 volume /dev/sr0, mounted read-only by bootrino");
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_EQ(c->cloud, "configdrive");
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kAlice)});
  EXPECT_EQ(c->ssh_key_from, std::vector<std::string>{"config drive openstack/latest/meta_data.json on the config-2 "
                                                      "volume /dev/sr0, mounted read-only by bootrino"});
  EXPECT_EQ(c->hostname, "os-drive-1");
  EXPECT_TRUE(HasNote(*c, "a config drive is the config-2 volume /dev/sr0, mounted read-only by bootrino (instance "
                          "d8e02d56-2648-49a3-bf97-6be8f1204f38)"))
      << Notes(*c);
}

TEST_F(ResolveTest, NothingFoundIsAConfigWithoutManifest) {
  Sources s = OnDiskOnly();
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "");
  EXPECT_TRUE(HasNote(*c, "no user-data in /var/lib/cloud/instance/user-data.txt, /var/lib/cloud/seed/nocloud*/user-data"))
      << Notes(*c);
  auto required = RequireManifest(*c);
  ASSERT_FALSE(required);
  EXPECT_NE(required.error().message().find("no user-data found\n  no user-data in"), std::string::npos);
}

TEST_F(ResolveTest, ExplicitFileAndItsErrors) {
  WriteFile(root_ / "ud", Gzip(kCloudConfig));
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt", "#cloud-config\nbootrino: " + S(kOtherRef) + "\n");
  Sources s = OnDiskOnly();
  s.file = (root_ / "ud").string();
  auto c = Resolve(s);
  ASSERT_TRUE(ResolvedFrom(c, s.file));

  s.file = (root_ / "missing").string();
  auto missing = Resolve(s);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "user-data file " + s.file + " does not exist");

  WriteFile(root_ / "bad", "#cloud-config\nbootrino:\n  manifest: " + S(kRef) + "\n  colour: blue\n");
  s.file = (root_ / "bad").string();
  auto bad = Resolve(s);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), base::ErrorKind::kUsage);
  EXPECT_EQ(bad.error().message(), "user-data from " + s.file + ": cloud-config: line 4, column 3: bootrino has no key "
                                   "\"colour\"");

  // Larger than 16 MiB (sparse): refused while reading.
  { std::ofstream(root_ / "huge").seekp((17 << 20) - 1) << 'x'; }
  s.file = (root_ / "huge").string();
  auto huge = Resolve(s);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message().find("is larger than 16777216 bytes"), std::string::npos) << huge.error().message();
}

// ---- metadata services -----------------------------------------------------------------------------------------

TEST_F(ResolveTest, AwsImdsV2WithTokenKeysAndHostname) {
  Serve("aws1", "latest/user-data", Gzip(kCloudConfig));  // binary over HTTP: gzip'd user-data
  Serve("aws1", "latest/meta-data/public-keys/.listing", "0=alice\n1=bob\n2=junk");
  Serve("aws1", "latest/meta-data/public-keys/0/openssh-key", S(kAlice) + "\n");
  Serve("aws1", "latest/meta-data/public-keys/1/openssh-key", S(kBob));
  Serve("aws1", "latest/meta-data/public-keys/2/openssh-key", "ssh-rsa garbage");
  Serve("aws1", "latest/meta-data/local-hostname", "ip-10-0-0-5.ec2.internal");
  auto c = ResolveDespiteProxy(&Sources::aws_url, "aws1");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"aws", S(kRef), {S(kAlice), S(kBob)}, "ip-10-0-0-5.ec2.internal"}));
  EXPECT_EQ(c->source, Url("aws1") + "/latest/user-data");
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_TRUE(HasNote(*c, "skipped a key from " + Url("aws1") + "/latest/meta-data/public-keys/2/openssh-key"))
      << Notes(*c);
}

TEST_F(ResolveTest, AwsOverIpv6WhenItsIpv4AddressDoesNotAnswer) {
  // An IPv6-only instance: 169.254.169.254 is unreachable, fd00:ec2::254 answers.
  Serve("aws6", "latest/user-data", kCloudConfig);
  Serve("aws6", "latest/meta-data/public-keys/.listing", "0=alice\n");
  Serve("aws6", "latest/meta-data/public-keys/0/openssh-key", S(kAlice));
  Sources s = Nothing();
  s.aws_ipv6_url = Url("aws6");
  WriteFile(root_ / "sys/class/dmi/id/sys_vendor", "Amazon EC2\n");
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->cloud, "aws");
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_EQ(c->metadata_url, Url("aws6"));
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kAlice)});
  // Neither answers: both are named.
  s.aws_ipv6_url = closed_;
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(HasNote(*c, "no metadata service answered (aws: ")) << Notes(*c);
  EXPECT_EQ(c->metadata_url, "");
}

TEST_F(ResolveTest, TheFakeServerIsAsStrictAsTheRealOnes) {
  // Without these refusals the tests above could not tell a client that skips the token or the header.
  Serve("strict", "latest/user-data", "x");
  Serve("strict", "computeMetadata/v1/instance/hostname", "h");
  auto http = NewCurlHttp(std::chrono::milliseconds(1000), std::chrono::milliseconds(2000));
  auto aws = http->Send({"GET", Url("strict") + "/latest/user-data", {}, 1024, ""});
  ASSERT_TRUE(aws) << aws.error().message();
  EXPECT_EQ(aws->status, 401);
  auto token = http->Send({"PUT", Url("strict") + "/latest/api/token", {}, 1024, ""});
  ASSERT_TRUE(token);
  EXPECT_EQ(token->status, 400);  // no TTL header
  auto gcp = http->Send({"GET", Url("strict") + "/computeMetadata/v1/instance/hostname", {}, 1024, ""});
  ASSERT_TRUE(gcp);
  EXPECT_EQ(gcp->status, 403);
  auto small = http->Send({"GET", Url("strict") + "/computeMetadata/v1/instance/hostname",
                           {"Metadata-Flavor: Google"}, 0, ""});
  ASSERT_FALSE(small);
  EXPECT_NE(small.error().message().find("the answer is longer than 0 bytes"), std::string::npos);
}

TEST_F(ResolveTest, AwsWithoutUserDataStillGivesKeys) {
  Serve("aws2", "latest/meta-data/public-keys/.listing", "0=alice");
  Serve("aws2", "latest/meta-data/public-keys/0/openssh-key", S(kAlice));
  Sources s = Nothing();
  s.aws_url = Url("aws2");
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->cloud, "aws");
  EXPECT_EQ(c->source, "");
  EXPECT_EQ(c->manifest, "");
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kAlice)});
  EXPECT_TRUE(HasNote(*c, Url("aws2") + "/latest/user-data")) << Notes(*c);
  EXPECT_FALSE(RequireManifest(*c));
}

TEST_F(ResolveTest, AFailingServiceIsAnErrorNotNoUserData) {
  Serve("aws3", "latest/user-data", "!STATUS 500");
  Sources s = Nothing();
  s.aws_url = Url("aws3");
  auto c = Resolve(s);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind(), base::ErrorKind::kNetwork);
  EXPECT_EQ(c.error().message(), "aws metadata: GET " + Url("aws3") + "/latest/user-data answered HTTP 500");
}

TEST_F(ResolveTest, GcpWithFlavorHeaderAndProjectKeys) {
  const std::string v1 = "computeMetadata/v1/";
  Serve("gcp1", v1 + "instance/hostname", "vm-1.c.project.internal\n");
  Serve("gcp1", v1 + "instance/attributes/user-data", "#!/bin/sh\nbootrino run " + S(kOtherRef) + " --detach\n");
  Serve("gcp1", v1 + "instance/attributes/ssh-keys", "alice:" + S(kAlice) + "\n\n");
  Serve("gcp1", v1 + "project/attributes/ssh-keys", "bob:" + S(kBob) + "\nalice:" + S(kAlice));
  auto c = ResolveDespiteProxy(&Sources::gcp_url, "gcp1");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"gcp", S(kOtherRef), {S(kAlice), S(kBob)}, "vm-1.c.project.internal"}));
  EXPECT_EQ(c->source, Url("gcp1") + "/computeMetadata/v1/instance/attributes/user-data");
  EXPECT_TRUE(c->options.Flag("detach"));
}

TEST_F(ResolveTest, GcpBase64UserDataAndBlockedProjectKeys) {
  const std::string v1 = "computeMetadata/v1/";
  Serve("gcp2", v1 + "instance/hostname", "vm-2");
  Serve("gcp2", v1 + "instance/attributes/user-data", Base64(kCloudConfig));
  Serve("gcp2", v1 + "instance/attributes/user-data-encoding", "base64");
  Serve("gcp2", v1 + "instance/attributes/block-project-ssh-keys", "true");
  Serve("gcp2", v1 + "project/attributes/ssh-keys", "bob:" + S(kBob));
  Sources s = Nothing();
  s.gcp_url = Url("gcp2");
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->ssh_keys.empty());
  EXPECT_TRUE(HasNote(*c, "block-project-ssh-keys")) << Notes(*c);
}

TEST_F(ResolveTest, DigitalOcean) {
  Serve("do1", "metadata/v1/id", "3164444");
  Serve("do1", "metadata/v1/user-data", kCloudConfig);
  Serve("do1", "metadata/v1/public-keys", S(kAlice) + "\n" + S(kBob) + "\n");
  Serve("do1", "metadata/v1/hostname", "droplet-1");
  Sources s = Nothing();
  // All three services at one address, as on a real host where two share 169.254.169.254:
  // only DigitalOcean's answers as itself.
  s.aws_url = s.gcp_url = s.digitalocean_url = Url("do1");
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"digitalocean", S(kRef), {S(kAlice), S(kBob)}, "droplet-1"}));
  EXPECT_EQ(c->source, Url("do1") + "/metadata/v1/user-data");
}

// ---- the services with a protocol of their own, each asked only where DMI names its cloud ---------------------

// Sources for a host whose DMI field `field` says `value`, with every service at `url`.
Sources IdentifiedBy(const fs::path& root, const std::string& field, const std::string& value, const std::string& url) {
  WriteFile(root / "sys/class/dmi/id" / field, value + "\n");
  Sources s;
  s.root = root.string();
  s.aws_url = s.aws_ipv6_url = s.gcp_url = s.digitalocean_url = s.other_url = s.scaleway_url = url;
  return s;
}

TEST_F(ResolveTest, AzureWithItsHeaderKeysAndBase64UserData) {
  Serve("azure1", "metadata/instance/.listing",
        R"({"compute": {"osProfile": {"computerName": "azure-vm-1", "adminUsername": "azureuser"},)"
        R"( "publicKeys": [{"keyData": ")" + S(kAlice) + R"(", "path": "/home/azureuser/.ssh/authorized_keys"},)"
        R"( {"keyData": "ssh-rsa junk", "path": "/x"}], "vmId": "02aab8a4-74ef-476e-8182-f6d2ba4166a6"},)"
        R"( "network": {}})");
  Serve("azure1", "metadata/instance/compute/userData", Base64(kCloudConfig, 1 << 20));
  Sources s = IdentifiedBy(root_, "chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77", Url("azure1"));
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"azure", S(kRef), {S(kAlice)}, "azure-vm-1"}));
  EXPECT_EQ(c->source, Url("azure1") + "/metadata/instance/compute/userData?api-version=2021-01-01&format=text");
  EXPECT_EQ(c->hostname_from, "azure metadata service");
  EXPECT_TRUE(HasNote(*c, "skipped a key from Azure compute/publicKeys")) << Notes(*c);
  EXPECT_TRUE(HasNote(*c, "this host is azure (DMI chassis_asset_tag")) << Notes(*c);
  // No user-data: keys and name still.
  Serve("azure2", "metadata/instance/.listing",
        R"({"compute": {"osProfile": {"computerName": "azure-vm-2"}, "publicKeys": []}})");
  Serve("azure2", "metadata/instance/compute/userData", "");
  s.other_url = Url("azure2");
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "");
  EXPECT_EQ(c->hostname, "azure-vm-2");
}

TEST_F(ResolveTest, OracleWithItsBearerHeader) {
  Serve("oci1", "opc/v2/instance/.listing",
        R"({"id": "ocid1.instance.oc1.eu-frankfurt-1.abc", "hostname": "oci-1", "displayName": "x",)"
        R"( "metadata": {"ssh_authorized_keys": ")" + S(kAlice) + R"(\n)" + S(kBob) + R"(\n",)"
        R"( "user_data": ")" + Base64(kCloudConfig, 1 << 20) + R"("}})");
  Sources s = IdentifiedBy(root_, "chassis_asset_tag", "OracleCloud.com", Url("oci1"));
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"oracle", S(kRef), {S(kAlice), S(kBob)}, "oci-1"}));
  // user_data that is not base64 is an error: the service answered, and its user-data cannot be read.
  Serve("oci2", "opc/v2/instance/.listing", R"({"id": "ocid1.instance.x", "metadata": {"user_data": "%%%"}})");
  s.other_url = Url("oci2");
  EXPECT_FALSE(Resolve(s));
}

TEST_F(ResolveTest, HetznerYamlMetadataAndUserData) {
  Serve("hetzner1", "hetzner/v1/metadata",
        "hostname: hetzner-1\ninstance-id: 42424242\npublic-ipv4: 203.0.113.5\npublic-keys:\n- " + S(kAlice) +
            "\n- " + S(kBob) + "\nvendor_data: \"#cloud-config\\n\"\n");
  Serve("hetzner1", "hetzner/v1/userdata", Base64(kCloudConfig, 1 << 20));  // base64'd by the user: decoded
  Sources s = IdentifiedBy(root_, "sys_vendor", "Hetzner", Url("hetzner1"));
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"hetzner", S(kRef), {S(kAlice), S(kBob)}, "hetzner-1"}));
  Serve("hetzner2", "hetzner/v1/metadata", "hostname: hetzner-2\ninstance-id: 7\n");
  Serve("hetzner2", "hetzner/v1/userdata", kCloudConfig);  // as given
  s.other_url = Url("hetzner2");
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  // Something else answering there (no instance-id) is not Hetzner's service.
  Serve("hetzner3", "hetzner/v1/metadata", "<html>welcome</html>");
  ExpectNotTheService(s, &Sources::other_url, "hetzner3", "not a document with an instance-id");
}

TEST_F(ResolveTest, OpenStackMetadataService) {
  Serve("os1", "openstack/latest/meta_data.json",
        R"({"uuid": "d8e02d56-2648-49a3-bf97-6be8f1204f38", "hostname": "os-1.novalocal", "name": "os-1",)"
        R"( "public_keys": {"mykey": ")" + S(kAlice) + R"(\n"}, "availability_zone": "nova"})");
  Serve("os1", "openstack/latest/user_data", kCloudConfig);
  Sources s = IdentifiedBy(root_, "product_name", "OpenStack Nova", Url("os1"));
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"openstack", S(kRef), {S(kAlice)}, "os-1.novalocal"}));
  fs::remove(root_ / "sys/class/dmi/id/product_name");
  s = IdentifiedBy(root_, "chassis_asset_tag", "OpenTelekomCloud", Url("os1"));
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->cloud, "openstack");
}

TEST_F(ResolveTest, VultrV1Json) {
  Serve("vultr1", "v1.json",
        R"({"instance-v2-id": "a747bfz6-385d-4b87-8c2d-d3c0a6b0d5d9", "hostname": "vultr-guest",)"
        R"( "public-keys": [")" + S(kBob) + R"("], "region": {"regioncode": "AMS"},)"
        R"( "user-data": "#cloud-config\nbootrino: )" + S(kOtherRef) + R"(\n"})");
  Sources s = IdentifiedBy(root_, "sys_vendor", "Vultr", Url("vultr1"));
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"vultr", S(kOtherRef), {S(kBob)}, "vultr-guest"}));
}

// Linode's service as its documentation gives it: a token from PUT /v1/token, then JSON when asked for JSON.
TEST_F(ResolveTest, LinodeTokenJsonAndBase64UserData) {
  Serve("linode1", "v1/instance",
        R"({"id": 12345678, "label": "linode-1", "region": "us-ord", "type": "g6-nanode-1",)"
        R"( "host_uuid": "b4e2f7c1a2d3", "tags": [], "specs": {"vcpus": 1, "memory": 1024, "gpus": 0,)"
        R"( "transfer": 1000, "disk": 25600}, "backups": {"enabled": false, "status": null},)"
        R"( "image": {"id": "linode/ubuntu24.04", "label": "Ubuntu 24.04 LTS"}})");
  Serve("linode1", "v1/ssh-keys",
        R"({"users": {"root": [")" + S(kAlice) + R"(", "ssh-rsa junk"], "bob": [")" + S(kBob) + R"("]}})");
  Serve("linode1", "v1/user-data", Base64(kCloudConfig, 1 << 20));
  Sources s = IdentifiedBy(root_, "sys_vendor", "Linode", Url("linode1"));
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->cloud, "linode");
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_EQ(c->source, Url("linode1") + "/v1/user-data");
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kAlice)});  // root's only: the RAM OS's keys are root's
  EXPECT_EQ(c->hostname, "linode-1");
  EXPECT_TRUE(HasNote(*c, "skipped a key from Linode ssh-keys users/root")) << Notes(*c);
  EXPECT_TRUE(HasNote(*c, "this host is linode (DMI sys_vendor is \"Linode\")")) << Notes(*c);

  // No user-data and no keys; Akamai's vendor name identifies it too.
  Serve("linode2", "v1/instance", R"({"id": 7, "label": "linode-2"})");
  fs::remove_all(root_ / "sys");
  s = IdentifiedBy(root_, "sys_vendor", "Akamai", Url("linode2"));
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->cloud, "linode");
  EXPECT_EQ(c->source, "");
  EXPECT_TRUE(c->ssh_keys.empty());
  EXPECT_EQ(c->hostname, "linode-2");

  // Something else answering there (no token) is not Linode's service.
  ExpectNotTheService(s, &Sources::other_url, "os1", "/v1/token answered HTTP 404, not a metadata token");
}

// Scaleway's service at an address of its own, giving user-data only to a request from a port below 1024.
TEST_F(ResolveTest, ScalewayConfAndUserDataFromAPrivilegedPort) {
  std::string tagged(kBob);  // a key in a tag, its spaces written as '_'
  std::replace(tagged.begin(), tagged.end(), ' ', '_');
  Serve("scw1", "conf",
        R"({"id": "5a33b4ab-57dd-4eb6-8b0a-d95eb63492ce", "name": "scw-1", "hostname": "scw-1",)"
        R"( "commercial_type": "DEV1-S", "organization": "0f1d9c64-5a33-4eb6-8b0a-d95eb63492ce",)"
        R"( "tags": ["web", "AUTHORIZED_KEY=)" + tagged + R"("],)"
        R"( "ssh_public_keys": [{"key": ")" + S(kAlice) + R"(", "fingerprint": "256 SHA256:x alice [ssh-ed25519]"},)"
        R"( {"key": "ssh-rsa junk", "fingerprint": "x"}], "zone": "fr-par-1",)"
        R"( "public_ip": {"id": "x", "address": "203.0.113.7", "dynamic": false}})");
  Serve("scw1", "user_data/cloud-init", kCloudConfig);
  Sources s = IdentifiedBy(root_, "sys_vendor", "Scaleway", closed_);
  s.scaleway_url = Url("scw1");  // only Scaleway's own address answers
  auto c = Resolve(s);
  if (geteuid() != 0) {  // no port below 1024 to send from: the user-data is out of reach, and the hint says why
    ASSERT_FALSE(c);
    EXPECT_NE(c.error().hint().find("port below 1024"), std::string::npos) << c.error().hint();
    GTEST_SKIP() << "the rest needs root, to send from a port below 1024";
  }
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"scaleway", S(kRef), {S(kAlice), S(kBob)}, "scw-1"}));
  EXPECT_EQ(c->metadata_url, Url("scw1"));
  EXPECT_EQ(c->source, Url("scw1") + "/user_data/cloud-init");
  EXPECT_TRUE(HasNote(*c, "skipped a key from Scaleway ssh_public_keys")) << Notes(*c);

  // No user-data (404): keys and name still.
  Serve("scw2", "conf",
        R"({"id": "6b44c5bc-0000-4eb6-8b0a-d95eb63492ce", "hostname": "scw-2", "ssh_public_keys": []})");
  s.scaleway_url = Url("scw2");
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "");
  EXPECT_EQ(c->hostname, "scw-2");
  // Something else answering there (no server id) is not Scaleway's service.
  Serve("scw3", "conf", R"({"hostname": "not-scaleway"})");
  ExpectNotTheService(s, &Sources::scaleway_url, "scw3", "answered without an instance id");
}

// Exoscale's CloudStack-style files, with no session token: Exoscale's service has none.
TEST_F(ResolveTest, ExoscaleCloudStackPaths) {
  Serve("exoscale1", "latest/meta-data/instance-id", "5a33b4ab-57dd-4eb6-8b0a-d95eb63492ce\n");
  Serve("exoscale1", "latest/meta-data/public-keys", S(kAlice) + "\n" + S(kBob) + "\n");
  Serve("exoscale1", "latest/meta-data/local-hostname", "exo-1");
  Serve("exoscale1", "latest/meta-data/availability-zone", "ch-gva-2");
  Serve("exoscale1", "latest/user-data", Gzip(kCloudConfig));  // binary, as given
  Sources s = IdentifiedBy(root_, "product_name", "Exoscale Compute Platform", Url("exoscale1"));
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(InstanceOf(*c), (Instance{"exoscale", S(kRef), {S(kAlice), S(kBob)}, "exo-1"}));
  EXPECT_EQ(c->source, Url("exoscale1") + "/latest/user-data");
  // No user-data, no keys: the name still.
  Serve("exoscale2", "latest/meta-data/instance-id", "6b44c5bc-57dd-4eb6-8b0a-d95eb63492ce");
  Serve("exoscale2", "latest/meta-data/local-hostname", "exo-2");
  s.other_url = Url("exoscale2");
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "");
  EXPECT_TRUE(c->ssh_keys.empty());
  EXPECT_EQ(c->hostname, "exo-2");
  // An AWS service answering there (401 without its token) is not Exoscale's.
  Serve("aws-not-exoscale", "latest/meta-data/instance-id", "i-0123456789abcdef0");
  ExpectNotTheService(s, &Sources::other_url, "aws-not-exoscale",
                      "/latest/meta-data/instance-id answered HTTP 401, not an instance id");
}

TEST_F(ResolveTest, UserDataOnDiskGetsTheServicesKeys) {
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt", "#cloud-config\nbootrino:\n  manifest: " + S(kRef) +
                                                                "\n  hostname: mine\n");
  WriteFile(root_ / "sys/class/dmi/id/sys_vendor", "DigitalOcean\n");
  Serve("do2", "metadata/v1/id", "1");
  Serve("do2", "metadata/v1/user-data", "#cloud-config\nbootrino: " + S(kOtherRef) + "\n");
  Serve("do2", "metadata/v1/public-keys", S(kBob));
  Serve("do2", "metadata/v1/hostname", "droplet-2");
  Sources s = Nothing();
  s.metadata = MetadataPolicy::kIdentified;  // DMI names the cloud, so it is asked although user-data is on disk
  s.digitalocean_url = Url("do2");
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->source, "/var/lib/cloud/instance/user-data.txt");
  EXPECT_EQ(InstanceOf(*c), (Instance{"digitalocean", S(kRef), {S(kBob)}, "mine"}));
}

// A one-liner that says --insecure or --trust FILE (only the command line may) is noted, not fatal:
// the metadata service's SSH keys and hostname still reach the RAM OS.
TEST_F(ResolveTest, WhatUserdataMayNotSetLosesNotTheServicesKeys) {
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt",
            "#!/bin/sh\ncurl -fsSL https://h/install.sh | sh -s -- " + S(kRef) + " --insecure --trust /k.pem\n");
  WriteFile(root_ / "sys/class/dmi/id/sys_vendor", "DigitalOcean\n");
  Serve("do3", "metadata/v1/id", "1");
  Serve("do3", "metadata/v1/public-keys", S(kBob));
  Serve("do3", "metadata/v1/hostname", "droplet-3");
  Sources s = Nothing();
  s.metadata = MetadataPolicy::kIdentified;
  s.digitalocean_url = Url("do3");
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kBob)});
  EXPECT_EQ(c->hostname, "droplet-3");
  EXPECT_EQ(c->manifest, kRef);
  ASSERT_EQ(c->refused.size(), 2u);
  auto refusal = RefuseWhatUserdataMayNotSet(*c);
  ASSERT_FALSE(refusal);
  EXPECT_NE(refusal.error().message().find("user-data from /var/lib/cloud/instance/user-data.txt: script, line 2: "
                                           "`bootrino run --insecure` cannot come from user-data"),
            std::string::npos)
      << refusal.error().message();
}

// Records every request and answers none: shows which services Resolve asks. Nothing is sent.
class RecordingHttp : public Http {
 public:
  base::Result<Response> Send(const Request& request) override {
    std::lock_guard lock(mutex_);
    urls.push_back(request.method + " " + request.url);
    for (const std::string& header : request.headers) headers.push_back(request.url + " " + header);
    return base::Fail(base::ErrorKind::kNetwork, request.url + ": Connection refused");
  }
  std::vector<std::string> urls;
  std::vector<std::string> headers;

 private:
  std::mutex mutex_;
};

// (AWS twice: its IPv4 address, then its IPv6 one when the first does not answer.)
const std::vector<std::string> kAllThree = {"GET http://do.test/metadata/v1/id",
                                            "GET http://gcp.test/computeMetadata/v1/instance/hostname",
                                            "PUT http://aws.test/latest/api/token",
                                            "PUT http://aws6.test/latest/api/token"};

// Sources that record each request: aws.test, gcp.test and do.test.
Sources Recording(const fs::path& root, RecordingHttp& http) {
  Sources s;
  s.root = root.string();
  s.http = &http;
  s.aws_url = "http://aws.test";
  s.aws_ipv6_url = "http://aws6.test";
  s.gcp_url = "http://gcp.test";
  s.digitalocean_url = "http://do.test";
  s.other_url = "http://other.test";
  s.scaleway_url = "http://scaleway.test";
  return s;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_F(ResolveTest, AnUnidentifiedHostAsksNoServiceByDefault) {
  // The attack: a host that is not on any of the three clouds, no user-data on disk, and
  // someone answering 169.254.169.254. By default nothing there is asked.
  RecordingHttp http;
  Sources s = Recording(root_, http);
  EXPECT_EQ(s.metadata, MetadataPolicy::kIdentified);
  WriteFile(root_ / "sys/class/dmi/id/sys_vendor", "QEMU\n");
  WriteFile(root_ / "sys/class/dmi/id/product_name", "Standard PC (i440FX + PIIX, 1996)\n");
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(http.urls.empty());
  EXPECT_EQ(c->cloud, "");
  EXPECT_TRUE(HasNote(*c, "this host is not identified as a cloud bootrino knows")) << Notes(*c);
  EXPECT_TRUE(HasNote(*c, "--metadata any")) << Notes(*c);
  // Nor with user-data on disk, nor for SSH keys alone.
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt", kCloudConfig);
  ASSERT_TRUE(Resolve(s));
  EXPECT_TRUE(http.urls.empty());
}

TEST_F(ResolveTest, AnyIsTheOptInForAnUnidentifiedHost) {
  RecordingHttp http;
  Sources s = Recording(root_, http);
  s.metadata = MetadataPolicy::kAny;
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(Sorted(http.urls), kAllThree);
  EXPECT_TRUE(HasNote(*c, "the AWS, GCP and DigitalOcean metadata services asked (--metadata any)")) << Notes(*c);
  // With user-data on disk too: the user asked for it.
  http.urls.clear();
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt", kCloudConfig);
  ASSERT_TRUE(Resolve(s));
  EXPECT_EQ(Sorted(http.urls), kAllThree);
  // An identified host: only its own service, even under kAny.
  http.urls.clear();
  WriteFile(root_ / "sys/class/dmi/id/sys_vendor", "DigitalOcean\n");
  ASSERT_TRUE(Resolve(s));
  EXPECT_EQ(http.urls, std::vector<std::string>{"GET http://do.test/metadata/v1/id"});
  // kNever: nothing, whatever the host is.
  http.urls.clear();
  s.metadata = MetadataPolicy::kNever;
  ASSERT_TRUE(Resolve(s));
  EXPECT_TRUE(http.urls.empty());
}

TEST_F(ResolveTest, AnIdentifiedHostAsksItsOwnServiceOnly) {
  RecordingHttp http;
  Sources s = Recording(root_, http);
  WriteFile(root_ / "sys/class/dmi/id/product_name", "Google Compute Engine\n");
  auto c = Resolve(s);
  ASSERT_TRUE(c);
  EXPECT_EQ(http.urls, std::vector<std::string>{"GET http://gcp.test/computeMetadata/v1/instance/hostname"});
  EXPECT_TRUE(HasNote(*c, "this host is gcp (DMI product_name is \"Google Compute Engine\"): only its metadata "
                          "service is asked"))
      << Notes(*c);
  EXPECT_TRUE(HasNote(*c, "no metadata service answered (gcp: http://gcp.test/computeMetadata/v1/instance/hostname: "
                          "Connection refused)"))
      << Notes(*c);
  // AWS on Xen: the hypervisor UUID (DMI's product_name removed).
  http.urls.clear();
  fs::remove(root_ / "sys/class/dmi/id/product_name");
  WriteFile(root_ / "sys/hypervisor/uuid", "ec2e1916-9099-7caf-fd21-012345abcdef\n");
  ASSERT_TRUE(Resolve(s));
  EXPECT_EQ(http.urls, (std::vector<std::string>{"PUT http://aws.test/latest/api/token",
                                                  "PUT http://aws6.test/latest/api/token"}));
  // cloud-init's cloud-id comes before DMI (its instance-data.json, read first, means no service at all).
  http.urls.clear();
  WriteFile(root_ / "run/cloud-init/cloud-id", "digitalocean\n");
  ASSERT_TRUE(Resolve(s));
  EXPECT_EQ(http.urls, std::vector<std::string>{"GET http://do.test/metadata/v1/id"});
}

// ---- cloud-init's record of the instance ------------------------------------------------------------------------

// instance-data.json as cloud-init 22.4 writes it (sources/__init__.py, _get_standardized_metadata), trimmed.
std::string InstanceJson(std::string_view cloud_name, std::string_view keys_json, std::string_view hostname) {
  return "{\"v1\": {\"_beta_keys\": [\"subplatform\"], \"availability_zone\": null, \"cloud_name\": \"" +
         S(cloud_name) + "\", \"cloud-name\": \"" + S(cloud_name) +
         "\", \"platform\": \"nocloud\", \"public_ssh_keys\": " + S(keys_json) +
         ", \"instance_id\": \"iid-test-1\", \"local_hostname\": \"" + S(hostname) +
         "\", \"region\": \"eu-test-1\", \"subplatform\": \"seedfrom (/dev/vdb)\"}, \"ds\": {}}";
}

TEST_F(ResolveTest, CloudInitsRecordGivesKeysAndHostnameAndNoServiceIsAsked) {
  RecordingHttp http;
  Sources s = Recording(root_, http);
  s.metadata = MetadataPolicy::kAny;
  WriteFile(root_ / "sys/class/dmi/id/sys_vendor", "Amazon EC2\n");  // identified: AWS would be asked
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt",
            kCloudConfig + "ssh_authorized_keys:\n  - " + S(kAlice) + "\n");
  WriteFile(root_ / "run/cloud-init/instance-data.json",
            InstanceJson("aws", "[\"" + S(kAlice) + "\", \"" + S(kBob) + "\", \"ssh-rsa junk\"]", "ip-10-0-0-9"));
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(http.urls.empty()) << "asked " << http.urls.front();
  EXPECT_EQ(c->cloud, "aws");
  EXPECT_EQ(c->instance_data, "/run/cloud-init/instance-data.json");
  EXPECT_EQ(c->platform, "nocloud");
  EXPECT_EQ(c->region, "eu-test-1");
  EXPECT_EQ(c->instance_id, "iid-test-1");
  EXPECT_EQ(c->metadata_url, "");
  EXPECT_EQ(c->ssh_keys, (std::vector<std::string>{S(kAlice), S(kBob)}));
  EXPECT_EQ(c->ssh_key_from, (std::vector<std::string>{"/var/lib/cloud/instance/user-data.txt",
                                                       "cloud-init's /run/cloud-init/instance-data.json"}));
  EXPECT_EQ(c->hostname, "ip-10-0-0-9");
  EXPECT_EQ(c->hostname_from, "cloud-init's /run/cloud-init/instance-data.json");
  EXPECT_TRUE(HasNote(*c, "no metadata service is asked")) << Notes(*c);
  EXPECT_TRUE(HasNote(*c, "skipped a key from /run/cloud-init/instance-data.json")) << Notes(*c);
  const auto j = ToJson(*c);
  EXPECT_EQ(j["from"]["hostname"], "cloud-init's /run/cloud-init/instance-data.json");
  EXPECT_EQ(j["from"]["ssh_keys"].size(), 2u);
  EXPECT_EQ(j["instance_data"]["instance_id"], "iid-test-1");
  EXPECT_NE(ToText(*c).find("(from cloud-init's /run/cloud-init/instance-data.json)"), std::string::npos);

  // user-data's hostname comes first; cloud-init's "gce" is bootrino's "gcp"; a key list in one string is read
  // line by line.
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt", kCloudConfig + "hostname: from-user-data\n");
  WriteFile(root_ / "run/cloud-init/instance-data.json",
            InstanceJson("gce", "\"" + S(kAlice) + "\\n" + S(kBob) + "\\n\"", "gce-host"));
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->cloud, "gcp");
  EXPECT_EQ(c->hostname, "from-user-data");
  EXPECT_EQ(c->hostname_from, "/var/lib/cloud/instance/user-data.txt");
  EXPECT_EQ(c->ssh_keys, (std::vector<std::string>{S(kAlice), S(kBob)}));
  EXPECT_TRUE(http.urls.empty());

  // Malformed user-data fails Resolve; not strict, it loses only its own part, and says why.
  WriteFile(root_ / "var/lib/cloud/instance/user-data.txt", "#cloud-config\nbootrino:\n  manifest: [unclosed\n");
  EXPECT_FALSE(Resolve(s));
  s.strict = false;
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(c->user_data_error);
  EXPECT_NE(c->user_data_error->message().find("line 3"), std::string::npos) << c->user_data_error->message();
  EXPECT_EQ(c->manifest, "");
  EXPECT_EQ(c->hostname, "gce-host");
  EXPECT_EQ(c->ssh_keys, (std::vector<std::string>{S(kAlice), S(kBob)}));
  EXPECT_EQ(c->ssh_key_from[0], "cloud-init's /run/cloud-init/instance-data.json");
}

TEST_F(ResolveTest, TheSensitiveRecordComesFirstAndPlaceholdersAreNotNames) {
  RecordingHttp http;
  Sources s = Recording(root_, http);
  WriteFile(root_ / "run/cloud-init/instance-data.json", InstanceJson("nocloud", "[]", "redacted-copy"));
  WriteFile(root_ / "run/cloud-init/instance-data-sensitive.json",
            InstanceJson("nocloud", "[\"" + S(kBob) + "\"]", "localhost"));
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->instance_data, "/run/cloud-init/instance-data-sensitive.json");
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kBob)});
  EXPECT_EQ(c->hostname, "");  // cloud-init's placeholder for a platform that names none
  EXPECT_TRUE(HasNote(*c, "not the hostname \"localhost\"")) << Notes(*c);
  EXPECT_EQ(c->cloud, "nocloud");
  // NoCloud's record says cloud_name "unknown" (it has no cloud of its own): the platform names it.
  fs::remove(root_ / "run/cloud-init/instance-data-sensitive.json");
  WriteFile(root_ / "run/cloud-init/instance-data.json", InstanceJson("unknown", "[\"" + S(kBob) + "\"]", "n1"));
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->cloud, "nocloud");
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kBob)});
  // cloud-init's Ec2 datasource on a platform it did not identify believed whoever answered: not taken.
  std::string ec2 = InstanceJson("unknown", "[\"" + S(kBob) + "\"]", "spoofed");
  ec2.replace(ec2.find("\"platform\": \"nocloud\""), 21, "\"platform\": \"ec2\"");
  WriteFile(root_ / "run/cloud-init/instance-data.json", ec2);
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->ssh_keys.empty());
  EXPECT_EQ(c->hostname, "");
  EXPECT_TRUE(HasNote(*c, "believed whoever answered 169.254.169.254")) << Notes(*c);
  EXPECT_TRUE(http.urls.empty());
}

TEST_F(ResolveTest, ARecordOnlyCloudInitCouldHaveWrittenIsBelieved) {
  RecordingHttp http;
  Sources s = Recording(root_, http);
  WriteFile(root_ / "sys/class/dmi/id/sys_vendor", "DigitalOcean\n");
  const fs::path record = root_ / "run/cloud-init/instance-data.json";
  WriteFile(record, InstanceJson("nocloud", "[\"" + S(kBob) + "\"]", "written-by-anyone"));
  fs::permissions(record, fs::perms::others_write, fs::perm_options::add);
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->instance_data, "");
  EXPECT_TRUE(c->ssh_keys.empty());
  EXPECT_TRUE(HasNote(*c, "skipped /run/cloud-init/instance-data.json: owned by uid")) << Notes(*c);
  EXPECT_EQ(http.urls, std::vector<std::string>{"GET http://do.test/metadata/v1/id"});  // as if cloud-init had not run

  // A symbolic link is not followed, whoever could have made it.
  fs::remove(record);
  WriteFile(root_ / "elsewhere.json", InstanceJson("nocloud", "[\"" + S(kBob) + "\"]", "linked"));
  fs::create_symlink(root_ / "elsewhere.json", record);
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->instance_data, "");
  EXPECT_TRUE(HasNote(*c, "skipped /run/cloud-init/instance-data.json")) << Notes(*c);

  // Not JSON, or no v1: not cloud-init's record either.
  fs::remove(record);
  WriteFile(record, "{\"v2\": {}}");
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(HasNote(*c, "skipped /run/cloud-init/instance-data.json has no v1 object")) << Notes(*c);
  WriteFile(record, "not json");
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(HasNote(*c, "skipped /run/cloud-init/instance-data.json is not a JSON object")) << Notes(*c);

  // cloud-init that found no datasource ("none") knows nothing of the platform: the services are asked as before.
  http.urls.clear();
  WriteFile(record, InstanceJson("none", "[]", "localhost"));
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(http.urls, std::vector<std::string>{"GET http://do.test/metadata/v1/id"});
  EXPECT_TRUE(HasNote(*c, "found no datasource")) << Notes(*c);
}

// ---- a config drive ----------------------------------------------------------------------------------------------

// A config drive the host mounted (as cloud-init mounts one): its user_data, and its meta_data.json's keys and
// hostname in place of any metadata service's. Only the mount of a block device labelled config-2 is one.
TEST_F(LoopVolumeTest, MountedConfigDriveGivesUserDataKeysAndHostname) {
  MakeVfat(root_ / "drive.img", "config-2");
  MakeVfat(root_ / "plain.img", "data");
  if (!Attach(root_ / "plain.img", "plain0") || !Attach(root_ / "drive.img", "sr0")) {
    GTEST_SKIP() << "losetup could not attach a loop device";
  }
  const std::string plain_id = ids_["plain0"], drive_id = ids_["sr0"];
  WriteFile(root_ / "proc/self/mountinfo",
            "25 1 " + plain_id + " / /mnt/data rw - vfat /dev/plain0 rw\n"
            "90 25 0:77 / /home/eve/drive rw - fuse.x /dev/sr0 rw\n"
            "91 25 " + drive_id + " / /media/config ro - vfat /dev/sr0 ro\n");
  // The same files on a volume labelled otherwise, and on a FUSE mount whose source names the drive: neither is it.
  for (const char* mount : {"mnt/data", "home/eve/drive"}) {
    WriteFile(root_ / mount / "openstack/latest/meta_data.json",
              R"({"uuid": "x", "hostname": "spoofed", "public_keys": {"k": ")" + S(kBob) + R"("}})");
    WriteFile(root_ / mount / "openstack/latest/user_data", "#cloud-config\nbootrino: " + S(kOtherRef) + "\n");
  }
  // meta_data.json as Nova writes it on a config drive, trimmed.
  const std::string meta =
      R"({"uuid": "d8e02d56-2648-49a3-bf97-6be8f1204f38", "hostname": "os-drive-1.novalocal", "name": "os-drive-1",)"
      R"( "public_keys": {"mykey": ")" + S(kAlice) + R"(\n"}, "keys": [{"name": "mykey", "type": "ssh",)"
      R"( "data": ")" + S(kAlice) + R"(\n"}], "availability_zone": "nova", "launch_index": 0, "devices": []})";
  WriteFile(root_ / "media/config/openstack/latest/meta_data.json", meta);
  WriteFile(root_ / "media/config/openstack/latest/user_data", kCloudConfig);
  WriteFile(root_ / "sys/class/dmi/id/product_name", "OpenStack Nova\n");  // identified: its service could be asked
  RecordingHttp http;
  Sources s = Recording(root_, http);
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(http.urls.empty()) << "asked " << http.urls.front();
  EXPECT_EQ(c->source, "/media/config/openstack/latest/user_data");
  EXPECT_EQ(InstanceOf(*c), (Instance{"configdrive", S(kRef), {S(kAlice)}, "os-drive-1.novalocal"}));
  EXPECT_EQ(c->ssh_key_from, std::vector<std::string>{"config drive /media/config/openstack/latest/meta_data.json"});
  EXPECT_TRUE(HasNote(*c, "a config drive is mounted at /media/config (instance d8e02d56-2648-49a3-bf97-6be8f1204f38)"))
      << Notes(*c);

  // Not OpenStack's document: noted, and the identified cloud's service is asked as on a host without a drive.
  WriteFile(root_ / "media/config/openstack/latest/meta_data.json", R"({"hostname": "no-uuid"})");
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(http.urls, std::vector<std::string>{"GET http://other.test/openstack/latest/meta_data.json"});
  EXPECT_TRUE(HasNote(*c, "skipped the config drive at /media/config: /media/config/openstack/latest/meta_data.json "
                          "is a JSON object without a uuid"))
      << Notes(*c);
  EXPECT_EQ(c->hostname, "");
  EXPECT_EQ(c->source, "/media/config/openstack/latest/user_data");

  // cloud-init's record comes first.
  http.urls.clear();
  WriteFile(root_ / "media/config/openstack/latest/meta_data.json", meta);
  WriteFile(root_ / "run/cloud-init/instance-data.json", InstanceJson("configdrive", "[\"" + S(kBob) + "\"]", "rec"));
  c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(http.urls.empty());
  EXPECT_EQ(c->cloud, "configdrive");
  EXPECT_EQ(c->hostname, "rec");
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kBob)});
}

TEST_F(ResolveTest, TheNewServicesAreAskedOnlyWhereIdentified) {
  RecordingHttp http;
  Sources s = Recording(root_, http);
  s.other_url = "http://other.test";
  s.metadata = MetadataPolicy::kAny;  // even the opt-in asks only AWS, GCP and DigitalOcean on an unknown host
  ASSERT_TRUE(Resolve(s));
  for (const std::string& url : http.urls) {
    EXPECT_EQ(url.find("other.test"), std::string::npos) << url;
    EXPECT_EQ(url.find("scaleway.test"), std::string::npos) << url;
  }
  const std::vector<std::pair<std::string, std::string>> hosts = {
      {"chassis_asset_tag", "7783-7084-3265-9085-8269-3286-77"}, {"chassis_asset_tag", "OracleCloud.com"},
      {"sys_vendor", "Hetzner"}, {"product_name", "OpenStack Compute"}, {"sys_vendor", "Vultr"},
      {"sys_vendor", "Linode"}, {"sys_vendor", "Scaleway"}, {"product_name", "Exoscale"}};
  const std::vector<std::string> first = {"GET http://other.test/metadata/instance?api-version=2021-02-01",
                                          "GET http://other.test/opc/v2/instance/",
                                          "GET http://other.test/hetzner/v1/metadata",
                                          "GET http://other.test/openstack/latest/meta_data.json",
                                          "GET http://other.test/v1.json",
                                          "PUT http://other.test/v1/token",
                                          "GET http://scaleway.test/conf?format=json",
                                          "GET http://other.test/latest/meta-data/instance-id"};
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    fs::remove_all(root_ / "sys");
    WriteFile(root_ / "sys/class/dmi/id" / hosts[i].first, hosts[i].second + "\n");
    http.urls.clear();
    http.headers.clear();
    ASSERT_TRUE(Resolve(s));
    EXPECT_EQ(http.urls, std::vector<std::string>{first[i]}) << hosts[i].second;
  }
  // The headers each service requires: Azure's and Oracle's.
  fs::remove_all(root_ / "sys");
  WriteFile(root_ / "sys/class/dmi/id/chassis_asset_tag", "OracleCloud.com\n");
  http.headers.clear();
  ASSERT_TRUE(Resolve(s));
  EXPECT_NE(std::find(http.headers.begin(), http.headers.end(),
                      "http://other.test/opc/v2/instance/ Authorization: Bearer Oracle"),
            http.headers.end());
  // Linode's token is asked for with its lifetime.
  fs::remove_all(root_ / "sys");
  WriteFile(root_ / "sys/class/dmi/id/sys_vendor", "Linode\n");
  http.headers.clear();
  ASSERT_TRUE(Resolve(s));
  EXPECT_EQ(http.headers, std::vector<std::string>{"http://other.test/v1/token Metadata-Token-Expiry-Seconds: 60"});
}

TEST_F(ResolveTest, GcpIsAskedAtItsAddressNeverByDnsName) {
  // Whoever answers DNS for metadata.google.internal would otherwise choose the service.
  Sources defaults;
  EXPECT_EQ(defaults.gcp_url, "http://169.254.169.254");
  EXPECT_EQ(defaults.aws_url, "http://169.254.169.254");
  EXPECT_EQ(defaults.digitalocean_url, "http://169.254.169.254");
  RecordingHttp http;
  Sources s = defaults;
  s.root = root_.string();
  s.http = &http;
  WriteFile(root_ / "sys/class/dmi/id/product_serial", "GoogleCloud-0123456789ABCDEF\n");
  ASSERT_TRUE(Resolve(s));
  EXPECT_EQ(http.urls, std::vector<std::string>{"GET http://169.254.169.254/computeMetadata/v1/instance/hostname"});
  EXPECT_EQ(http.headers, std::vector<std::string>{"http://169.254.169.254/computeMetadata/v1/instance/hostname "
                                                   "Metadata-Flavor: Google"});
}

TEST_F(ResolveTest, MetadataPolicyNames) {
  for (MetadataPolicy p : {MetadataPolicy::kNever, MetadataPolicy::kIdentified, MetadataPolicy::kAny}) {
    EXPECT_EQ(MetadataPolicyFromName(MetadataPolicyName(p)), p);
  }
  EXPECT_EQ(MetadataPolicyName(MetadataPolicy::kIdentified), "identified");
  EXPECT_EQ(MetadataPolicyFromName("any"), MetadataPolicy::kAny);
  EXPECT_EQ(MetadataPolicyFromName("never"), MetadataPolicy::kNever);
  EXPECT_EQ(MetadataPolicyFromName("all"), std::nullopt);
  EXPECT_EQ(MetadataPolicyFromName(""), std::nullopt);
}

TEST_F(ResolveTest, ANonCloudHostFailsFast) {
  // Refused everywhere: at once.
  Sources s = Nothing();
  auto start = Clock::now();
  auto c = Resolve(s);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_EQ(c->cloud, "");
  EXPECT_TRUE(HasNote(*c, "no metadata service answered (aws: PUT " + closed_ + "/latest/api/token:")) << Notes(*c);

  // A server that accepts and never answers: the three services wait out one request timeout together.
  s.aws_url = s.gcp_url = s.digitalocean_url = Url("silent");
  s.request_timeout = std::chrono::milliseconds(800);
  start = Clock::now();
  c = Resolve(s);
  const auto took = Clock::now() - start;
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_GE(took, std::chrono::milliseconds(700));
  EXPECT_LT(took, std::chrono::milliseconds(2000));
  EXPECT_TRUE(HasNote(*c, "Operation timed out")) << Notes(*c);
}

/// Unsets an environment variable for a scope, and puts back what it held: the
/// tests may run under a harness that sets it (tests/integration/lib.sh does).
class UnsetEnv {
 public:
  explicit UnsetEnv(const char* name) : name_(name) {
    if (const char* v = std::getenv(name)) saved_ = v;
    unsetenv(name);
  }
  ~UnsetEnv() {
    if (saved_) setenv(name_, saved_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

TEST_F(ResolveTest, HostSourcesFromTheEnvironment) {
  UnsetEnv imds("BOOTRINO_IMDS_URL"), root("BOOTRINO_USERDATA_ROOT");
  Sources plain = HostSources();
  EXPECT_EQ(plain.root, "/");
  EXPECT_EQ(plain.metadata, MetadataPolicy::kIdentified);
  EXPECT_EQ(plain.aws_url, "http://169.254.169.254");
  EXPECT_EQ(plain.gcp_url, "http://169.254.169.254");
  EXPECT_EQ(plain.scaleway_url, "http://169.254.42.42");
  setenv("BOOTRINO_IMDS_URL", "http://127.0.0.1:8000/x", 1);
  setenv("BOOTRINO_USERDATA_ROOT", root_.c_str(), 1);
  Sources s = HostSources();
  unsetenv("BOOTRINO_IMDS_URL");
  unsetenv("BOOTRINO_USERDATA_ROOT");
  EXPECT_EQ(s.aws_url, "http://127.0.0.1:8000/x");
  EXPECT_EQ(s.gcp_url, "http://127.0.0.1:8000/x");
  EXPECT_EQ(s.digitalocean_url, "http://127.0.0.1:8000/x");
  EXPECT_EQ(s.other_url, "http://127.0.0.1:8000/x");
  EXPECT_EQ(s.scaleway_url, "http://127.0.0.1:8000/x");
  // Where the services are, not whether they are asked: a fake is met by the same rule.
  EXPECT_EQ(s.metadata, MetadataPolicy::kIdentified);
  EXPECT_EQ(s.root, root_.string());
}

}  // namespace
}  // namespace userdata

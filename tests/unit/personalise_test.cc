#include "ramos/personalise.h"

#include <archive_entry.h>
#include <gtest/gtest.h>

#include "tests/unit/archive_reader.h"

namespace ramos {
namespace {

using fetch::Personalisation;
using testing_support::FindMember;
using testing_support::ReadArchive;

constexpr const char* kKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBootrinoTestKey alice@laptop";

RamOsSettings Settings(host::NetworkMode mode = host::NetworkMode::kDhcp) {
  RamOsSettings s;
  s.ssh_keys = {kKey};
  s.hostname = "ram-01";
  s.status_url = "https://ops.example.com/events";
  s.network_mode = mode;
  s.network.interfaces = {{"ens3", "eth0", "aa:bb:cc:00:00:03", {"203.0.113.5/20", "2001:db8::5/64"}, 1500, 2, {}}};
  s.network.routes = {{"0.0.0.0/0", "203.0.113.1", "ens3", false}, {"::/0", "2001:db8::1", "ens3", true}};
  s.network.nameservers = {"67.207.67.2"};
  return s;
}

PersonalFiles Make(Personalisation style, const RamOsSettings& s, std::vector<std::string> payload = {"vmlinuz"}) {
  auto out = Personalise(style, s, "{\"name\": \"x\"}\n", "0123456789abcdef", payload);
  EXPECT_TRUE(out) << out.error().message();
  return out ? *out : PersonalFiles{};
}

std::vector<std::string> OverlayPaths(const PersonalFiles& p) {
  std::vector<std::string> paths;
  for (const auto& f : p.overlay) paths.push_back(f.path);
  return paths;
}

const disk::BootFile* BootFile(const PersonalFiles& p, const std::string& name) {
  for (const auto& f : p.boot_partition) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(PersonaliseTest, NoneKeepsOnlyBootrinosOwnFiles) {
  auto p = Make(Personalisation::kNone, Settings());
  EXPECT_EQ(OverlayPaths(p), (std::vector<std::string>{"etc/bootrino/manifest.json", "etc/bootrino/network.json",
                                                       "etc/bootrino/status-url"}));
  EXPECT_TRUE(p.boot_partition.empty() && p.kexec_extra.empty() && p.kexec_params.empty() && p.disk_params.empty());
  EXPECT_EQ(p.summary["style"], "none");
  // The status URL may carry a token: readable by root only in the RAM OS.
  EXPECT_EQ(p.overlay[2].mode, 0600u);
  EXPECT_EQ(p.overlay[2].contents, Settings().status_url + "\n");
}

TEST(PersonaliseTest, OverlayWritesKeysHostnameAndOnlyAStaticNetwork) {
  auto dhcp = Make(Personalisation::kInitramfsOverlay, Settings());
  EXPECT_EQ(OverlayPaths(dhcp), (std::vector<std::string>{"etc/bootrino/manifest.json", "etc/bootrino/network.json",
                                                          "etc/bootrino/status-url", "root/.ssh/authorized_keys",
                                                          "etc/hostname"}));
  EXPECT_EQ(dhcp.overlay[3].contents, std::string(kKey) + "\n");
  EXPECT_EQ(dhcp.overlay[3].mode, 0600u);
  EXPECT_EQ(dhcp.overlay[4].contents, "ram-01\n");
  EXPECT_NE(dhcp.overlay[1].contents.find("\"mode\": \"dhcp\""), std::string::npos);
  auto fixed = Make(Personalisation::kInitramfsOverlay, Settings(host::NetworkMode::kStatic));
  auto paths = OverlayPaths(fixed);
  ASSERT_EQ(paths.size(), 8u);
  EXPECT_EQ(paths[5], "etc/network/interfaces");
  EXPECT_EQ(paths[6], "etc/bootrino/ifnames.sh");
  EXPECT_EQ(paths[7], "etc/resolv.conf");
  EXPECT_NE(fixed.overlay[5].contents.find("iface eth0 inet static\n\taddress 203.0.113.5\n"), std::string::npos);
  // The stanzas' pre-up renames the device with the host's MAC to eth0: the script goes with them.
  EXPECT_NE(fixed.overlay[5].contents.find("\tpre-up /bin/sh /etc/bootrino/ifnames.sh\n"), std::string::npos);
  EXPECT_EQ(fixed.overlay[6].mode, 0755u);
  EXPECT_NE(fixed.overlay[6].contents.find("\nname aa:bb:cc:00:00:03 eth0  # ens3 on the host\n"), std::string::npos);
  EXPECT_TRUE(fixed.boot_partition.empty() && fixed.kexec_params.empty());
}

TEST(PersonaliseTest, ApkovlOnTheBootPartitionAndInTheKexecInitrd) {
  auto p = Make(Personalisation::kAlpineApkovl, Settings());
  const disk::BootFile* apkovl = BootFile(p, "bootrino.apkovl.tar.gz");
  ASSERT_NE(apkovl, nullptr);
  EXPECT_TRUE(apkovl->source.empty());
  EXPECT_EQ(apkovl->size, apkovl->data.size());
  auto members = ReadArchive(apkovl->data);
  std::vector<std::string> paths;
  for (const auto& m : members) paths.push_back(m.path);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "etc/.default_boot_services", "etc/apk/world", "etc/bootrino/manifest.json",
                       "etc/bootrino/network.json", "etc/bootrino/status-url", "etc/hostname", "etc/network/interfaces",
                       "etc/runlevels/boot/networking", "etc/runlevels/default/sshd", "root", "root/.ssh",
                       "root/.ssh/authorized_keys"}));
  EXPECT_EQ(FindMember(members, "etc/runlevels/default/sshd")->link, "/etc/init.d/sshd");
  EXPECT_EQ(FindMember(members, "etc/runlevels/boot/networking")->type, static_cast<unsigned>(AE_IFLNK));
  EXPECT_EQ(FindMember(members, "root")->mode, 0700u);
  EXPECT_EQ(FindMember(members, "root/.ssh")->mode, 0700u);
  EXPECT_EQ(FindMember(members, "root/.ssh/authorized_keys")->mode, 0600u);
  EXPECT_EQ(FindMember(members, "etc/bootrino/status-url")->mode, 0600u);
  EXPECT_EQ(FindMember(members, "root/.ssh/authorized_keys")->uid, 0);
  EXPECT_EQ(FindMember(members, "etc/apk/world")->data, "alpine-base\nopenssh\n");
  EXPECT_NE(FindMember(members, "etc/network/interfaces")->data.find("iface eth0 inet dhcp"), std::string::npos);
  EXPECT_EQ(FindMember(members, "etc/bootrino/boot-id"), nullptr) << "the boot id is the kexec boot's alone";
  // The kexec boot: its own copy (with the boot id) at the initramfs root, named by apkovl=.
  ASSERT_EQ(p.kexec_extra.size(), 1u);
  EXPECT_EQ(p.kexec_extra[0].path, "bootrino.apkovl.tar.gz");
  auto once = ReadArchive(p.kexec_extra[0].data);
  ASSERT_NE(FindMember(once, "etc/bootrino/boot-id"), nullptr);
  EXPECT_EQ(FindMember(once, "etc/bootrino/boot-id")->data, "0123456789abcdef\n");
  EXPECT_EQ(p.kexec_params, (std::vector<std::string>{"apkovl=/bootrino.apkovl.tar.gz"}));
  EXPECT_TRUE(p.disk_params.empty()) << "firmware boots find the apkovl on the boot partition by themselves";
}

TEST(PersonaliseTest, ApkovlWithoutKeysInstallsNothingAndStaticAddsIp) {
  RamOsSettings s = Settings(host::NetworkMode::kStatic);
  s.ssh_keys.clear();
  auto p = Make(Personalisation::kAlpineApkovl, s);
  auto members = ReadArchive(BootFile(p, "bootrino.apkovl.tar.gz")->data);
  EXPECT_EQ(FindMember(members, "etc/apk/world"), nullptr);
  EXPECT_EQ(FindMember(members, "etc/runlevels/default/sshd"), nullptr);
  EXPECT_EQ(FindMember(members, "root"), nullptr);
  ASSERT_NE(FindMember(members, "etc/resolv.conf"), nullptr);
  EXPECT_NE(FindMember(members, "etc/network/interfaces")->data.find("gateway 203.0.113.1"), std::string::npos);
  ASSERT_NE(FindMember(members, "etc/bootrino/ifnames.sh"), nullptr);
  EXPECT_EQ(FindMember(members, "etc/bootrino/ifnames.sh")->mode, 0755u);
  const std::string ip = "ip=203.0.113.5::203.0.113.1:255.255.240.0::eth0:none:67.207.67.2";
  EXPECT_EQ(p.kexec_params, (std::vector<std::string>{"apkovl=/bootrino.apkovl.tar.gz", ip}));
  EXPECT_EQ(p.disk_params, (std::vector<std::string>{ip}));
}

TEST(PersonaliseTest, TinyCoreMydataOwnedAsTinyCoreExpects) {
  auto p = Make(Personalisation::kTinyCoreMydata, Settings(host::NetworkMode::kStatic));
  const disk::BootFile* mydata = BootFile(p, "tce/mydata.tgz");
  ASSERT_NE(mydata, nullptr);
  auto members = ReadArchive(mydata->data);
  std::vector<std::string> paths;
  for (const auto& m : members) paths.push_back(m.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"home/tc/.ssh", "home/tc/.ssh/authorized_keys", "opt/.filetool.lst",
                                             "opt/bootlocal.sh", "opt/bootrino-network.sh", "root/.ssh",
                                             "root/.ssh/authorized_keys"}));
  const auto* keys = FindMember(members, "home/tc/.ssh/authorized_keys");
  EXPECT_EQ(keys->uid, 1001);
  EXPECT_EQ(keys->gid, 50);
  EXPECT_EQ(keys->uname, "tc");
  EXPECT_EQ(keys->gname, "staff");
  EXPECT_EQ(keys->mode, 0600u);
  EXPECT_EQ(FindMember(members, "home/tc/.ssh")->mode, 0700u);
  EXPECT_EQ(FindMember(members, "root/.ssh/authorized_keys")->uid, 0);
  EXPECT_EQ(FindMember(members, "opt/bootlocal.sh")->gid, 50);
  EXPECT_EQ(FindMember(members, "opt/.filetool.lst")->data, "opt\nhome\nroot/.ssh\n");
  const std::string bootlocal = FindMember(members, "opt/bootlocal.sh")->data;
  EXPECT_NE(bootlocal.find("/opt/bootrino-network.sh\n"), std::string::npos);
  EXPECT_NE(bootlocal.find("/usr/local/etc/init.d/openssh start"), std::string::npos);
  EXPECT_NE(FindMember(members, "opt/bootrino-network.sh")->data.find("iface aa:bb:cc:00:00:03"), std::string::npos);
  const std::vector<std::string> params = {"restore=LABEL=BOOTRINO/tce", "host=ram-01", "nodhcp"};
  EXPECT_EQ(p.kexec_params, params);
  EXPECT_EQ(p.disk_params, params);
  // Tiny Core runs from its initramfs: the kexec boot gets the same files, and tc's home first.
  std::vector<std::string> kexec;
  for (const auto& e : p.kexec_extra) kexec.push_back(e.path);
  EXPECT_NE(std::find(kexec.begin(), kexec.end(), "home/tc"), kexec.end());
  EXPECT_NE(std::find(kexec.begin(), kexec.end(), "opt/bootlocal.sh"), kexec.end());
  auto cpio = ramos::BuildArchive(p.kexec_extra, ramos::ArchiveFormat::kCpioNewc);
  ASSERT_TRUE(cpio) << cpio.error().message();
  auto in_initrd = ReadArchive(*cpio);
  EXPECT_EQ(in_initrd.front().path, "home");
  EXPECT_EQ(FindMember(in_initrd, "home/tc")->uid, 1001);
}

TEST(PersonaliseTest, TinyCoreWithoutKeysOrStaticNetwork) {
  RamOsSettings s;
  auto p = Make(Personalisation::kTinyCoreMydata, s);
  auto members = ReadArchive(BootFile(p, "tce/mydata.tgz")->data);
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(FindMember(members, "opt/.filetool.lst")->data, "opt\nhome\n");
  EXPECT_EQ(FindMember(members, "opt/bootlocal.sh")->data, "#!/bin/sh\n# put other system startup commands here\n");
  EXPECT_EQ(p.kexec_params, (std::vector<std::string>{"restore=LABEL=BOOTRINO/tce"}));
}

TEST(PersonaliseTest, SameSettingsGiveTheSameBytes) {
  auto a = Make(Personalisation::kAlpineApkovl, Settings());
  auto b = Make(Personalisation::kAlpineApkovl, Settings());
  EXPECT_EQ(a.boot_partition[0].data, b.boot_partition[0].data);
  auto c = Make(Personalisation::kTinyCoreMydata, Settings());
  auto d = Make(Personalisation::kTinyCoreMydata, Settings());
  EXPECT_EQ(c.boot_partition[0].data, d.boot_partition[0].data);
}

TEST(PersonaliseTest, RefusesCollisionsAndUnsafeSettings) {
  auto kind = [](Personalisation style, const RamOsSettings& s, std::vector<std::string> payload) {
    auto r = Personalise(style, s, "{}", "id", payload);
    return r ? base::ErrorKind::kInternal : r.error().kind();
  };
  const RamOsSettings s = Settings();
  EXPECT_EQ(kind(Personalisation::kAlpineApkovl, s, {"BOOTRINO.APKOVL.TAR.GZ"}), base::ErrorKind::kManifest);
  EXPECT_EQ(kind(Personalisation::kAlpineApkovl, s, {"host.apkovl.tar.gz"}), base::ErrorKind::kManifest);
  EXPECT_EQ(kind(Personalisation::kTinyCoreMydata, s, {"tce/mydata.tgz"}), base::ErrorKind::kManifest);
  EXPECT_TRUE(Personalise(Personalisation::kAlpineApkovl, s, "{}", "id", {"boot/host.apkovl.tar.gz"}));
  EXPECT_TRUE(Personalise(Personalisation::kInitramfsOverlay, s, "{}", "id", {"host.apkovl.tar.gz"}));
  RamOsSettings bad_key = s;
  bad_key.ssh_keys = {"ssh-ed25519 AAAA a\nssh-rsa injected"};
  EXPECT_EQ(kind(Personalisation::kInitramfsOverlay, bad_key, {}), base::ErrorKind::kUsage);
  RamOsSettings bad_host = s;
  bad_host.hostname = "ram 01 init=/bin/sh";
  EXPECT_EQ(kind(Personalisation::kTinyCoreMydata, bad_host, {}), base::ErrorKind::kUsage);
}

}  // namespace
}  // namespace ramos

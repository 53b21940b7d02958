#include "ramos/personalise.h"

#include <algorithm>

#include "ramos/network_config.h"
#include "userdata/userdata.h"

namespace ramos {
namespace {

using base::ErrorKind;
using Entry = ramos::ArchiveEntry;
using Type = ramos::ArchiveEntry::Type;
using json = nlohmann::ordered_json;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

std::string KeysText(const RamOsSettings& s) {
  std::string keys;
  for (const auto& k : s.ssh_keys) keys += k + "\n";
  return keys;
}

// Keys become lines of authorized_keys and the hostname a kernel parameter
// (Tiny Core's host=): neither may carry a line break or a space.
base::Result<void> CheckSettings(const RamOsSettings& s) {
  for (const auto& k : s.ssh_keys) {
    if (k.empty() || k.find_first_of(std::string_view("\n\r\0", 3)) != std::string::npos) {
      return base::Fail(base::Error(ErrorKind::kUsage, "an SSH key for the RAM OS is empty or holds a line break")
                            .Hint("give one authorized_keys line per key"));
    }
  }
  if (!std::all_of(s.hostname.begin(), s.hostname.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
      })) {
    return base::Fail(base::Error(ErrorKind::kUsage, "the RAM OS's hostname \"" + s.hostname + "\" is not a host name")
                          .Hint("use letters, digits, '-' and '.' only"));
  }
  return {};
}

// etc/bootrino/: what every style gets, for the RAM OS's own tools.
std::vector<kexec::OverlayFile> BootrinoFiles(const RamOsSettings& s, const std::string& manifest_json) {
  std::vector<kexec::OverlayFile> files = {
      {"etc/bootrino/manifest.json", manifest_json, 0644},
      {"etc/bootrino/network.json", host::NetworkJson(s.network, s.network_mode, s.network_reason).dump(2) + "\n",
       0644}};
  // The status URL may carry a token (user:password@ or a query string): root's only.
  if (!s.status_url.empty()) files.push_back({"etc/bootrino/status-url", s.status_url + "\n", 0600});
  return files;
}

std::vector<Entry> AsEntries(const std::vector<kexec::OverlayFile>& files) {
  std::vector<Entry> out;
  for (const auto& f : files) out.push_back({f.path, Type::kFile, f.mode, f.contents});
  return out;
}

// `overlay`: the files themselves, where a Linux-like RAM OS reads them.
void OverlayStyle(const RamOsSettings& s, PersonalFiles& out) {
  if (!s.ssh_keys.empty()) out.overlay.push_back({"root/.ssh/authorized_keys", KeysText(s), 0600});
  if (!s.hostname.empty()) out.overlay.push_back({"etc/hostname", s.hostname + "\n", 0644});
  if (s.network_mode == host::NetworkMode::kStatic) {
    out.overlay.push_back({"etc/network/interfaces", InterfacesFile(s.network, s.network_mode), 0644});
    out.overlay.push_back({kInterfaceNamesPath, InterfaceNamesScript(s.network), 0755});
    if (std::string resolv = ResolvConf(s.network); !resolv.empty())
      out.overlay.push_back({"etc/resolv.conf", resolv, 0644});
  }
}

// Alpine's apkovl: its initramfs-init unpacks it into the new root (tar -C
// $sysroot -zxvf) and, with etc/.default_boot_services present, still enables
// its default services; OpenRC services start from etc/runlevels symlinks.
std::vector<Entry> ApkovlEntries(const RamOsSettings& s, const std::vector<kexec::OverlayFile>& bootrino) {
  std::vector<Entry> e = AsEntries(bootrino);
  e.push_back({"etc/.default_boot_services", Type::kFile, 0644, ""});
  e.push_back({"etc/network/interfaces", Type::kFile, 0644, InterfacesFile(s.network, s.network_mode)});
  e.push_back({"etc/runlevels/boot/networking", Type::kSymlink, 0755, "/etc/init.d/networking"});
  if (!s.hostname.empty()) e.push_back({"etc/hostname", Type::kFile, 0644, s.hostname + "\n"});
  if (s.network_mode == host::NetworkMode::kStatic) {
    e.push_back({kInterfaceNamesPath, Type::kFile, 0755, InterfaceNamesScript(s.network)});
    if (std::string resolv = ResolvConf(s.network); !resolv.empty())
      e.push_back({"etc/resolv.conf", Type::kFile, 0644, resolv});
  }
  if (!s.ssh_keys.empty()) {
    // As Alpine's own ssh_key= boot parameter does: install openssh and start sshd.
    e.push_back({"etc/apk/world", Type::kFile, 0644, "alpine-base\nopenssh\n"});
    e.push_back({"etc/runlevels/default/sshd", Type::kSymlink, 0755, "/etc/init.d/sshd"});
    e.push_back({"root", Type::kDirectory, 0700, ""});
    e.push_back({"root/.ssh", Type::kDirectory, 0700, ""});
    e.push_back({"root/.ssh/authorized_keys", Type::kFile, 0600, KeysText(s)});
  }
  return e;
}

base::Result<void> ApkovlStyle(const RamOsSettings& s, const std::vector<kexec::OverlayFile>& bootrino,
                               const std::string& boot_id, PersonalFiles& out) {
  std::vector<Entry> every = ApkovlEntries(s, bootrino);
  ASSIGN_OR_RETURN(std::string disk, ramos::BuildArchive(every, ramos::ArchiveFormat::kTarGz));
  every.push_back({"etc/bootrino/boot-id", Type::kFile, 0644, boot_id + "\n"});
  ASSIGN_OR_RETURN(std::string once, ramos::BuildArchive(every, ramos::ArchiveFormat::kTarGz));
  // Firmware boots: nlplug-findfs finds *.apkovl.tar.gz at the top of any
  // partition it mounts. The kexec boot cannot count on the disk (--keep-disk),
  // so it carries its own copy in the initramfs and names it with apkovl=.
  out.boot_partition.push_back({kApkovlName, "", disk, disk.size(), {}});
  out.kexec_extra.push_back({kApkovlName, Type::kFile, 0644, once});
  out.kexec_params.push_back(std::string("apkovl=/") + kApkovlName);
  if (s.network_mode == host::NetworkMode::kStatic) {
    // Alpine's initramfs needs the network before the apkovl: it fetches packages from alpine_repo.
    if (std::string ip = AlpineIpParam(s.network); !ip.empty()) {
      out.kexec_params.push_back(ip);
      out.disk_params.push_back(ip);
    }
  }
  return {};
}

std::string TinyCoreBootlocal(const RamOsSettings& s) {
  std::string out = "#!/bin/sh\n# put other system startup commands here\n";
  if (s.network_mode == host::NetworkMode::kStatic) out += "/opt/bootrino-network.sh\n";
  if (!s.ssh_keys.empty()) {
    out += "# sshd, once openssh.tcz is loaded (its example configuration is used as is)\n"
           "c=/usr/local/etc/ssh/sshd_config\n"
           "[ -f \"$c\" ] || [ ! -f \"$c.orig\" ] || cp \"$c.orig\" \"$c\"\n"
           "[ -x /usr/local/etc/init.d/openssh ] && /usr/local/etc/init.d/openssh start\n";
  }
  return out;
}

// Tiny Core restores mydata.tgz with `tar -C / -zxf` (filetool.sh -r) before
// /opt/bootsync.sh runs /opt/bootlocal.sh; tc's home is tc:staff.
std::vector<Entry> MydataEntries(const RamOsSettings& s) {
  auto tc = [](Entry e) {
    e.uid = kTinyCoreUid;
    e.gid = kTinyCoreStaffGid;
    e.uname = "tc";
    e.gname = "staff";
    return e;
  };
  auto staff = [](Entry e) {
    e.gid = kTinyCoreStaffGid;
    e.gname = "staff";
    return e;
  };
  std::string filetool = "opt\nhome\n";
  std::vector<Entry> e;
  if (!s.ssh_keys.empty()) {
    e.push_back(tc({"home/tc/.ssh", Type::kDirectory, 0700, ""}));
    e.push_back(tc({"home/tc/.ssh/authorized_keys", Type::kFile, 0600, KeysText(s)}));
    e.push_back({"root/.ssh", Type::kDirectory, 0700, ""});
    e.push_back({"root/.ssh/authorized_keys", Type::kFile, 0600, KeysText(s)});
    filetool += "root/.ssh\n";
  }
  e.push_back(staff({"opt/bootlocal.sh", Type::kFile, 0775, TinyCoreBootlocal(s)}));
  e.push_back(staff({"opt/.filetool.lst", Type::kFile, 0664, filetool}));
  if (s.network_mode == host::NetworkMode::kStatic) {
    e.push_back(staff({"opt/bootrino-network.sh", Type::kFile, 0775, TinyCoreNetworkScript(s.network)}));
  }
  return e;
}

base::Result<void> MydataStyle(const RamOsSettings& s, PersonalFiles& out) {
  std::vector<Entry> mydata = MydataEntries(s);
  ASSIGN_OR_RETURN(std::string tgz, ramos::BuildArchive(mydata, ramos::ArchiveFormat::kTarGz));
  out.boot_partition.push_back({kMydataName, "", tgz, tgz.size(), {}});
  // Tiny Core runs from its initramfs: for the kexec boot (which cannot count
  // on the disk) the same files go straight into it. The kernel creates no
  // parent directories, so /home/tc comes first, as tc-config would make it.
  if (!s.ssh_keys.empty()) {
    mydata.push_back({"home", Type::kDirectory, 0755, ""});
    mydata.push_back({"home/tc", Type::kDirectory, 0750, "", kTinyCoreUid, kTinyCoreStaffGid, "tc", "staff"});
  }
  out.kexec_extra = std::move(mydata);
  // tc-restore.sh: restore=DEVICE/DIR names where mydata.tgz is (LABEL= works
  // through blkid), ahead of the tce= directory, which stays the manifest's.
  std::vector<std::string> params = {"restore=LABEL=BOOTRINO/tce"};
  if (!s.hostname.empty())
    params.push_back("host=" + s.hostname);  // bootsync.sh's sethostname reads it (the last wins)
  if (s.network_mode == host::NetworkMode::kStatic) params.push_back("nodhcp");
  out.kexec_params = params;
  out.disk_params = params;
  return {};
}

// A generated file must not replace one of the manifest's (FAT names are case-insensitive).
base::Result<void> CheckCollisions(const PersonalFiles& out, fetch::Personalisation style,
                                   const std::vector<std::string>& payload_names) {
  for (const std::string& name : payload_names) {
    for (const auto& f : out.boot_partition) {
      if (Lower(name) == Lower(f.name)) {
        return base::Fail(base::Error(ErrorKind::kManifest, "payload file \"" + name + "\" has the name bootrino gives "
                                                            "its generated " + f.name)
                              .Hint("rename it in the manifest, or set personalisation to none"));
      }
    }
    // Alpine reads one apkovl; two at the top of the boot partition is a coin toss.
    if (style == fetch::Personalisation::kAlpineApkovl && name.find('/') == std::string::npos &&
        Lower(name).find(".apkovl.tar.gz") != std::string::npos) {
      return base::Fail(base::Error(ErrorKind::kManifest, "the manifest ships its own apkovl (" + name +
                                                              ") and asks bootrino for one (personalisation apkovl)")
                            .Hint("Alpine reads only one: drop the file, or set personalisation to none"));
    }
  }
  return {};
}

json Summary(fetch::Personalisation style, const PersonalFiles& out) {
  json overlay = json::array(), boot = json::array(), kexec = json::array();
  for (const auto& f : out.overlay) overlay.push_back(f.path);
  for (const auto& f : out.boot_partition) boot.push_back({{"name", f.name}, {"bytes", f.data.size()}});
  for (const auto& e : out.kexec_extra) kexec.push_back(e.path);
  return {{"style", fetch::PersonalisationName(style)}, {"overlay", overlay}, {"kexecOnly", kexec},
          {"bootPartition", boot}, {"kexecParams", out.kexec_params}, {"diskParams", out.disk_params}};
}

}  // namespace

base::Result<void> AddHostNetwork(std::string_view option, base::Sys& sys, const std::string& dmi_root,
                                  RamOsSettings& settings, observe::Events& events) {
  const bool on_digitalocean = userdata::DetectCloud(dmi_root) == userdata::Cloud::kDigitalOcean;
  ASSIGN_OR_RETURN(settings.network_mode, host::ChooseNetworkMode(option, on_digitalocean));  // a usage error first
  const bool is_auto = option == "auto" || option.empty();
  auto net = host::CaptureHostNetwork(sys);
  if (is_auto) {
    const host::AutoMode chosen =
        net ? host::ChooseAutoMode(*net, on_digitalocean)
            : host::AutoMode{settings.network_mode,
                             on_digitalocean ? "DigitalOcean gives no DHCP" : "this host's network cannot be read"};
    settings.network_mode = chosen.mode;
    settings.network_reason = chosen.reason;
  }
  const bool is_static = settings.network_mode == host::NetworkMode::kStatic;
  if (!net && is_static) return base::Fail(net.error());
  if (!net) {
    events.Warn(net.error().message() + "; the RAM OS's etc/bootrino/network.json will list nothing");
  } else {
    settings.network = std::move(*net);
  }
  if (is_static && settings.network.interfaces.empty()) {
    return base::Fail(base::Error(ErrorKind::kPreflight, std::string("a static network (--network ") +
                                                             std::string(option.empty() ? "auto" : option) +
                                                             "): this host has no address on a network device to give "
                                                             "the RAM OS")
                          .Hint("use --network dhcp, or configure the network before running bootrino"));
  }
  const std::string why = is_auto ? " (auto: " + settings.network_reason + ")" : "";
  events.Emit(observe::Phase::kNetwork, "ok",
              {{"mode", host::NetworkModeName(settings.network_mode)},
               {"auto", is_auto},
               {"network", host::NetworkJson(settings.network, settings.network_mode, settings.network_reason)}});
  events.Say("the RAM OS's network: " + host::DescribeNetwork(settings.network, settings.network_mode) + why);
  return {};
}

base::Result<PersonalFiles> Personalise(fetch::Personalisation style, const RamOsSettings& settings,
                                        const std::string& manifest_json, const std::string& boot_id,
                                        const std::vector<std::string>& payload_names) {
  RETURN_IF_ERROR(CheckSettings(settings));
  PersonalFiles out;
  // Every style keeps etc/bootrino/ (the boot id, status URL and manifest the RAM OS reports with).
  out.overlay = BootrinoFiles(settings, manifest_json);
  switch (style) {
    case fetch::Personalisation::kNone: break;
    case fetch::Personalisation::kInitramfsOverlay: OverlayStyle(settings, out); break;
    case fetch::Personalisation::kAlpineApkovl:
      RETURN_IF_ERROR(ApkovlStyle(settings, out.overlay, boot_id, out));
      break;
    case fetch::Personalisation::kTinyCoreMydata: RETURN_IF_ERROR(MydataStyle(settings, out)); break;
  }
  RETURN_IF_ERROR(CheckCollisions(out, style, payload_names));
  out.summary = Summary(style, out);
  return out;
}

}  // namespace ramos

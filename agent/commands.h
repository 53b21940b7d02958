// The subcommands. Each runs its part of the pipeline in docs/architecture.md and
// returns the process exit code (observe/outcome.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/base.h"
#include "fetch/fetch.h"
#include "userdata/userdata.h"

namespace agent {

/// Flags every subcommand takes (agent/run_options.h fills these and RunOptions from the table of run options).
struct CommonOptions {
  std::vector<std::string> trust_files;  ///< --trust
  std::vector<std::string> trust_pems;   ///< trusted keys as PEM text (from user-data)
  bool insecure = false;                 ///< --insecure
  std::string json_events;               ///< --json-events FILE
  std::optional<base::Arch> arch;        ///< --arch; none: this machine's
  bool json = false;                     ///< --json: machine-readable result on stdout
  fetch::TransferOptions transfer;       ///< --ca-file, --retries, timeouts
};

struct FetchOptions {
  std::string stage_dir;
  bool run_hooks = true;
};

struct RunOptions {
  bool dry_run = false;
  bool yes = false;
  bool detach = false;          ///< return after the load; reboot once the caller has exited
  int detach_timeout_s = 600;   ///< reboot anyway after this long
  std::string disk;             ///< --disk: replace this disk instead of the one holding /
  bool keep_disk = false;       ///< --keep-disk: kexec only; the disk is not touched
  bool fallback_reboot = false;  ///< --fallback=reboot: when kexec is refused, commit and reboot via firmware
  bool from_userdata = false;    ///< --from-userdata: the reference and settings come from user-data
  std::string userdata_file;     ///< --userdata-file: read this file instead of searching
  std::vector<std::string> ssh_keys;  ///< authorized_keys lines for the RAM OS's root (from user-data)
  std::string hostname;               ///< the RAM OS's hostname (from user-data)
  std::string status_url;             ///< --status-url: POST each phase event here (best effort)
  bool status_url_insecure = false;   ///< --status-url-insecure: plain http to another machine is accepted
  std::string network = "auto";       ///< --network: the RAM OS's network (auto, dhcp, static)
  bool instance_settings = true;      ///< also give the RAM OS this instance's SSH keys and hostname
  std::optional<std::uint64_t> seed;  ///< --seed: the disk's GUIDs from this number (a reproducible plan)
  userdata::MetadataPolicy metadata = userdata::MetadataPolicy::kIdentified;  ///< --metadata: which services may be asked
};

struct UserdataOptions {
  std::string file;  ///< read this file instead of searching the host
  userdata::MetadataPolicy metadata = userdata::MetadataPolicy::kIdentified;  ///< --metadata
};

struct ImageOptions {
  std::string output;               ///< a new regular file
  std::uint64_t size = 8ull << 30;  ///< bytes
  std::uint32_t sector_size = 512;
  std::optional<std::uint64_t> seed;  ///< fixed GUIDs for reproducible images
  bool force = false;               ///< overwrite an existing regular file
};

int Inspect(const std::string& ref, const CommonOptions& common);
int Fetch(const std::string& ref, const CommonOptions& common, const FetchOptions& options);
int Run(const std::string& ref, const CommonOptions& common, const RunOptions& options);
int Preflight(const CommonOptions& common);
int Image(const std::string& ref, const CommonOptions& common, const ImageOptions& options);
/// `bootrino userdata`: what user-data on this host asks bootrino to do.
int Userdata(const CommonOptions& common, const UserdataOptions& options);
/// `bootrino run --from-userdata`: Run with the reference and settings user-data gives, merged into the
/// options the command line gives (`command_line`) by the table of run options.
int RunFromUserdata(const std::string& ref, const userdata::RunValues& command_line);

}  // namespace agent

// bootrino: turns this machine into a Run-From-RAM OS chosen by URL.
//
// The pipeline (docs in ARCHITECTURE.md), and the subcommands that run it:
//   1 preflight  2 resolve  3 fetch+verify+stage  4 plan   ← preflight, inspect, fetch, run --dry-run
//   5 load  6 commit  7 boot                                ← run --yes
//   (image writes what commit writes into a new image file)
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "agent/commands.h"
#include "agent/exit_codes.h"
#include "agent/pipeline.h"

namespace {

constexpr const char* kDescription =
    "bootrino " BOOTRINO_VERSION " - boot a Run-From-RAM OS chosen by URL on this machine.\n\n"
    "A manifest reference is https://HOST/PATH/bootrino.sh#sha256=HEX (pinned by hash) or a URL\n"
    "plus --trust KEYFILE (then bootrino.sh.sig next to it must verify). Every payload byte is\n"
    "checked against the manifest's size and sha256 before anything on this machine changes.\n\n"
    "Exit codes: 0 ok, 1 internal error, 2 usage, 3 verification failed, 4 network failed,\n"
    "5 not enough RAM, 6 preflight refused, 7 bad manifest, 8 hook failed, 9 disk,\n"
    "128+N stopped by signal N before anything changed (129 SIGHUP, 130 SIGINT, 143 SIGTERM).\n\n"
    "Start with `bootrino preflight`, then `bootrino run REF --dry-run`.";

void AddCommonOptions(CLI::App& app, agent::CommonOptions& o) {
  app.add_option("--trust", o.trust_files, "EC P-256 public key (PEM) trusted to sign manifests; repeatable")
      ->check(CLI::ExistingFile);
  app.add_option("--ca-file", o.transfer.ca_file, "PEM CA bundle for HTTPS (default: the system's, else built in)")
      ->check(CLI::ExistingFile);
  app.add_flag("--insecure", o.insecure, "accept a manifest that is neither pinned nor signed (dangerous)");
  app.add_option("--json-events", o.json_events, "append one JSON line per phase event to FILE");
  app.add_option("--arch", o.arch, "payload architecture to use (default: this machine's, uname -m)")
      ->check(CLI::IsMember({"x86_64", "aarch64"}));
  app.add_option("--retries", o.transfer.tries, "tries per URL before the next mirror")
      ->default_val(o.transfer.tries)->check(CLI::Range(1, 100));
  app.add_option("--retry-delay", o.transfer.retry_delay_s, "seconds before the first retry; doubles each time")
      ->default_val(o.transfer.retry_delay_s)->check(CLI::Range(0.0, 60.0));
  app.add_option("--connect-timeout", o.transfer.connect_timeout_s, "seconds to establish a connection")
      ->default_val(o.transfer.connect_timeout_s)->check(CLI::Range(1, 600));
  app.add_option("--stall-timeout", o.transfer.stall_timeout_s, "retry a transfer slower than 1 KiB/s for this long")
      ->default_val(o.transfer.stall_timeout_s)->check(CLI::Range(1, 3600));
  app.add_option("--parallel", o.transfer.parallel, "files fetched at once")
      ->default_val(o.transfer.parallel)->check(CLI::Range(1, 16));
}

// --metadata, of `userdata` and `run`: a metadata service is plain HTTP at 169.254.169.254, so
// asking one on a host that is not that cloud believes whoever answers there.
void AddMetadataOption(CLI::App& app, std::string& policy) {
  app.add_option("--metadata", policy,
                 "which cloud metadata services may give user-data, SSH keys and the hostname: 'identified' asks "
                 "only the service of the cloud this host is shown to be by DMI, /sys/hypervisor/uuid or "
                 "cloud-init's record (/run/cloud-init); 'any' also asks AWS, GCP and DigitalOcean on a host shown "
                 "to be none of them, and believes whoever answers 169.254.169.254 - only on a network you trust; "
                 "'never' asks none (docs/userdata.md)")
      ->default_val(policy)->check(CLI::IsMember({"identified", "any", "never"}));
}

int Main(int argc, char** argv) {
  CLI::App app(kDescription, "bootrino");
  app.set_version_flag("--version", "bootrino " BOOTRINO_VERSION);
  app.require_subcommand(1);
  app.footer("Run `bootrino SUBCOMMAND --help` for a subcommand's options.");
  agent::CommonOptions common;
  std::string ref;

  CLI::App* inspect = app.add_subcommand("inspect", "fetch and verify a manifest; show its metadata and payload");
  inspect->add_option("REF", ref, "manifest reference")->required();
  inspect->add_flag("--json", common.json, "print JSON instead of text");
  AddCommonOptions(*inspect, common);

  agent::FetchOptions fetch_options;
  CLI::App* fetch = app.add_subcommand("fetch", "fetch, verify and stage every payload file into a directory");
  fetch->add_option("REF", ref, "manifest reference")->required();
  fetch->add_option("--stage", fetch_options.stage_dir, "directory to stage into (new or empty; tmpfs advised)")
      ->required();
  fetch->add_flag("!--no-hooks", fetch_options.run_hooks, "do not run the manifest's after-stage hook");
  fetch->add_flag("--json", common.json, "print the stage index as JSON instead of text");
  AddCommonOptions(*fetch, common);

  CLI::App* preflight = app.add_subcommand("preflight", "check whether this host can kexec into a RAM OS");
  preflight->add_flag("--json", common.json, "print JSON instead of text");
  preflight->add_option("--json-events", common.json_events, "append one JSON line per phase event to FILE");

  agent::RunOptions run_options;
  std::string fallback = "none";
  CLI::App* run = app.add_subcommand("run", "the whole pipeline: verify, stage in RAM, then load, commit and boot");
  CLI::Option* run_ref = run->add_option("REF", ref, "manifest reference (with --from-userdata: from user-data)");
  run->add_option("--status-url", run_options.status_url,
                  "POST each phase event as JSON to this URL (best effort, never delays the boot); the RAM OS "
                  "finds it in /etc/bootrino/status-url to report its own arrival");
  run->add_flag("--status-url-insecure", run_options.status_url_insecure,
                "allow a plain http --status-url to another host (events and any token in it travel unencrypted)");
  run->add_flag_callback("--no-instance-settings", [&run_options] { run_options.instance_settings = false; },
                "do not give the RAM OS this instance's SSH keys and hostname (from its user-data and metadata service)");
  run->add_option("--network", run_options.network,
                  "the RAM OS's network: 'dhcp' (its own), 'static' (this host's addresses, routes and DNS written "
                  "into it), 'auto' (static on DigitalOcean, which has no DHCP; else dhcp)")
      ->default_val(run_options.network)->check(CLI::IsMember({"auto", "dhcp", "static"}));
  run->add_flag("--from-userdata", run_options.from_userdata,
                "take the reference and settings from this instance's user-data (see `bootrino userdata`)");
  run->add_option("--userdata-file", run_options.userdata_file, "with --from-userdata: read this file instead")
      ->check(CLI::ExistingFile);
  run->add_flag("--dry-run", run_options.dry_run, "fetch and verify into RAM, print the plan, change nothing");
  run->add_flag("--yes", run_options.yes, "confirm that the root disk may be replaced");
  run->add_option("--disk", run_options.disk,
                  "the whole disk to replace when it is not the one holding / (default: the disk holding /)");
  run->add_flag("--keep-disk", run_options.keep_disk,
                "boot the RAM OS with kexec only and leave the disk alone (the RAM OS will not survive a reboot)");
  run->add_option("--fallback", fallback,
                  "when kexec is refused (lockdown, no kexec_file_load): 'reboot' writes the disk and reboots "
                  "through the firmware into the RAM OS (refused under UEFI Secure Boot, whose firmware would not "
                  "boot that disk); 'none' stops before anything is changed")
      ->default_val("none")->check(CLI::IsMember({"none", "reboot"}));
  run->add_flag("--detach", run_options.detach,
                "exit 0 once the OS is verified and loaded; reboot into it after the caller has exited "
                "(automatic under cloud-init, which must finish first)");
  run->add_option("--detach-timeout", run_options.detach_timeout_s, "reboot anyway after this many seconds")
      ->default_val(run_options.detach_timeout_s)->check(CLI::Range(1, 86400));
  std::uint64_t run_seed = 0;
  CLI::Option* run_seed_option = run->add_option(
      "--seed", run_seed, "derive the disk's GUIDs from this number (the plan --dry-run prints is then the one "
                          "written; default: random)");
  run->add_flag("--json", common.json, "print the plan as JSON");
  AddMetadataOption(*run, run_options.metadata);
  AddCommonOptions(*run, common);

  agent::ImageOptions image_options;
  std::uint64_t seed = 0;
  CLI::App* image = app.add_subcommand("image", "write the disk `run` would write into a new image file instead");
  image->add_option("REF", ref, "manifest reference")->required();
  image->add_option("OUTPUT", image_options.output, "the image file to create (raw)")->required();
  image->add_option("--size", image_options.size, "image size, e.g. 8G, 2048M (binary units)")
      ->transform(CLI::AsSizeValue(false))->default_str("8G");
  image->add_option("--sector-size", image_options.sector_size, "logical sector size; 4096 has no BIOS boot")
      ->default_val(image_options.sector_size)->check(CLI::IsMember({512, 4096}));
  CLI::Option* seed_option =
      image->add_option("--seed", seed, "derive every GUID from this number (reproducible images)");
  image->add_flag("--force", image_options.force, "overwrite OUTPUT if it is an existing regular file");
  image->add_flag("--json", common.json, "print the result as JSON");
  AddCommonOptions(*image, common);

  agent::UserdataOptions userdata_options;
  CLI::App* userdata = app.add_subcommand("userdata", "show what this instance's user-data asks bootrino to do");
  userdata->add_option("--file", userdata_options.file, "read this user-data file instead of searching the host")
      ->check(CLI::ExistingFile);
  userdata->add_flag("--json", common.json, "print JSON instead of text");
  AddMetadataOption(*userdata, userdata_options.metadata);

  try {
    app.parse(argc, argv);
    if (seed_option->count()) image_options.seed = seed;
    if (run_seed_option->count()) run_options.seed = run_seed;
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? agent::kExitOk : agent::kExitUsage;
  }
  if (*inspect) return agent::Inspect(ref, common);
  if (*fetch) return agent::Fetch(ref, common, fetch_options);
  if (*preflight) return agent::Preflight(common);
  if (*image) return agent::Image(ref, common, image_options);
  if (*userdata) return agent::Userdata(common, userdata_options);
  if (run_options.from_userdata) return agent::RunFromUserdata(ref, common, run_options);
  if (!run_ref->count()) {
    std::fputs("bootrino: error: run needs REF, or --from-userdata\n"
               "bootrino: what to do: give the manifest's URL with its #sha256= pin (see bootrino run --help)\n",
               stderr);
    return agent::kExitUsage;
  }
  run_options.fallback_reboot = fallback == "reboot";
  return agent::Run(ref, common, run_options);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Main(argc, argv);
  } catch (const std::bad_alloc&) {
    std::fputs("bootrino: error: out of memory\n"
               "bootrino: what to do: free memory (or use an instance with more) and run again\n", stderr);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bootrino: internal error: %s\n", e.what());
    std::fprintf(stderr, "bootrino: what to do: %s\n",
                 agent::WhatToDo(base::Error(base::ErrorKind::kInternal, e.what())).c_str());
  }
  return agent::kExitInternal;
}

// bootrino: turns this machine into a Run-From-RAM OS chosen by URL.
//
// The pipeline (docs/architecture.md), and the subcommands that run it:
//   1 preflight  2 resolve  3 fetch+verify+stage  4 plan   ← preflight, inspect, fetch, run --dry-run
//   5 load  6 commit  7 boot                                ← run --yes
//   (image writes what commit writes into a new image file)
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "agent/agent.h"
#include "observe/observe.h"

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

int Main(int argc, char** argv) {
  CLI::App app(kDescription, "bootrino");
  app.set_version_flag("--version", "bootrino " BOOTRINO_VERSION);
  app.require_subcommand(1);
  app.footer("Run `bootrino SUBCOMMAND --help` for a subcommand's options.");
  agent::CommonOptions common;
  std::string ref;
  // The options of the table (userdata/run_options.h) as given; one subcommand is parsed, so one store serves all.
  userdata::RunValues values;

  CLI::App* inspect = app.add_subcommand("inspect", "fetch and verify a manifest; show its metadata and payload");
  inspect->add_option("REF", ref, "manifest reference")->required();
  inspect->add_flag("--json", common.json, "print JSON instead of text");
  agent::AddRunOptions(*inspect, values, agent::OptionSet::kEvery);

  agent::FetchOptions fetch_options;
  CLI::App* fetch = app.add_subcommand("fetch", "fetch, verify and stage every payload file into a directory");
  fetch->add_option("REF", ref, "manifest reference")->required();
  fetch->add_option("--stage", fetch_options.stage_dir, "directory to stage into (new or empty; tmpfs advised)")
      ->required();
  fetch->add_flag("!--no-hooks", fetch_options.run_hooks, "do not run the manifest's after-stage hook");
  fetch->add_flag("--json", common.json, "print the stage index as JSON instead of text");
  agent::AddRunOptions(*fetch, values, agent::OptionSet::kEvery);

  CLI::App* preflight = app.add_subcommand("preflight", "check whether this host can kexec into a RAM OS");
  preflight->add_flag("--json", common.json, "print JSON instead of text");
  preflight->add_option("--json-events", common.json_events, "append one JSON line per phase event to FILE");

  CLI::App* run = app.add_subcommand("run", "the whole pipeline: verify, stage in RAM, then load, commit and boot");
  CLI::Option* run_ref = run->add_option("REF", ref, "manifest reference (with --from-userdata: from user-data)");
  agent::AddRunOptions(*run, values, agent::OptionSet::kRun);

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
  agent::AddRunOptions(*image, values, agent::OptionSet::kEvery);

  agent::UserdataOptions userdata_options;
  CLI::App* userdata = app.add_subcommand("userdata", "show what this instance's user-data asks bootrino to do");
  userdata->add_option("--file", userdata_options.file, "read this user-data file instead of searching the host")
      ->check(CLI::ExistingFile);
  userdata->add_flag("--json", common.json, "print JSON instead of text");
  agent::AddRunOption(*userdata, values, "metadata");

  try {
    app.parse(argc, argv);
    if (seed_option->count()) image_options.seed = seed;
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? observe::kExitOk : observe::kExitUsage;
  }
  if (*preflight) return agent::Preflight(common);
  if (*userdata) {
    userdata_options.metadata = agent::MetadataPolicyOf(values);
    return agent::Userdata(common, userdata_options);
  }
  agent::ApplyCommonOptions(values, common);
  if (*inspect) return agent::Inspect(ref, common);
  if (*fetch) return agent::Fetch(ref, common, fetch_options);
  if (*image) return agent::Image(ref, common, image_options);
  // --from-userdata merges user-data's options into the command line's by the same table.
  if (values.Flag("from_userdata")) return agent::RunFromUserdata(ref, values);
  if (!run_ref->count()) {
    std::fputs("bootrino: error: run needs REF, or --from-userdata\n"
               "bootrino: what to do: give the manifest's URL with its #sha256= pin (see bootrino run --help)\n",
               stderr);
    return observe::kExitUsage;
  }
  agent::RunOptions run_options;
  agent::ApplyRunOptions(values, common, run_options);
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
                 observe::WhatToDo(base::Error(base::ErrorKind::kInternal, e.what())).c_str());
  }
  return observe::kExitInternal;
}

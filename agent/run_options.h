// The command line of `bootrino run` (and the options it shares with inspect,
// fetch and image), registered with CLI11 from the one table of run options
// (userdata/run_options.h) that user-data is read against too.
#pragma once

#include <CLI/CLI.hpp>

#include "agent/commands.h"
#include "userdata/userdata.h"

namespace agent {

/// Which options of the table a subcommand takes.
enum class OptionSet {
  kRun,    ///< every option: `bootrino run`
  kEvery,  ///< those every subcommand that fetches takes (--trust, --retries, …): inspect, fetch, image
};

/// Registers the options of `set` on `app`; each one given stores its text in
/// `values`, checked as user-data's value is (CheckRunOptionValue).
void AddRunOptions(CLI::App& app, userdata::RunValues& values, OptionSet set);

/// Registers the one option of the table called `name` (`userdata` takes --metadata).
void AddRunOption(CLI::App& app, userdata::RunValues& values, std::string_view name);

/// --metadata's policy (the table's choices are its names, so any other text is the default's).
userdata::MetadataPolicy MetadataPolicyOf(const userdata::RunValues& values);

/// The options as the pipeline takes them; each one not given is the table's default.
void ApplyCommonOptions(const userdata::RunValues& values, CommonOptions& common);
void ApplyRunOptions(const userdata::RunValues& values, CommonOptions& common, RunOptions& run);

}  // namespace agent

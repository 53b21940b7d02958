#include "agent/run_options.h"

namespace agent {
namespace {

using userdata::OptionType;
using userdata::RunOptionSpec;

// What CLI11's help shows for the value: "INT 1..100", "auto|dhcp|static".
std::string Describe(const RunOptionSpec& spec) {
  switch (spec.type) {
    case OptionType::kInt: return userdata::FormatNumber(spec.min) + ".." + userdata::FormatNumber(spec.max);
    case OptionType::kNumber: return userdata::FormatNumber(spec.min) + ".." + userdata::FormatNumber(spec.max);
    case OptionType::kChoice: {
      std::string out;
      for (std::string_view c : spec.choices) out += (out.empty() ? "" : "|") + std::string(c);
      return out;
    }
    default: return "";
  }
}

void AddOne(CLI::App& app, userdata::RunValues& values, const RunOptionSpec& spec) {
  const std::string flag(spec.flag), name(spec.name), help(spec.help);
  if (spec.type == OptionType::kFlag) {
    app.add_flag_callback(flag, [&values, name] { values.Set(name, "true"); }, help);
    return;
  }
  CLI::Option* option = nullptr;
  if (spec.type == OptionType::kFiles) {
    option = app.add_option_function<std::vector<std::string>>(
        flag, [&values, name](const std::vector<std::string>& texts) {
          for (const std::string& text : texts) values.Set(name, text);
        }, help);
  } else {
    option = app.add_option_function<std::string>(
        flag, [&values, name](const std::string& text) { values.Set(name, text); }, help);
  }
  if (spec.type == OptionType::kFile || spec.type == OptionType::kFiles) {
    option->check(CLI::ExistingFile);
  } else {
    option->check(CLI::Validator(
        [&spec](std::string& text) {
          std::string problem = userdata::CheckRunOptionValue(spec, text);
          return problem.empty() ? problem : "\"" + text + "\" " + problem;
        },
        Describe(spec)));
  }
  if (!spec.default_value.empty()) option->default_str(std::string(spec.default_value));
  if (spec.type == OptionType::kInt) option->type_name("INT");
  if (spec.type == OptionType::kNumber) option->type_name("FLOAT");
  if (spec.type == OptionType::kUnsigned) option->type_name("UINT");
  if (spec.type == OptionType::kUrl) option->type_name("URL");
}

}  // namespace

void AddRunOptions(CLI::App& app, userdata::RunValues& values, OptionSet set) {
  for (const RunOptionSpec& spec : userdata::RunOptionTable()) {
    if (set == OptionSet::kEvery && !spec.every_subcommand) continue;
    AddOne(app, values, spec);
  }
}

void AddRunOption(CLI::App& app, userdata::RunValues& values, std::string_view name) {
  const RunOptionSpec* spec = userdata::FindRunOption(name);
  if (spec) AddOne(app, values, *spec);
}

userdata::MetadataPolicy MetadataPolicyOf(const userdata::RunValues& values) {
  return userdata::MetadataPolicyFromName(values.Text("metadata")).value_or(userdata::MetadataPolicy::kIdentified);
}

void ApplyCommonOptions(const userdata::RunValues& values, CommonOptions& common) {
  common.trust_files = values.All("trust");
  common.transfer.ca_file = values.Text("ca_file");
  common.insecure = values.Flag("insecure");
  common.json_events = values.Text("json_events");
  common.arch = base::ParseArch(values.Text("arch"));  // a choice: empty or a name ParseArch knows
  common.transfer.tries = static_cast<int>(values.Int("retries"));
  common.transfer.retry_delay_s = values.Number("retry_delay");
  common.transfer.connect_timeout_s = static_cast<long>(values.Int("connect_timeout"));
  common.transfer.stall_timeout_s = static_cast<long>(values.Int("stall_timeout"));
  common.transfer.parallel = static_cast<int>(values.Int("parallel"));
  common.transfer.segments_max = static_cast<int>(values.Int("segments"));
}

void ApplyRunOptions(const userdata::RunValues& values, CommonOptions& common, RunOptions& run) {
  ApplyCommonOptions(values, common);
  common.json = values.Flag("json");
  run.status_url = values.Text("status_url");
  run.status_url_insecure = values.Flag("status_url_insecure");
  run.instance_settings = !values.Flag("no_instance_settings");
  run.network = values.Text("network");
  run.from_userdata = values.Flag("from_userdata");
  run.userdata_file = values.Text("userdata_file");
  run.dry_run = values.Flag("dry_run");
  run.yes = values.Flag("yes");
  run.disk = values.Text("disk");
  run.keep_disk = values.Flag("keep_disk");
  run.fallback_reboot = values.Text("fallback") == "reboot";
  run.detach = values.Flag("detach");
  run.detach_timeout_s = static_cast<int>(values.Int("detach_timeout"));
  run.metadata = MetadataPolicyOf(values);
  run.seed = values.Has("seed") ? std::optional<std::uint64_t>(values.Unsigned("seed")) : std::nullopt;
}

}  // namespace agent

// The table of `bootrino run`'s options (userdata/run_options.h) drives the
// command line, the user-data reader and their merge: every option the table
// has reaches the pipeline's structs from the command line, every one user-data
// may set round-trips through cloud-config and a script, and the rest are
// refused from user-data, insecure first among them.
#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "agent/run_options.h"
#include "userdata/fields.h"
#include "userdata/config.h"

namespace agent {
namespace {

using userdata::FromUserdata;
using userdata::OptionType;
using userdata::RunOptionSpec;
using userdata::RunValues;

constexpr std::string_view kPinned =
    "https://example.com/alpine/bootrino.sh#sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// Every field of the structs the table's options land in, so that an option that lands nowhere shows.
std::string Fingerprint(const CommonOptions& c, const RunOptions& r) {
  std::ostringstream out;
  for (const auto& t : c.trust_files) out << "trust=" << t << ';';
  const std::string_view arch = c.arch ? base::ArchName(*c.arch) : "";
  out << c.insecure << ';' << c.json_events << ';' << arch << ';' << c.json << ';' << c.transfer.ca_file << ';'
      << c.transfer.connect_timeout_s << ';' << c.transfer.stall_timeout_s << ';' << c.transfer.tries << ';'
      << c.transfer.retry_delay_s << ';' << c.transfer.parallel << ';' << c.transfer.segments_max << '|' << r.dry_run
      << ';' << r.yes << ';' << r.detach << ';' << r.detach_timeout_s << ';' << r.disk << ';' << r.keep_disk << ';'
      << r.fallback_reboot << ';' << r.from_userdata << ';' << r.userdata_file << ';' << r.status_url << ';'
      << r.status_url_insecure << ';' << r.network << ';' << r.instance_settings << ';'
      << userdata::MetadataPolicyName(r.metadata) << ';' << (r.seed ? std::to_string(*r.seed) : "-");
  return out.str();
}

std::string Fingerprint(const RunValues& values) {
  CommonOptions common;
  RunOptions run;
  ApplyRunOptions(values, common, run);
  return Fingerprint(common, run);
}

// A file that exists, for the options that name one.
std::string ExistingFile() {
  static const std::string path = [] {
    std::string p = ::testing::TempDir() + "run_options_test.pem";
    std::ofstream(p) << "not read\n";
    return p;
  }();
  return path;
}

// A value of the option that is not its default.
std::string Sample(const RunOptionSpec& spec) {
  switch (spec.type) {
    case OptionType::kFlag: return "true";
    case OptionType::kInt: return std::to_string(static_cast<long long>(spec.max));
    case OptionType::kNumber: return "2.5";
    case OptionType::kUnsigned: return "18446744073709551615";
    case OptionType::kChoice: return std::string(spec.choices.back() != spec.default_value ? spec.choices.back()
                                                                                           : spec.choices.front());
    case OptionType::kUrl: return "https://status.example.com/events";
    case OptionType::kText: return "/run/bootrino-test-text";
    case OptionType::kFile:
    case OptionType::kFiles: return ExistingFile();
  }
  return "";
}

// Parses `args` as `bootrino run ARGS` would be; nullopt on a usage error.
std::optional<RunValues> ParseRun(std::vector<std::string> args, OptionSet set = OptionSet::kRun) {
  CLI::App app("test", "bootrino");
  RunValues values;
  std::string ref;
  app.add_option("REF", ref);
  AddRunOptions(app, values, set);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  return values;
}

std::vector<std::string> Words(const RunOptionSpec& spec, const std::string& value) {
  if (spec.type == OptionType::kFlag) return {std::string(spec.flag)};
  return {std::string(spec.flag), value};
}

TEST(RunOptionTable, NamesAndFlagsAreUniqueAndAgree) {
  std::set<std::string_view> names, flags;
  for (const RunOptionSpec& spec : userdata::RunOptionTable()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_TRUE(flags.insert(spec.flag).second) << spec.flag;
    std::string flag = "--" + std::string(spec.name);
    std::replace(flag.begin(), flag.end(), '_', '-');
    EXPECT_EQ(spec.flag, flag) << "the user-data key is the flag's name";
    EXPECT_FALSE(spec.help.empty()) << spec.name;
    if (!spec.default_value.empty()) {
      EXPECT_EQ(userdata::CheckRunOptionValue(spec, spec.default_value), "") << spec.name;
    }
    if (spec.userdata == FromUserdata::kRefused) {
      EXPECT_FALSE(spec.why_not.empty()) << spec.name;
    }
  }
  // Options that weaken verification are never user-data's to set.
  EXPECT_EQ(userdata::FindRunOption("insecure")->userdata, FromUserdata::kRefused);
  EXPECT_EQ(userdata::FindRunOption("status_url_insecure")->userdata, FromUserdata::kRefused);
  EXPECT_EQ(userdata::FindRunOption("trust")->userdata, FromUserdata::kNo);
  EXPECT_EQ(userdata::FindRunOption("fallback")->userdata, FromUserdata::kOption);
}

TEST(RunOptionTable, DefaultsAreThePipelinesDefaults) {
  // Nothing given: the structs as the pipeline's own defaults make them.
  EXPECT_EQ(Fingerprint(RunValues()), Fingerprint(CommonOptions(), RunOptions()));
}

TEST(RunOptionTable, EveryOptionReachesThePipelineFromTheCommandLine) {
  const std::string defaults = Fingerprint(RunValues());
  for (const RunOptionSpec& spec : userdata::RunOptionTable()) {
    const std::string value = Sample(spec);
    auto values = ParseRun(Words(spec, value));
    ASSERT_TRUE(values) << spec.flag << " " << value;
    EXPECT_EQ(values->Text(spec.name), value) << spec.flag;
    EXPECT_NE(Fingerprint(*values), defaults) << spec.flag << " is parsed but lands in no field of the pipeline";
    // The same value as --flag=value.
    if (spec.type != OptionType::kFlag) {
      auto joined = ParseRun({std::string(spec.flag) + "=" + value});
      ASSERT_TRUE(joined) << spec.flag;
      EXPECT_EQ(joined->Text(spec.name), value);
    }
  }
}

TEST(RunOptionTable, TheCommandLineChecksValuesAsUserdataDoes) {
  for (const RunOptionSpec& spec : userdata::RunOptionTable()) {
    std::vector<std::string> bad;
    if (spec.type == OptionType::kInt) bad = {std::to_string(static_cast<long long>(spec.min) - 1), "1e3", "x"};
    if (spec.type == OptionType::kChoice) bad = {"sometimes"};
    if (spec.type == OptionType::kUrl) bad = {"ftp://example.com/x"};
    if (spec.type == OptionType::kFile || spec.type == OptionType::kFiles) bad = {"/nonexistent/bootrino-test"};
    for (const std::string& value : bad) {
      EXPECT_FALSE(ParseRun({std::string(spec.flag), value})) << spec.flag << " " << value;
      if (spec.type != OptionType::kFile && spec.type != OptionType::kFiles) {
        EXPECT_NE(userdata::CheckRunOptionValue(spec, value), "") << spec.flag << " " << value;
      }
    }
  }
}

TEST(RunOptionTable, InspectFetchAndImageTakeOnlyTheSharedOptions) {
  for (const RunOptionSpec& spec : userdata::RunOptionTable()) {
    EXPECT_EQ(ParseRun(Words(spec, Sample(spec)), OptionSet::kEvery).has_value(), spec.every_subcommand)
        << spec.flag;
  }
}

// ---- user-data ----------------------------------------------------------------------------------------------------

std::string CloudConfig(const RunOptionSpec& spec, const std::string& value) {
  std::string text = "#cloud-config\nbootrino:\n  manifest: " + std::string(kPinned) + "\n";
  if (spec.userdata == FromUserdata::kKey) return text + "  " + std::string(spec.name) + ": " + value + "\n";
  return text + "  options:\n    " + std::string(spec.name) + ": " + value + "\n";
}

TEST(RunOptionUserdata, EveryKeyRoundTripsThroughCloudConfigAndAScript) {
  int keys = 0;
  for (const RunOptionSpec& spec : userdata::RunOptionTable()) {
    if (!userdata::UserdataMaySet(spec)) continue;
    ++keys;
    const std::string value = Sample(spec);
    auto c = userdata::Parse(CloudConfig(spec, value));
    ASSERT_TRUE(c) << spec.name << ": " << c.error().message();
    EXPECT_EQ(c->options.Text(spec.name), value) << spec.name;
    // `bootrino userdata --json` shows it: options under "options", keys at the top.
    const auto json = userdata::ToJson(*c);
    const auto& at = spec.userdata == FromUserdata::kKey ? json : json["options"];
    ASSERT_TRUE(at.contains(spec.name)) << json.dump();
    if (spec.type == OptionType::kFlag) {
      EXPECT_EQ(at[spec.name], true);
    } else if (spec.type == OptionType::kInt) {
      EXPECT_EQ(at[spec.name], c->options.Int(spec.name));
    } else {
      EXPECT_EQ(at[spec.name], value);
    }

    std::vector<std::string> words = {"bootrino", "run", std::string(kPinned)};
    for (const std::string& w : Words(spec, value)) words.push_back(w);
    std::string script = "#!/bin/sh\n";
    for (const std::string& w : words) script += w + " ";
    auto s = userdata::Parse(script + "\n");
    ASSERT_TRUE(s) << spec.name << ": " << s.error().message();
    EXPECT_EQ(s->options.Text(spec.name), value) << spec.name;

    // And from user-data into the pipeline, through the merge.
    auto merged = userdata::MergeRunOptions(RunValues(), c->options);
    ASSERT_TRUE(merged) << spec.name << ": " << merged.error().message();
    EXPECT_NE(Fingerprint(*merged), Fingerprint(RunValues())) << spec.name << " from user-data lands nowhere";
  }
  EXPECT_EQ(keys, 9);  // yes, status_url, network, dry_run, fallback, detach, detach_timeout, arch, retries
}

TEST(RunOptionUserdata, InsecureIsRefusedInEveryForm) {
  for (const std::string& text : std::vector<std::string>{
           "#cloud-config\nbootrino:\n  manifest: " + std::string(kPinned) + "\n  options: {insecure: true}\n",
           "#cloud-config\nbootrino:\n  manifest: " + std::string(kPinned) + "\n  options:\n    insecure: false\n",
           "#cloud-config\nbootrino:\n  manifest: " + std::string(kPinned) + "\n  insecure: true\n",
           "#!/bin/sh\nbootrino run " + std::string(kPinned) + " --insecure\n",
           std::string("#!/bin/sh\ncurl -fsSL https://example.com/install.sh | sh -s -- https://example.com/b.sh "
                       "--insecure\n"),
           std::string("#cloud-config\nruncmd:\n  - [bootrino, run, https://example.com/b.sh, --insecure]\n"),
       }) {
    // The reader notes it (so the rest, SSH keys and hostname, is not lost); `run --from-userdata` refuses it.
    auto parsed = userdata::Parse(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().message();
    EXPECT_FALSE(parsed->options.Has("insecure")) << text;
    ASSERT_EQ(parsed->refused.size(), 1u) << text;
    EXPECT_EQ(parsed->refused[0].name, "insecure");
    auto c = userdata::RefuseWhatUserdataMayNotSet(*parsed);
    ASSERT_FALSE(c) << text;
    EXPECT_EQ(c.error().kind(), base::ErrorKind::kUsage);
    EXPECT_NE(c.error().message().find("insecure"), std::string::npos) << c.error().message();
    EXPECT_NE(c.error().message().find("cannot come from user-data: user-data must not be able to turn "
                                       "verification off"),
              std::string::npos)
        << c.error().message();
    EXPECT_NE(c.error().hint().find("the command line must say it"), std::string::npos) << c.error().hint();
  }
}

TEST(RunOptionUserdata, EveryCommandLineOnlyOptionIsRefused) {
  for (const RunOptionSpec& spec : userdata::RunOptionTable()) {
    if (userdata::UserdataMaySet(spec)) continue;
    const std::string value = spec.type == OptionType::kFlag ? "true" : Sample(spec);
    auto parsed = userdata::Parse(CloudConfig(spec, value));
    ASSERT_TRUE(parsed) << spec.name << ": " << parsed.error().message();
    EXPECT_FALSE(parsed->options.Has(spec.name)) << spec.name;
    auto c = userdata::RefuseWhatUserdataMayNotSet(*parsed);
    ASSERT_FALSE(c) << spec.name;
    EXPECT_NE(c.error().message().find("bootrino.options." + std::string(spec.name) + " cannot come from user-data"),
              std::string::npos)
        << c.error().message();
    std::string script = "#!/bin/sh\nbootrino run " + std::string(kPinned);
    for (const std::string& w : Words(spec, value)) script += " " + w;
    auto parsed_script = userdata::Parse(script + "\n");
    if (spec.name == "from_userdata") continue;  // `bootrino run --from-userdata` in a script is only noted
    ASSERT_TRUE(parsed_script) << spec.name << ": " << parsed_script.error().message();
    EXPECT_EQ(parsed_script->manifest, kPinned) << spec.name << "'s value was taken for the manifest";
    EXPECT_FALSE(parsed_script->options.Has(spec.name)) << spec.name;
    auto s = userdata::RefuseWhatUserdataMayNotSet(*parsed_script);
    ASSERT_FALSE(s) << spec.name;
    EXPECT_NE(s.error().message().find(std::string(spec.flag) + "` cannot come from user-data"), std::string::npos)
        << s.error().message();
  }
}

// ---- the merge ----------------------------------------------------------------------------------------------------

TEST(RunOptionMerge, CommandLineWinsAndUserdataFillsIn) {
  auto cli = ParseRun({"--retries", "3", "--from-userdata", "--fallback=reboot"});
  ASSERT_TRUE(cli);
  RunValues ud;
  ud.Set("retries", "9");
  ud.Set("detach", "true");
  ud.Set("network", "static");
  ud.Set("fallback", "none");
  auto merged = userdata::MergeRunOptions(*cli, ud);
  ASSERT_TRUE(merged) << merged.error().message();
  CommonOptions common;
  RunOptions run;
  ApplyRunOptions(*merged, common, run);
  EXPECT_EQ(common.transfer.tries, 3);
  EXPECT_TRUE(run.detach);
  EXPECT_EQ(run.network, "static");
  EXPECT_TRUE(run.fallback_reboot) << "the command line's --fallback survives --from-userdata";

  // User-data alone can ask for the fallback.
  RunValues reboot;
  reboot.Set("fallback", "reboot");
  merged = userdata::MergeRunOptions(*ParseRun({"--from-userdata"}), reboot);
  ASSERT_TRUE(merged);
  ApplyRunOptions(*merged, common, run);
  EXPECT_TRUE(run.fallback_reboot);

  // A false from user-data stays false; the command line's flag wins over it.
  RunValues dry;
  dry.Set("dry_run", "false");
  merged = userdata::MergeRunOptions(*ParseRun({"--dry-run"}), dry);
  ASSERT_TRUE(merged);
  EXPECT_TRUE(merged->Flag("dry_run"));
}

TEST(RunOptionMerge, RefusesWhatUserdataMayNotSetEvenIfTheReaderMissedIt) {
  for (std::string_view name : {"insecure", "status_url_insecure", "trust", "disk"}) {
    RunValues ud;
    ud.Set(name, name == "insecure" || name == "status_url_insecure" ? "true" : "/nonexistent/bootrino-test");
    auto merged = userdata::MergeRunOptions(RunValues(), ud);
    ASSERT_FALSE(merged) << name;
    EXPECT_EQ(merged.error().kind(), base::ErrorKind::kUsage);
    EXPECT_NE(merged.error().message().find(std::string(name) + " cannot come from user-data"), std::string::npos);
  }
}

TEST(RunOptionMerge, StatusUrlFromUserdataMustBeHttpsOrLoopback) {
  auto with = [](std::string url, std::vector<std::string> cli = {}) {
    RunValues ud;
    ud.Set("status_url", std::move(url));
    return userdata::MergeRunOptions(*ParseRun(cli), ud);
  };
  EXPECT_TRUE(with("https://ops.example.com/e"));
  EXPECT_TRUE(with("http://127.0.0.1:8080/e"));
  EXPECT_TRUE(with("http://[::1]/e"));
  auto refused = with("http://ops.example.com/e?token=secret");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind(), base::ErrorKind::kUsage);
  EXPECT_NE(refused.error().message().find("plain http:// to another machine (ops.example.com)"), std::string::npos)
      << refused.error().message();
  EXPECT_EQ(refused.error().message().find("secret"), std::string::npos) << "the URL's query may hold a token";
  EXPECT_NE(refused.error().hint().find("--status-url-insecure"), std::string::npos);
  EXPECT_TRUE(with("http://ops.example.com/e", {"--status-url-insecure"}));
  // The command line's own --status-url wins, and user-data's is not used.
  auto cli_wins = with("http://ops.example.com/e", {"--status-url", "https://mine.example.com/e"});
  ASSERT_TRUE(cli_wins);
  EXPECT_EQ(cli_wins->Text("status_url"), "https://mine.example.com/e");
}

TEST(RunOptionMerge, StatusUrlAllowed) {
  for (std::string_view ok : {"https://ops.example.com/e", "http://127.0.0.1:1/", "http://127.255.0.9/x",
                              "http://[::1]:8080/e", "http://localhost/e", "http://LOCALHOST:9/", "http://localhost./",
                              "http://user@127.0.0.1/e", "http://127.0.0.1#@example.com/",
                              "HTTPS://ops.example.com:8443/e?token=x", "https://user:pw@10.0.0.1/e",
                              // libcurl, which sends the events, reads these numeric forms as 127.0.0.1.
                              "http://0x7f000001/", "http://2130706433/"}) {
    EXPECT_TRUE(userdata::StatusUrlAllowed(ok)) << ok;
  }
  EXPECT_TRUE(userdata::StatusUrlAllowed("http://[0:0:0:0:0:0:0:1]/"));
  for (std::string_view bad : {"http://ops.example.com/e", "http://10.0.0.1/", "http://128.0.0.1/",
                               "http://127.0.0.1.example.com/", "http://localhost.example.com/",
                               "http://127.0.0.1@example.com/", "http://[::ffff:127.0.0.1]/",
                               "http://0x80000001/", "http://example.com\\@127.0.0.1/", "ftp://127.0.0.1/",
                               "http:///x", "http://[::2]/s", "file:///etc/passwd", "not a url", ""}) {
    EXPECT_FALSE(userdata::StatusUrlAllowed(bad)) << bad;
  }
}

TEST(RunOptionMerge, AnUnverifiableManifestFromUserdataNeedsTheCommandLinesInsecure) {
  const std::string unpinned = "https://example.com/alpine/bootrino.sh";
  auto r = userdata::CheckUserdataManifestTrusted(unpinned, 0, RunValues());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kVerification);
  EXPECT_NE(r.error().message().find("neither pinned by hash nor signed, and user-data cannot say --insecure"),
            std::string::npos);
  EXPECT_TRUE(userdata::CheckUserdataManifestTrusted(kPinned, 0, RunValues()));
  EXPECT_TRUE(userdata::CheckUserdataManifestTrusted(unpinned, 1, RunValues()));
  EXPECT_TRUE(userdata::CheckUserdataManifestTrusted(unpinned, 0, *ParseRun({"--trust", ExistingFile()})));
  EXPECT_TRUE(userdata::CheckUserdataManifestTrusted(unpinned, 0, *ParseRun({"--insecure"})));
}

// ---- docs/userdata.md -----------------------------------------------------------------------------------------------

TEST(RunOptionDocs, UserdataMdListsExactlyTheTablesUserdataKeys) {
  std::ifstream in(std::string(BOOTRINO_SOURCE_DIR) + "/docs/userdata.md");
  ASSERT_TRUE(in) << "docs/userdata.md";
  // The rows of the table under "## Options of `bootrino run` in user-data": | `key` | where | `--flag` | …
  std::string line;
  bool in_section = false;
  std::map<std::string, std::string> documented;  // key → "where|flag"
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) in_section = line == "## Options of `bootrino run` in user-data";
    if (!in_section || !line.starts_with("| `")) continue;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
    }
    ASSERT_GE(cells.size(), 3u) << line;
    documented[cells[0]] = cells[1] + "|" + cells[2];
  }
  std::map<std::string, std::string> expected;
  for (const RunOptionSpec& spec : userdata::RunOptionTable()) {
    if (!userdata::UserdataMaySet(spec)) continue;
    expected["`" + std::string(spec.name) + "`"] =
        std::string(spec.userdata == FromUserdata::kKey ? "`bootrino:`" : "`bootrino: options:`") + "|`" +
        std::string(spec.flag) + "`";
  }
  EXPECT_EQ(documented, expected);
}

}  // namespace
}  // namespace agent

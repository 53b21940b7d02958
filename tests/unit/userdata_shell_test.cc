// The rule that finds `bootrino run` in a user-data script (docs/userdata.md),
// and the words of a `bootrino run` that user-data may use.
#include "userdata/shell.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <utility>

#include "userdata/fields.h"

namespace userdata {
namespace {

using Args = std::vector<std::string>;
constexpr std::string_view kUrl = "https://get.example.com/install.sh";
const std::string kRef = "https://example.com/a/bootrino.sh";

// The args of each invocation found, or the error.
std::vector<Args> Found(std::string_view script) {
  auto r = FindInvocations(script);
  EXPECT_TRUE(r) << r.error().message();
  std::vector<Args> out;
  if (r) {
    for (const Invocation& i : *r) out.push_back(i.args);
  }
  return out;
}

std::string Error(std::string_view script) {
  auto r = FindInvocations(script);
  return r ? "(no error)" : r.error().message();
}

TEST(UserdataShell, InstallScriptPipedIntoAShell) {
  const std::string curl = "curl -fsSL " + std::string(kUrl);
  EXPECT_EQ(Found(curl + " | sh -s -- " + kRef + " --yes"), (std::vector<Args>{{kRef, "--yes"}}));
  EXPECT_EQ(Found(curl + " | sh -s " + kRef), (std::vector<Args>{{kRef}}));
  EXPECT_EQ(Found(curl + " | sudo -E bash -s -- " + kRef), (std::vector<Args>{{kRef}}));
  EXPECT_EQ(Found(curl + " | sudo -u root sh -xs -- " + kRef), (std::vector<Args>{{kRef}}));
  EXPECT_EQ(Found("wget -qO- '" + std::string(kUrl) + "?v=2' | busybox sh -s -- " + kRef), (std::vector<Args>{{kRef}}));
  EXPECT_EQ(Found(curl + " 2>/dev/null | tee /tmp/log | sh -s -- " + kRef), (std::vector<Args>{{kRef}}));
  // A shell fed by something that does not fetch install.sh is not an invocation.
  EXPECT_EQ(Found("curl -fsSL https://example.com/other.sh | sh -s -- " + kRef), std::vector<Args>{});
  EXPECT_EQ(Found("cat install.sh | sh -s -- " + kRef), std::vector<Args>{});
  // Nor is a shell that is not reading its script from the pipe.
  EXPECT_EQ(Found(curl + " | sh -x -- " + kRef), std::vector<Args>{});
}

TEST(UserdataShell, WordsForInstallShAreMarkedSo) {
  const std::string curl = "curl -fsSL " + std::string(kUrl);
  for (const std::string& script : {curl + " | sh -s -- --sha256 abc " + kRef,
                                    "curl -o /tmp/install.sh " + std::string(kUrl) + " && sh /tmp/install.sh " + kRef}) {
    auto r = FindInvocations(script);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(r->size(), 1U) << script;
    EXPECT_TRUE((*r)[0].to_install_sh) << script;
  }
  auto r = FindInvocations("bootrino run " + kRef);
  ASSERT_TRUE(r && r->size() == 1U);
  EXPECT_FALSE((*r)[0].to_install_sh);
  auto argv = FindInvocationsInArgv({"sh", "-c", curl + " | sh -s -- " + kRef});
  ASSERT_TRUE(argv && argv->size() == 1U);
  EXPECT_TRUE((*argv)[0].to_install_sh);
}

TEST(UserdataShell, DirectAndDownloadedForms) {
  EXPECT_EQ(Found("bootrino run " + kRef + " --yes"), (std::vector<Args>{{kRef, "--yes"}}));
  EXPECT_EQ(Found("/usr/local/bin/bootrino run --yes " + kRef), (std::vector<Args>{{"--yes", kRef}}));
  EXPECT_EQ(Found("sudo env FOO=1 nohup ./bootrino run " + kRef + " &"), (std::vector<Args>{{kRef}}));
  EXPECT_EQ(Found("curl -o /tmp/install.sh " + std::string(kUrl) + " && sh /tmp/install.sh " + kRef),
            (std::vector<Args>{{kRef}}));
  EXPECT_EQ(Found("if true; then bootrino run " + kRef + "; fi"), (std::vector<Args>{{kRef}}));
  EXPECT_EQ(Found("sh -c 'bootrino run " + kRef + " --detach'"), (std::vector<Args>{{kRef, "--detach"}}));
  EXPECT_EQ(Found("bootrino inspect " + kRef + "\nbootrino fetch " + kRef), std::vector<Args>{});
}

TEST(UserdataShell, QuotingEscapesAndContinuations) {
  EXPECT_EQ(Found("bootrino run \"" + kRef + "\" '--yes'"), (std::vector<Args>{{kRef, "--yes"}}));
  EXPECT_EQ(Found("bootrino run \\\n  " + kRef + " \\\n  --yes\n"), (std::vector<Args>{{kRef, "--yes"}}));
  EXPECT_EQ(Found("bootrino run https://h/a\\ b.sh"), (std::vector<Args>{{"https://h/a b.sh"}}));
  EXPECT_EQ(Found("bootrino run \"https://h/\\$x\""), (std::vector<Args>{{"https://h/$x"}}));
  auto r = FindInvocations("echo start\n\nbootrino run \\\n  " + kRef + "\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].line, 3u);
}

TEST(UserdataShell, CommentsAndHereDocumentsAreNotCommands) {
  EXPECT_EQ(Found("# bootrino run " + kRef + "\necho hi # bootrino run x"), std::vector<Args>{});
  EXPECT_EQ(Found("cat > /etc/motd <<EOF\nbootrino run " + kRef + "\nEOF\necho done"), std::vector<Args>{});
  EXPECT_EQ(Found("cat <<-'END' >/x\n\tbootrino run " + kRef + "\n\tEND\nbootrino run " + kRef + " --yes"),
            (std::vector<Args>{{kRef, "--yes"}}));
  auto r = FindInvocations("cat <<EOF\na\nb\nEOF\nbootrino run " + kRef);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].line, 5u);
  EXPECT_EQ(Found("echo 'bootrino run " + kRef + "'"), std::vector<Args>{});
}

TEST(UserdataShell, VariablesSetInTheScriptAreExpanded) {
  EXPECT_EQ(Found("REF=" + kRef + "\nbootrino run \"$REF\" --yes"), (std::vector<Args>{{kRef, "--yes"}}));
  EXPECT_EQ(Found("export BASE=https://example.com; bootrino run ${BASE}/a/bootrino.sh"), (std::vector<Args>{{kRef}}));
  EXPECT_EQ(Found("R='" + kRef + "'\ncurl -fsSL " + std::string(kUrl) + " | sh -s -- $R"), (std::vector<Args>{{kRef}}));
  EXPECT_EQ(Error("bootrino run \"$REF\""),
            "line 1: `bootrino run` is given $REF, which only the shell can compute");
  EXPECT_EQ(Error("REF=$(cat /ref)\n\nbootrino run $REF"),
            "line 3: `bootrino run` is given $REF, which only the shell can compute");
  EXPECT_EQ(Error("bootrino run `cat /ref`"), "line 1: `bootrino run` is given `cat /ref`, which only the shell can compute");
  EXPECT_EQ(Error("bootrino run " + kRef + " --arch \"$(uname -m)\""),
            "line 1: `bootrino run` is given $(uname -m), which only the shell can compute");
  // Expansions elsewhere in the script are none of bootrino's business.
  EXPECT_EQ(Found("echo \"$(date) $HOME\"\nbootrino run " + kRef), (std::vector<Args>{{kRef}}));
}

TEST(UserdataRunArgs, TheStrictSetOfFlags) {
  auto d = ParseRunArgs({"--yes", kRef, "--dry-run", "--detach", "--detach-timeout", "120", "--retries=4", "--arch",
                         "x86_64", "--fallback", "reboot", "--status-url", "https://s.example.com/e",
                         "--network=static"});
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->manifest, kRef);
  EXPECT_TRUE(d->options.Flag("yes"));
  EXPECT_TRUE(d->options.Flag("dry_run"));
  EXPECT_TRUE(d->options.Flag("detach"));
  EXPECT_EQ(d->options.Int("detach_timeout"), 120);
  EXPECT_EQ(d->options.Int("retries"), 4);
  EXPECT_EQ(d->options.Text("arch"), "x86_64");
  EXPECT_EQ(d->options.Text("fallback"), "reboot");
  EXPECT_EQ(d->options.Text("network"), "static");
  EXPECT_EQ(d->options.Text("status_url"), "https://s.example.com/e");

  auto error = [](const std::vector<std::string>& args) {
    auto r = ParseRunArgs(args);
    return r ? std::string("(ok)") : r.error().message();
  };
  // What user-data may not set is skipped (with its value) and listed, for the caller to note.
  auto refused = ParseRunArgs({"--json", kRef, "--trust", "/k.pem", "--yes", "--ca-file=/ca.pem"});
  ASSERT_TRUE(refused) << refused.error().message();
  EXPECT_EQ(refused->manifest, kRef);
  EXPECT_TRUE(refused->options.Flag("yes"));
  ASSERT_EQ(refused->refused.size(), 3u);
  EXPECT_EQ(refused->refused[0].name, "json");
  EXPECT_EQ(refused->refused[1].as_written, "`bootrino run --trust`");
  EXPECT_EQ(refused->refused[2].name, "ca_file");
  EXPECT_TRUE(refused->options.Given().size() == 1) << "only --yes is set";
  EXPECT_EQ(error({kRef, "--frobnicate"}),
            "`bootrino run --frobnicate` is not an option user-data may give; it may give --status-url, --yes, "
            "--network, --dry-run, --fallback, --detach, --detach-timeout, --arch, --retries");
  EXPECT_EQ(error({kRef, "--network", "manual"}), "--network \"manual\": must be auto, dhcp or static");
  EXPECT_EQ(error({kRef, "-y"}).substr(0, 18), "`bootrino run -y` ");
  EXPECT_EQ(error({kRef, "--yes=true"}), "--yes takes no value (found \"--yes=true\")");
  EXPECT_EQ(error({kRef, "--retries"}), "--retries needs a value");
  EXPECT_EQ(error({kRef, "--retries", "many"}), "--retries \"many\": must be a whole number");
  EXPECT_EQ(error({kRef, kRef}), "`bootrino run` is given a second manifest reference \"" + kRef + "\" after \"" + kRef + "\"");
  EXPECT_EQ(error({"bootrino.sh"}), "the manifest reference \"bootrino.sh\" not an http:// or https:// URL");
  EXPECT_EQ(error({"--from-userdata", kRef}), "`bootrino run --from-userdata` is also given a manifest reference");
  auto from = ParseRunArgs({"--from-userdata", "--yes"});
  ASSERT_TRUE(from);
  EXPECT_TRUE(from->from_userdata);
  // After "--", a word starting with '-' is the reference.
  EXPECT_EQ(error({"--", "-x"}), "the manifest reference \"-x\" not an http:// or https:// URL");
}

// The words install.sh hands on: its own options, with their values, are skipped.
TEST(UserdataRunArgs, InstallShOptionsAreSkipped) {
  const std::string hex(64, 'a');
  auto install = [](const std::vector<std::string>& args) { return ParseRunArgs(args, ArgsFor::kInstallSh); };
  auto d = install({"--sha256", hex, "--key", "/etc/bootrino.pem", kRef, "--base-url", "https://r.example.com/v1",
                    "--yes", "--dir", "/run/b", "--trust-server", "--allow-http", "--retries", "3"});
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->manifest, kRef);
  EXPECT_TRUE(d->options.Flag("yes"));
  EXPECT_EQ(d->options.Int("retries"), 3);
  EXPECT_TRUE(d->runs_nothing.empty());
  d = install({"--sha256=" + hex, "--key=/k.pem", "--base-url=https://r.example.com", "--dir=/d", kRef, "--dry-run"});
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->manifest, kRef);
  EXPECT_TRUE(d->options.Flag("dry_run"));

  // Each option of the table, alone, with its value as the next word and after '=', before and after the reference.
  for (const InstallShOption& option : InstallShOptions()) {
    if (!option.runs_nothing.empty()) continue;
    const std::string flag(option.flag);
    std::vector<std::vector<std::string>> forms;
    if (option.takes_value) {
      forms = {{flag, "v", kRef, "--yes"}, {kRef, flag, "v", "--yes"}, {flag + "=v", kRef, "--yes"},
               {kRef, "--yes", flag + "=v"}};
    } else {
      forms = {{flag, kRef, "--yes"}, {kRef, "--yes", flag}};
    }
    for (const auto& args : forms) {
      auto r = install(args);
      ASSERT_TRUE(r) << flag << ": " << r.error().message();
      EXPECT_EQ(r->manifest, kRef) << flag;
      EXPECT_TRUE(r->options.Flag("yes")) << flag;
    }
  }

  auto error = [&](const std::vector<std::string>& args) {
    auto r = install(args);
    return r ? std::string("(ok)") : r.error().message();
  };
  // What is not install.sh's is checked as for `bootrino run`.
  auto insecure = install({"--sha256", hex, kRef, "--insecure"});
  ASSERT_TRUE(insecure) << insecure.error().message();
  ASSERT_EQ(insecure->refused.size(), 1u);
  EXPECT_EQ(insecure->refused[0].name, "insecure");
  EXPECT_TRUE(error({"--key", "/k.pem", kRef, "--frobnicate"})
                  .starts_with("`bootrino run --frobnicate` is not an option user-data may give"));
  EXPECT_TRUE(error({kRef, "--trust-server=1"}).starts_with("`bootrino run --trust-server` is not an option"));
  EXPECT_EQ(error({kRef, "--sha256"}), "install.sh's --sha256 needs a value");
  EXPECT_EQ(error({"--sha256", hex}), "`bootrino run` has no manifest reference");
  // After install.sh's "--" its options are bootrino run's words again.
  EXPECT_TRUE(error({kRef, "--", "--sha256", hex}).starts_with("`bootrino run --sha256` is not an option"));
  d = install({"--dir", "/d", "--", kRef, "--yes"});
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->manifest, kRef);
  // `bootrino run` itself has none of them.
  auto run = ParseRunArgs({kRef, "--sha256", hex});
  ASSERT_FALSE(run);
  EXPECT_TRUE(run.error().message().starts_with("`bootrino run --sha256` is not an option"));

  // --install-only and --help: install.sh runs no bootrino, so nothing is taken or checked.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--install-only"}, {"--sha256", hex, "--install-only", kRef, "--yes"},
                                             {kRef, "--insecure", "--install-only"}, {"--help"}, {"-h", kRef}}) {
    auto r = install(args);
    ASSERT_TRUE(r) << args[0] << ": " << r.error().message();
    EXPECT_FALSE(r->runs_nothing.empty()) << args[0];
    EXPECT_EQ(r->manifest, "");
    EXPECT_FALSE(r->options.Flag("yes"));
  }
  EXPECT_EQ(install({"--install-only"})->runs_nothing,
            "install.sh --install-only installs bootrino and does not run it");
}

// packaging/install.sh's argument loop is the truth about its options: read its
// case arms and compare them with InstallShOptions().
TEST(UserdataRunArgs, InstallShOptionsMatchTheScript) {
  std::ifstream in(std::string(BOOTRINO_SOURCE_DIR) + "/packaging/install.sh");
  ASSERT_TRUE(in) << "cannot read packaging/install.sh";
  std::string line;
  while (std::getline(in, line) && line.find("case $arg in") == std::string::npos) {
  }
  ASSERT_FALSE(in.eof()) << "install.sh has no `case $arg in` loop";
  const std::string indent = line.substr(0, line.find("case"));
  const std::regex arm(R"(^\s*(-[-a-z0-9]*(=\*)?(\s*\|\s*-[-a-z0-9]*(=\*)?)*)\))");
  const std::regex alternative(R"(-[-a-z0-9]*(=\*)?)");
  std::set<std::string> plain, with_equals;
  while (std::getline(in, line) && line != indent + "esac") {
    std::smatch m;
    if (!std::regex_search(line, m, arm)) continue;
    const std::string pattern = m[1];
    for (auto it = std::sregex_iterator(pattern.begin(), pattern.end(), alternative); it != std::sregex_iterator();
         ++it) {
      const std::string word = it->str();
      if (word == "--") continue;  // ends the options
      if (word.ends_with("=*")) {
        with_equals.insert(word.substr(0, word.size() - 2));
      } else {
        plain.insert(word);
      }
    }
  }
  ASSERT_FALSE(plain.empty());
  std::set<std::pair<std::string, bool>> script, table;
  for (const std::string& flag : plain) script.insert({flag, with_equals.contains(flag)});
  for (const std::string& flag : with_equals) {
    EXPECT_TRUE(plain.contains(flag)) << flag << "=VALUE without " << flag << " VALUE";
  }
  for (const InstallShOption& option : InstallShOptions()) table.insert({std::string(option.flag), option.takes_value});
  auto show = [](const std::set<std::pair<std::string, bool>>& set) {
    std::ostringstream out;
    for (const auto& [flag, value] : set) out << flag << (value ? " VALUE" : "") << "; ";
    return out.str();
  };
  EXPECT_EQ(show(table), show(script)) << "userdata/fields.cc's kInstallShOptions differs from packaging/install.sh";
}

TEST(UserdataFields, Validators) {
  // Each validator returns "" for a value it accepts and the reason otherwise.
  const std::string key = "AAAAC3NzaC1lZDI1NTE5AAAAIEAtS9g8+Xsg93Rh2pHr6z7ytu7U8OWEag6TNkYgKuMQ";
  const std::string pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";
  const struct {
    std::string (*check)(std::string_view);
    std::string value;
    bool accepted;
  } cases[] = {
      {CheckHostname, "a-b.example.com", true},
      {CheckHostname, std::string(64, 'a'), false},
      {CheckHostname, "a..b", false},
      {CheckHostname, "a_b", false},
      {CheckManifestRef, "http://10.0.2.2:8080/bootrino.sh", true},
      {CheckManifestRef, "https:///bootrino.sh", false},
      {CheckManifestRef, "https://h/x y", false},
      {CheckSshKey, "no-pty,command=\"echo a b\" ssh-ed25519 " + key, true},
      {CheckSshKey, "ssh-rsa " + key, false},
      {CheckSshKey, "ssh-ed25519 " + key + "\nx", false},
      {CheckPemPublicKey, "-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----", false},
      {CheckPemPublicKey, pem + "\n" + pem, false},
  };
  for (const auto& c : cases) EXPECT_EQ(c.check(c.value).empty(), c.accepted) << c.value;
}

}  // namespace
}  // namespace userdata

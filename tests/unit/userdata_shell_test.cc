// The rule that finds `bootrino run` in a user-data script (docs/userdata.md),
// and the words of a `bootrino run` that user-data may use.
#include "userdata/shell.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(error({kRef, "--json"}), "`bootrino run --json` cannot come from user-data");
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

TEST(UserdataFields, Validators) {
  EXPECT_EQ(CheckHostname("a-b.example.com"), "");
  EXPECT_NE(CheckHostname(std::string(64, 'a')), "");
  EXPECT_NE(CheckHostname("a..b"), "");
  EXPECT_NE(CheckHostname("a_b"), "");
  EXPECT_EQ(CheckManifestRef("http://10.0.2.2:8080/bootrino.sh"), "");
  EXPECT_NE(CheckManifestRef("https:///bootrino.sh"), "");
  EXPECT_NE(CheckManifestRef("https://h/x y"), "");
  EXPECT_EQ(CheckSshKey("no-pty,command=\"echo a b\" ssh-ed25519 "
                        "AAAAC3NzaC1lZDI1NTE5AAAAIEAtS9g8+Xsg93Rh2pHr6z7ytu7U8OWEag6TNkYgKuMQ"),
            "");
  EXPECT_NE(CheckSshKey("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIEAtS9g8+Xsg93Rh2pHr6z7ytu7U8OWEag6TNkYgKuMQ"), "");
  EXPECT_NE(CheckSshKey("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEAtS9g8+Xsg93Rh2pHr6z7ytu7U8OWEag6TNkYgKuMQ\nx"), "");
  EXPECT_NE(CheckPemPublicKey("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----"), "");
  EXPECT_NE(CheckPemPublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
                              "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
            "");
}

}  // namespace
}  // namespace userdata

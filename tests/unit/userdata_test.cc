// userdata::Parse on every shape of user-data: cloud-config, MIME multipart,
// gzip, shell scripts, and the malformed, truncated, huge and binary.
#include "userdata/config.h"

#include <algorithm>
#include <chrono>

#include <gtest/gtest.h>

#include "tests/unit/userdata_testing.h"
#include "userdata/decode.h"

namespace userdata {
namespace {

using namespace userdata::testing;

std::string S(std::string_view s) { return std::string(s); }

bool HasNote(const Config& c, std::string_view needle) {
  return std::any_of(c.notes.begin(), c.notes.end(), [&](const std::string& n) { return n.find(needle) != n.npos; });
}

// Parses, expecting an error, or an option user-data may not set (which the reader
// notes and `run --from-userdata` refuses), and returns its message (with the hint after " || ").
std::string ErrorOf(std::string_view bytes) {
  auto r = Parse(bytes);
  if (r && r->refused.empty()) return "(parsed: manifest=" + r->manifest + ")";
  const base::Error error = r ? RefuseWhatUserdataMayNotSet(*r).error() : r.error();
  return error.message() + " || " + error.hint();
}

// Whether the error (message || hint) that parsing `bytes` gives says each of `parts`.
::testing::AssertionResult ErrorSays(std::string_view bytes, std::initializer_list<std::string> parts) {
  const std::string e = ErrorOf(bytes);
  for (const std::string& part : parts) {
    if (e.find(part) == e.npos) {
      return ::testing::AssertionFailure() << "the error does not say \"" << part << "\": " << e;
    }
  }
  return ::testing::AssertionSuccess();
}

// ---- cloud-config -------------------------------------------------------------------------------------------------

TEST(UserdataCloudConfig, BootrinoKeyGivesEveryField) {
  std::string text = "#cloud-config\n"
                     "bootrino:\n"
                     "  manifest: " + S(kRef) + "\n"
                     "  yes: true\n"
                     "  status_url: https://status.example.com/events\n"
                     "  hostname: ram-01\n"
                     "  ssh_authorized_keys:\n"
                     "    - " + S(kAlice) + "\n"
                     "  trust:\n"
                     "    - |\n";
  for (std::string_view line : {"-----BEGIN PUBLIC KEY-----", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEp3+DM0kNsuxjhxhTixCrBLXT53YJ",
                                "mRkNi7lYMenOBxN2Nf6iGaY1jY0R1VkPkJAgPfLQ/i5E8Yljzjc4W1U1Nw==", "-----END PUBLIC KEY-----"}) {
    text += "      " + S(line) + "\n";
  }
  text += "  options:\n    detach: yes\n    detach_timeout: 300\n    retries: 3\n    arch: aarch64\n"
          "    dry_run: false\n    network: static\n    fallback: reboot\n";
  auto c = Parse(text);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_EQ(c->options.Text("status_url"), "https://status.example.com/events");
  EXPECT_EQ(c->hostname, "ram-01");
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kAlice)});
  ASSERT_EQ(c->trust_keys.size(), 1u);
  EXPECT_EQ(c->trust_keys[0], kPem);
  EXPECT_TRUE(c->options.Flag("detach"));
  EXPECT_EQ(c->options.Int("detach_timeout"), 300);
  EXPECT_EQ(c->options.Int("retries"), 3);
  EXPECT_EQ(c->options.Text("arch"), "aarch64");
  EXPECT_TRUE(c->options.Has("dry_run"));
  EXPECT_FALSE(c->options.Flag("dry_run"));
  EXPECT_EQ(c->options.Text("network"), "static");
  EXPECT_EQ(c->options.Text("fallback"), "reboot");
  EXPECT_EQ(c->source, "");
}

TEST(UserdataCloudConfig, ScalarBootrinoIsTheManifest) {
  auto c = Parse("#cloud-config\nbootrino: " + S(kOtherRef) + "\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kOtherRef);
  EXPECT_FALSE(c->options.Flag("yes"));
  EXPECT_FALSE(c->options.Has("detach"));
}

TEST(UserdataCloudConfig, BorrowsCloudInitKeysAndHostname) {
  auto c = Parse("#cloud-config\r\n"
                 "hostname: web-1\r\n"
                 "ssh_authorized_keys:\r\n  - " + S(kAlice) + "\r\n  - not a key\r\n"
                 "users:\r\n  - default\r\n  - name: ops\r\n    ssh_authorized_keys: [\"" + S(kBob) + "\", \"" + S(kAlice) +
                 "\"]\r\n"
                 "bootrino:\r\n  manifest: " + S(kOtherRef) + "\r\n  ssh_authorized_keys: [\"" + S(kBob) + "\"]\r\n");
  ASSERT_TRUE(c) << c.error().message();
  // bootrino's own keys first, then cloud-init's; each once.
  EXPECT_EQ(c->ssh_keys, (std::vector<std::string>{S(kBob), S(kAlice)}));
  EXPECT_EQ(c->hostname, "web-1");
  EXPECT_TRUE(HasNote(*c, "ignored a key in ssh_authorized_keys at line 4")) << c->notes[0];
}

TEST(UserdataCloudConfig, BootrinoHostnameWinsOverCloudInits) {
  auto c = Parse("#cloud-config\nfqdn: a.example.com\nbootrino:\n  hostname: b\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->hostname, "b");
  c = Parse("#cloud-config\nfqdn: a.example.com\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->hostname, "a.example.com");
  EXPECT_EQ(c->manifest, "");
  EXPECT_TRUE(HasNote(*c, "names no manifest"));
}

TEST(UserdataCloudConfig, UnknownKeyUnderBootrinoNamesLineAndColumn) {
  EXPECT_TRUE(ErrorSays("#cloud-config\npackages: [curl]\nbootrino:\n  manifest: " + S(kRef) + "\n  yess: true\n",
                        {"line 5, column 3: bootrino has no key \"yess\"",
                         "manifest, trust, ssh_authorized_keys, hostname, options, status_url, yes"}));
  EXPECT_TRUE(ErrorSays("#cloud-config\nbootrino:\n  options:\n    detach: true\n    paralel: 8\n",
                        {"line 5, column 5: bootrino.options has no option \"paralel\"",
                         "options are: network, dry_run, fallback, detach, detach_timeout, arch, retries"}));
  // An option of `bootrino run` that is the command line's alone says so.
  EXPECT_TRUE(ErrorSays("#cloud-config\nbootrino:\n  options:\n    parallel: 8\n",
                        {"line 4, column 5: bootrino.options.parallel cannot come from user-data",
                         "give --parallel on the command line"}));
}

TEST(UserdataCloudConfig, BadValuesNameTheLine) {
  struct Case {
    std::string yaml, expected;
  } cases[] = {
      {"bootrino:\n  yes: \"true\"\n", "line 2, column 8: bootrino.yes must be true or false (unquoted)"},
      {"bootrino:\n  yes: maybe\n", "line 2, column 8: bootrino.yes must be true or false"},
      {"bootrino:\n  manifest: ftp://x/bootrino.sh\n", "line 2, column 13: bootrino.manifest \"ftp://x/bootrino.sh\" "
                                                      "not an http:// or https:// URL"},
      {"bootrino:\n  manifest: https://x/b.sh#sha256=abc\n", "#sha256= and 64 lowercase hex digits"},
      {"bootrino:\n  manifest: [a, b]\n", "line 2, column 13: bootrino.manifest must be a string, not a list"},
      {"bootrino:\n  manifest:\n", "bootrino.manifest must be a string, not empty"},
      {"bootrino:\n  hostname: -bad-\n", "line 2, column 13: bootrino.hostname \"-bad-\" a label may not start"},
      {"bootrino:\n  status_url: not a url\n", "bootrino.status_url \"not a url\" not an http"},
      {"bootrino:\n  trust: [\"ssh-rsa AAAA\"]\n", "line 2, column 11: bootrino.trust[0] is not a PEM public key"},
      {"bootrino:\n  ssh_authorized_keys:\n    - hello world\n",
       "line 3, column 7: bootrino.ssh_authorized_keys[0] is not an OpenSSH public key line"},
      {"bootrino:\n  ssh_authorized_keys:\n    - ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 x\n",
       "the base64 after \"ssh-ed25519\" is not a key of that type"},
      {"bootrino:\n  options:\n    retries: 0\n", "line 3, column 14: bootrino.options.retries must be between 1 and 100"},
      {"bootrino:\n  options:\n    retries: \"3\"\n", "bootrino.options.retries must be a number"},
      {"bootrino:\n  options:\n    detach_timeout: 1e3\n", "bootrino.options.detach_timeout must be a whole number"},
      {"bootrino:\n  options:\n    arch: amd64\n", "bootrino.options.arch must be x86_64 or aarch64"},
      {"bootrino:\n  options: [detach]\n", "bootrino.options must be a mapping, not a list"},
      {"bootrino:\n  yes: true\n  yes: false\n", "line 3, column 3: bootrino.yes is given twice"},
      {"bootrino: " + S(kRef) + "\nbootrino: " + S(kRef) + "\n",
       "line 2, column 1: bootrino is given twice (first at line 2, column 1)"},
      {"bootrino:\n", "bootrino must be a mapping, not empty"},
      {"- just\n- a list\n", "line 1, column 1: cloud-config must be a mapping"},
  };
  for (const Case& c : cases) {
    std::string e = ErrorOf("#cloud-config\n" + c.yaml);
    // The document's first line is "#cloud-config": lines in the cases are one lower.
    std::string expected = c.expected;
    if (expected.starts_with("line ")) {
      std::size_t n = std::stoul(expected.substr(5));
      expected = "line " + std::to_string(n + 1) + expected.substr(expected.find(','));
    }
    EXPECT_NE(e.find(expected), e.npos) << "yaml:\n" << c.yaml << "error: " << e << "\nexpected: " << expected;
    EXPECT_TRUE(e.starts_with("cloud-config: ")) << e;
  }
}

TEST(UserdataCloudConfig, MalformedYamlNamesLineAndColumn) {
  EXPECT_TRUE(ErrorSays("#cloud-config\nbootrino:\n  manifest: x\n yes: true\n", {"cloud-config: line 4, column"}));
  EXPECT_TRUE(ErrorSays(
      "#cloud-config\nruncmd:\n  - [a, b\n  - c\n",
      {"line 5, column 1: did not find expected ',' or ']' (while parsing a flow sequence at line 3, column 5)"}));
  EXPECT_TRUE(ErrorSays("#cloud-config\nkey: \"unterminated\n", {"line 2, column 6"}));
  EXPECT_TRUE(ErrorSays("#cloud-config\na: 1\n---\nb: 2\n", {"line 3, column 1: a second YAML document"}));
  EXPECT_TRUE(ErrorSays("#cloud-config\na: *nowhere\n", {"line 2, column 4: alias *nowhere names no anchor"}));
  EXPECT_TRUE(ErrorSays("#cloud-config\nk: \"caf\xc3\"\n", {"line 2", "UTF-8"}));  // a cut UTF-8 sequence
}

TEST(UserdataCloudConfig, HostileYamlIsBounded) {
  // 100000 nested flow sequences: refused at the depth limit, not a stack overflow.
  std::string deep = "#cloud-config\nx: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  EXPECT_NE(ErrorOf(deep).find("nested deeper than 64"), std::string::npos);
  // Billion laughs: aliases share nodes, so this loads at once and is harmless.
  std::string laughs = "#cloud-config\na: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'z'; ++c) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) laughs += std::string(i ? ", *" : "*") + static_cast<char>(c - 1);
    laughs += "]\n";
  }
  laughs += "bootrino: " + S(kOtherRef) + "\n";
  const auto start = std::chrono::steady_clock::now();
  auto c = Parse(laughs);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kOtherRef);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  // Too many nodes.
  std::string wide = "#cloud-config\nx: [";
  for (int i = 0; i < 100001; ++i) wide += "1,";
  wide += "1]\n";
  EXPECT_NE(ErrorOf(wide).find("more than 100000 YAML nodes"), std::string::npos);
}

TEST(UserdataCloudConfig, RuncmdOneLinersAreFound) {
  auto c = Parse("#cloud-config\nruncmd:\n  - echo hello\n  - curl -fsSL https://get.example.com/install.sh | sh -s -- " +
                 S(kRef) + " --yes --detach\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_TRUE(c->options.Flag("detach"));
  c = Parse("#cloud-config\nruncmd:\n  - [/usr/local/bin/bootrino, run, " + S(kOtherRef) + ", --dry-run]\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kOtherRef);
  EXPECT_TRUE(c->options.Flag("dry_run"));
  c = Parse("#cloud-config\nruncmd:\n  - [sh, -c, 'bootrino run " + S(kOtherRef) + " --yes']\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kOtherRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_TRUE(ErrorSays("#cloud-config\nruncmd:\n  - bootrino run " + S(kRef) + " --parallel 3\n",
                        {"runcmd at line 3, column 5: ", "--parallel` cannot come from user-data",
                         "give --parallel on the command line"}));
}

TEST(UserdataCloudConfig, RuncmdOneLinerWithInstallShOptions) {
  auto c = Parse("#cloud-config\nruncmd:\n  - curl -fsSL https://h/install.sh | sh -s -- --sha256=" +
                 std::string(64, 'c') + " " + S(kRef) + " --yes --key /k.pem\n"
                 "  - [sh, -c, 'curl -fsSL https://h/install.sh | sh -s -- --trust-server " + S(kRef) + " --detach']\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_TRUE(ErrorSays("#cloud-config\nruncmd:\n  - curl -fsSL https://h/install.sh | sh -s -- --allow-http " +
                            S(kRef) + " --insecure\n",
                        {"runcmd at line 3, column 5: ", "`bootrino run --insecure` cannot come from user-data"}));
}

TEST(UserdataCloudConfig, KeyWinsAndDisagreementIsAnError) {
  // The key's flags go on top of the one-liner's; the manifest is the same.
  auto c = Parse("#cloud-config\nbootrino:\n  manifest: " + S(kRef) + "\n  options: {retries: 9}\n"
                 "runcmd:\n  - bootrino run " + S(kRef) + " --yes --retries 2\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_EQ(c->options.Int("retries"), 9);
  EXPECT_TRUE(HasNote(*c, "runcmd at line 6, column 5 names the same manifest again"));
  EXPECT_TRUE(ErrorSays("#cloud-config\nbootrino: " + S(kRef) + "\nruncmd:\n  - bootrino run " + S(kOtherRef) + "\n",
                        {"user-data names two manifests: " + S(kRef) + " (bootrino: key at line 2, column 11) and " +
                         S(kOtherRef) + " (runcmd at line 4, column 5)"}));
  // A key without a manifest lends its flags to the one-liner's manifest.
  c = Parse("#cloud-config\nbootrino:\n  yes: true\nruncmd:\n  - bootrino run --from-userdata\n  - bootrino run " +
            S(kOtherRef) + "\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kOtherRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_TRUE(HasNote(*c, "--from-userdata` takes the manifest from the bootrino: key"));
}

// What user-data may not set is noted and ignored, never a reason to drop the rest: a one-liner
// that says --insecure or --trust FILE on its own command line (cloud-init runs it as it is) still
// gives cloud-config's SSH keys and hostname, and its manifest and other flags are still read.
TEST(UserdataCloudConfig, WhatUserdataMayNotSetIsNotedAndTheRestKept) {
  auto c = Parse("#cloud-config\nhostname: ramos-7\nssh_authorized_keys:\n  - " + S(kAlice) +
                 "\nruncmd:\n  - curl -fsSL https://h/install.sh | sh -s -- " + S(kRef) +
                 " --insecure --trust /etc/bootrino/key.pem --yes\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kAlice)});
  EXPECT_EQ(c->hostname, "ramos-7");
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->options.Flag("yes")) << "the flag after --trust FILE is still read";
  EXPECT_FALSE(c->options.Has("insecure"));
  EXPECT_FALSE(c->options.Has("trust"));
  ASSERT_EQ(c->refused.size(), 2u);
  EXPECT_EQ(c->refused[0].name, "insecure");
  EXPECT_EQ(c->refused[0].where, "runcmd at line 6, column 5");
  EXPECT_EQ(c->refused[1].name, "trust");
  EXPECT_EQ(RefusedWarning(c->refused[1]),
            "`bootrino run --trust` (runcmd at line 6, column 5) is ignored: only the command line may give --trust "
            "(it names a file on this host; give trusted keys as PEM text under `bootrino: trust:`)");
  const auto refusal = RefuseWhatUserdataMayNotSet(*c);
  ASSERT_FALSE(refusal);
  EXPECT_EQ(refusal.error().kind(), base::ErrorKind::kUsage);
  EXPECT_NE(refusal.error().message().find("runcmd at line 6, column 5: `bootrino run --insecure` cannot come from "
                                           "user-data"),
            std::string::npos)
      << refusal.error().message();
  const auto json = ToJson(*c);
  ASSERT_EQ(json["refused"].size(), 2u);
  EXPECT_EQ(json["refused"][0]["flag"], "--insecure");
  EXPECT_EQ(json["refused"][1]["where"], "runcmd at line 6, column 5");
  EXPECT_NE(ToText(*c).find("refused: `bootrino run --insecure` (runcmd at line 6, column 5) is ignored"),
            std::string::npos)
      << ToText(*c);

  // The same in the bootrino: key, and in a script; without any, nothing is refused.
  c = Parse("#cloud-config\nbootrino:\n  manifest: " + S(kRef) + "\n  insecure: true\n  options: {disk: /dev/sdb, "
            "detach: true}\n  hostname: ram-2\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->hostname, "ram-2");
  ASSERT_EQ(c->refused.size(), 2u);
  EXPECT_EQ(c->refused[0].as_written, "bootrino.insecure");
  EXPECT_EQ(c->refused[1].as_written, "bootrino.options.disk");
  EXPECT_FALSE(c->options.Has("disk"));
  EXPECT_TRUE(c->options.Flag("detach")) << "the option after a refused one is still read";
  c = Parse("#!/bin/sh\nbootrino run " + S(kRef) + " --disk=/dev/sdb --yes\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->options.Flag("yes"));
  ASSERT_EQ(c->refused.size(), 1u);
  EXPECT_EQ(c->refused[0].where, "script, line 2");
  c = Parse("#!/bin/sh\nbootrino run " + S(kRef) + " --yes\n");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->refused.empty());
  EXPECT_TRUE(RefuseWhatUserdataMayNotSet(*c));
  EXPECT_TRUE(ToJson(*c)["refused"].empty());
}

// ---- scripts -------------------------------------------------------------------------------------------------------

TEST(UserdataScript, TheReadmeOneLiner) {
  auto c = Parse("#!/bin/sh\ncurl -fsSL https://get.example.com/install.sh | sh -s -- " + S(kRef) + " --yes\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_TRUE(c->notes.empty()) << c->notes[0];
}

// install.sh's own options in the one-liner concern the install: skipped, the run's words still taken.
TEST(UserdataScript, TheOneLinerWithInstallShOptions) {
  const std::string curl = "#!/bin/sh\ncurl -fsSL https://get.example.com/install.sh | sh -s -- ";
  auto c = Parse(curl + "--sha256 " + std::string(64, 'b') + " --key /etc/k.pem " + S(kRef) +
                 " --base-url=https://r.example.com --yes --dir /run/b --trust-server --allow-http --detach\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_TRUE(c->options.Flag("detach"));
  EXPECT_TRUE(c->notes.empty()) << c->notes[0];
  EXPECT_TRUE(ErrorSays(curl + "--sha256 " + std::string(64, 'b') + " " + S(kRef) + " --insecure\n",
                        {"script, line 2: `bootrino run --insecure` cannot come from user-data"}));
  EXPECT_TRUE(ErrorSays(curl + "--key /k.pem " + S(kRef) + " --frobnicate\n",
                        {"`bootrino run --frobnicate` is not an option user-data may give"}));
  EXPECT_TRUE(ErrorSays(curl + S(kRef) + " --sha256\n", {"script, line 2: install.sh's --sha256 needs a value"}));
  // `bootrino run` itself has no --sha256.
  EXPECT_TRUE(ErrorSays("#!/bin/sh\nbootrino run " + S(kRef) + " --sha256 " + std::string(64, 'b') + "\n",
                        {"`bootrino run --sha256` is not an option"}));
}

// `install.sh --install-only` installs and runs nothing: a note, no manifest from that line.
TEST(UserdataScript, InstallOnlyNamesNoManifest) {
  auto c = Parse("#!/bin/sh\ncurl -fsSL https://h/install.sh | sh -s -- --install-only --dir /opt/b\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, "");
  EXPECT_TRUE(HasNote(*c, "script, line 2: install.sh --install-only installs bootrino and does not run it: no "
                          "manifest or options are taken from it"));
  EXPECT_TRUE(HasNote(*c, "user-data names no manifest"));
  // Another line that does run bootrino still names the manifest.
  c = Parse("#cloud-config\nruncmd:\n  - curl -fsSL https://h/install.sh | sh -s -- --install-only " + S(kOtherRef) +
            " --yes\n  - [bootrino, run, " + S(kRef) + ", --dry-run]\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->options.Flag("dry_run"));
  EXPECT_FALSE(c->options.Flag("yes"));
  EXPECT_TRUE(HasNote(*c, "runcmd at line 3, column 5: install.sh --install-only installs bootrino and does not run it"));
}

TEST(UserdataScript, ErrorsNameTheLine) {
  EXPECT_TRUE(ErrorSays(
      "#!/bin/sh\nset -e\nbootrino run " + S(kRef) + " --trust /etc/key.pem\n",
      {"script, line 3: `bootrino run --trust` cannot come from user-data", "PEM text under `bootrino: trust:`"}));
  EXPECT_TRUE(ErrorSays("#!/bin/sh\n\ncurl -fsSL https://h/install.sh | sh -s -- \"$(cat /ref)\"\n",
                        {"script: line 3: `bootrino run` is given $(cat /ref), which only the shell can compute"}));
  EXPECT_TRUE(
      ErrorSays("#!/bin/sh\nbootrino run --yes\n", {"script, line 2: `bootrino run` has no manifest reference"}));
  EXPECT_TRUE(ErrorSays("#!/bin/sh\nbootrino run " + S(kRef) + " --detach-timeout=0\n",
                        {"--detach-timeout \"0\": must be between 1 and 86400"}));
  EXPECT_TRUE(ErrorSays("#!/bin/sh\nbootrino run " + S(kRef) + "\nbootrino run " + S(kOtherRef) + "\n",
                        {"(script, line 2) and " + S(kOtherRef) + " (script, line 3)"}));
}

TEST(UserdataScript, ScriptWithoutBootrinoIsANote) {
  auto c = Parse("#!/bin/bash\napt-get update\n# bootrino run https://x/y.sh\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, "");
  EXPECT_TRUE(HasNote(*c, "the script runs no bootrino"));
}

// ---- gzip ----------------------------------------------------------------------------------------------------------

TEST(UserdataGzip, WholeUserDataGzipped) {
  auto c = Parse(Gzip("#cloud-config\nbootrino: " + S(kOtherRef) + "\n"));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kOtherRef);
  c = Parse(Gzip("#!/bin/sh\nbootrino run " + S(kRef) + " --yes\n"));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
}

TEST(UserdataGzip, TruncatedCorruptAndTrailingBytesFail) {
  std::string gz = Gzip("#cloud-config\nbootrino: " + S(kOtherRef) + "\n" + std::string(2000, '#'));
  EXPECT_TRUE(ErrorSays(gz.substr(0, gz.size() / 2), {"gzip'd data is truncated", "upload the whole .gz file again"}));
  EXPECT_TRUE(ErrorSays(gz.substr(0, gz.size() - 3), {"truncated"}));  // the trailer's length field cut
  std::string corrupt = gz;
  corrupt[gz.size() - 6] ^= 0x55;  // the CRC-32
  EXPECT_TRUE(ErrorSays(corrupt, {"gzip'd data is corrupt: incorrect data check"}));
  EXPECT_TRUE(ErrorSays(gz + "junk", {"4 bytes follow the end of the gzip stream"}));
  EXPECT_TRUE(ErrorSays(std::string("\x1f\x8b"), {"truncated"}));
}

TEST(UserdataGzip, BombsAreRefused) {
  // 20 MiB of zeros: about 90 KiB compressed, past the 16 MiB output limit.
  EXPECT_TRUE(ErrorSays(Gzip(std::string(20 << 20, '\0'), 1), {"refused as a decompression bomb"}));
  // The ratio limit alone: 2 MiB of zeros deflates about 1030:1.
  auto r = Gunzip(Gzip(std::string(2 << 20, '\0')), kMaxUserDataBytes);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("1000 times the compressed size"), std::string::npos);
  // Below the ratio, as any real user-data is, it inflates.
  std::string text;
  for (int i = 0; text.size() < (1 << 20); ++i) text += "line " + std::to_string(i) + "\n";
  auto ok = Gunzip(Gzip(text), kMaxUserDataBytes);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(*ok, text);
}

// ---- MIME ----------------------------------------------------------------------------------------------------------

std::string Mime(const std::vector<std::string>& parts, std::string_view boundary = "===============0123456789==") {
  std::string out = "Content-Type: multipart/mixed; boundary=\"" + S(boundary) + "\"\nMIME-Version: 1.0\n\n";
  for (const std::string& part : parts) out += "--" + S(boundary) + "\n" + part + "\n";
  return out + "--" + S(boundary) + "--\n";
}

std::string Part(std::string_view type, std::string_view body, std::string_view extra_headers = "") {
  return "Content-Type: " + S(type) + "; charset=\"us-ascii\"\nMIME-Version: 1.0\n" + S(extra_headers) +
         "Content-Disposition: attachment; filename=\"f\"\n\n" + S(body);
}

TEST(UserdataMime, CloudInitArchiveOfEveryPartType) {
  std::string archive = Mime({
      Part("text/cloud-config", "#cloud-config\nbootrino:\n  manifest: " + S(kRef) + "\n  yes: true\n"),
      Part("text/x-shellscript", "#!/bin/sh\necho no bootrino here\n"),
      Part("text/x-include-url", "#include\nhttps://example.com/more\n"),
      Part("text/cloud-boothook", "#cloud-boothook\necho\n"),
      Part("text/cloud-config", Base64("#cloud-config\nssh_authorized_keys: [\"" + S(kAlice) + "\"]\n"),
           "Content-Transfer-Encoding: base64\n"),
      Part("application/x-gzip", Base64(Gzip("#cloud-config\nhostname: from-gzip\n")),
           "Content-Transfer-Encoding: base64\n"),
      Part("text/plain", "#!/bin/sh\n# sniffed as a script\n"),
  });
  auto c = Parse(archive);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
  EXPECT_TRUE(c->options.Flag("yes"));
  EXPECT_EQ(c->ssh_keys, std::vector<std::string>{S(kAlice)});
  EXPECT_EQ(c->hostname, "from-gzip");
  EXPECT_TRUE(HasNote(*c, "part 2 (text/x-shellscript \"f\") runs no bootrino"));
  EXPECT_TRUE(HasNote(*c, "part 3 (text/x-include-url \"f\"): ignored: bootrino does not fetch #include URLs"));
  EXPECT_TRUE(HasNote(*c, "part 4 (text/cloud-boothook \"f\"): ignored"));
  EXPECT_TRUE(HasNote(*c, "part 7 (text/plain \"f\") runs no bootrino"));
  // The same archive gzip'd as a whole.
  auto gz = Parse(Gzip(archive));
  ASSERT_TRUE(gz) << gz.error().message();
  EXPECT_EQ(gz->manifest, kRef);
}

TEST(UserdataMime, ScriptPartAndCrlfAndQuotedPrintable) {
  std::string archive = Mime({Part("text/x-shellscript", "#!/bin/sh\ncurl -fsSL https://h/install.sh | sudo sh -s -- " +
                                                             S(kOtherRef) + " --yes\n")});
  std::string crlf;
  for (char ch : archive) crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  for (const std::string& text : {archive, crlf}) {
    auto c = Parse(text);
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_EQ(c->manifest, kOtherRef);
    EXPECT_TRUE(c->options.Flag("yes"));
  }
  auto qp = Parse(Mime({Part("text/cloud-config", "#cloud-config\nbootrino: https://example.org/tinycore/=\nbootrino.sh\n",
                             "Content-Transfer-Encoding: quoted-printable\n")}));
  ASSERT_TRUE(qp) << qp.error().message();
  EXPECT_EQ(qp->manifest, kOtherRef);
}

TEST(UserdataMime, GzipPartsShareOneBudget) {
  // Each part inflates 10 MiB at a modest ratio; together they pass the 16 MiB limit.
  std::string part = Part("application/x-gzip", Base64(Gzip(std::string(10 << 20, 'a'), 1)),
                          "Content-Transfer-Encoding: base64\n");
  EXPECT_TRUE(ErrorSays(Mime({part, part}),
                        {"part 2 (application/x-gzip \"f\"): gzip'd data inflates past", "decompression bomb"}));
  auto one = Parse(Mime({part}));
  ASSERT_TRUE(one) << one.error().message();
}

TEST(UserdataMime, NestedMultipartIsNumbered) {
  std::string inner = Mime({Part("text/x-shellscript", "#!/bin/sh\nbootrino run " + S(kRef) + " --bogus\n")}, "inner");
  std::string outer = Mime({Part("text/cloud-config", "#cloud-config\n{}\n"), inner}, "outer");
  EXPECT_TRUE(ErrorSays(outer, {"part 2.1 (text/x-shellscript \"f\"), line 2: `bootrino run --bogus`"}));
}

TEST(UserdataMime, ErrorsInAPartNameThePart) {
  EXPECT_TRUE(ErrorSays(Mime({Part("text/plain", "hello"), Part("text/cloud-config", "#cloud-config\nbootrino: [\n")}),
                        {"part 2 (text/cloud-config \"f\"): line 3"}));
  EXPECT_TRUE(ErrorSays(Mime({Part("text/cloud-config", "!!!notbase64", "Content-Transfer-Encoding: base64\n")}),
                        {"part 1: invalid base64 at byte 1"}));
  EXPECT_TRUE(ErrorSays(Mime({Part("text/cloud-config", "x", "Content-Transfer-Encoding: uuencode\n")}),
                        {"unknown Content-Transfer-Encoding \"uuencode\""}));
}

TEST(UserdataMime, TruncatedArchivesFail) {
  std::string archive = Mime({Part("text/cloud-config", "#cloud-config\nbootrino: " + S(kRef) + "\n")});
  EXPECT_TRUE(ErrorSays(archive.substr(0, archive.size() - 10), {"ends without its closing boundary"}));
  EXPECT_TRUE(ErrorSays("Content-Type: multipart/mixed; boundary=\"b\"\nMIME-Version: 1.0\n\nno parts at all\n",
                        {"its boundary \"b\" never appears"}));
  EXPECT_TRUE(ErrorSays("Content-Type: multipart/mixed\nMIME-Version: 1.0\n\n--x\n", {"has no boundary parameter"}));
  // A gzip'd part cut short inside a well-formed archive.
  std::string gz = Gzip("#cloud-config\nbootrino: " + S(kRef) + "\n");
  EXPECT_TRUE(
      ErrorSays(Mime({Part("application/x-gzip", Base64(gz.substr(0, 20)), "Content-Transfer-Encoding: base64\n")}),
                {"part 1 (application/x-gzip \"f\"): gzip'd data is truncated"}));
}

TEST(UserdataMime, NestingIsBounded) {
  std::string text = "#cloud-config\nbootrino: " + S(kRef) + "\n";
  for (int i = 0; i < 6; ++i) text = Gzip(text);
  EXPECT_NE(ErrorOf(text).find("nested more than 4 deep"), std::string::npos) << ErrorOf(text);
}

// ---- everything else -----------------------------------------------------------------------------------------------

TEST(UserdataOther, EmptyAndUnknownTextAreNotes) {
  for (std::string_view empty : {"", "\n\n  \n"}) {
    auto c = Parse(empty);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->manifest, "");
    EXPECT_TRUE(HasNote(*c, "user-data is empty"));
  }
  auto c = Parse("hello world\nthis is not user-data\n");
  ASSERT_TRUE(c);
  EXPECT_TRUE(HasNote(*c, "user-data is in no format bootrino reads (it starts \"hello world\")"));
  c = Parse("#include\nhttps://example.com/ud\n");
  ASSERT_TRUE(c);
  EXPECT_TRUE(HasNote(*c, "does not fetch #include URLs"));
  c = Parse("## template: jinja\n#cloud-config\nbootrino: {{ ds.meta_data.ref }}\n");
  ASSERT_TRUE(c);
  EXPECT_TRUE(HasNote(*c, "(## template: jinja): ignored"));
}

TEST(UserdataOther, BinaryJunkFails) {
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  EXPECT_TRUE(ErrorSays(png, {"user-data is binary (first bytes 89 50 4e 47 0d 0a 1a 0a) and not gzip"}));
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131 + 7) % 256);
  EXPECT_NE(ErrorOf(junk).find("is binary"), std::string::npos);
  // A script with a NUL byte is not text either, but a #! script is read as one: the lexer copes.
  auto c = Parse(std::string("#!/bin/sh\0\nbootrino run ", 24) + S(kRef) + "\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, kRef);
}

// Seeded byte flips, insertions and cuts of every shape: Parse answers each
// (a Config or an error with a message), never crashes or hangs. The checked
// build (ASan+UBSan) runs this too.
TEST(UserdataOther, MutatedInputsNeverCrash) {
  const std::string cloud_config = "#cloud-config\nbootrino:\n  manifest: " + S(kRef) + "\n  options: {detach: true}\n"
                                   "  trust: [\"" + S(kPem).substr(0, 27) + "\"]\nruncmd:\n  - [sh, -c, 'bootrino run x']\n";
  const std::string script = "#!/bin/sh\nR=" + S(kRef) + "\ncat <<EOF\nx\nEOF\ncurl -fsSL https://h/install.sh | "
                             "sudo sh -s -- \"$R\" --yes 2>&1 # c\n";
  const std::string mime = "Content-Type: multipart/mixed; boundary=\"b\"\nMIME-Version: 1.0\n\n--b\n"
                           "Content-Type: text/cloud-config\nContent-Transfer-Encoding: base64\n\n" +
                           Base64(cloud_config) + "\n--b\nContent-Type: text/x-shellscript\n\n" + script + "\n--b--\n";
  const std::string seeds[] = {cloud_config, script, mime, Gzip(mime)};
  std::uint32_t state = 12345;
  auto next = [&] { return state = state * 1103515245u + 12345u; };
  int parsed = 0, failed = 0;
  for (const std::string& seed : seeds) {
    for (int round = 0; round < 1500; ++round) {
      std::string input = seed;
      for (int edits = 1 + next() % 4; edits > 0 && !input.empty(); --edits) {
        const std::size_t at = next() % input.size();
        switch (next() % 4) {
          case 0: input[at] = static_cast<char>(next() >> 8); break;
          case 1: input.insert(at, 1, "\"'`$\\|<#:[{-\n\0"[next() % 15]); break;
          case 2: input.erase(at, 1 + next() % 8); break;
          case 3: input.resize(at); break;
        }
      }
      auto r = Parse(input);
      if (r) {
        ++parsed;
      } else {
        ++failed;
        EXPECT_FALSE(r.error().message().empty());
        EXPECT_FALSE(r.error().hint().empty()) << r.error().message();
      }
    }
  }
  // Both outcomes occur: the mutations reach the parsers, not only the first check.
  EXPECT_GT(parsed, 500);
  EXPECT_GT(failed, 500);
}

TEST(UserdataOther, HugeInputIsRefusedBeforeParsing) {
  std::string huge(kMaxUserDataBytes + 1, '#');
  EXPECT_TRUE(ErrorSays(huge, {"user-data is 16777217 bytes; bootrino reads at most 16777216"}));
}

TEST(UserdataOther, JsonAndTextShowEveryField) {
  auto c = Parse("#cloud-config\nbootrino:\n  manifest: " + S(kRef) + "\n  yes: true\n  options: {detach: true}\n"
                 "ssh_authorized_keys: [\"" + S(kAlice) + "\"]\n");
  ASSERT_TRUE(c);
  c->source = "/var/lib/cloud/instance/user-data.txt";
  auto j = ToJson(*c);
  EXPECT_EQ(j.dump(), "{\"source\":\"/var/lib/cloud/instance/user-data.txt\",\"cloud\":\"\",\"manifest\":\"" + S(kRef) +
                          "\",\"yes\":true,\"options\":{\"detach\":true},\"trust_keys\":[],\"ssh_keys\":[\"" +
                          S(kAlice) + "\"],\"hostname\":\"\",\"from\":{\"hostname\":\"\",\"ssh_keys\":[]},\"instance_data\":null,"
                          "\"metadata_service\":\"\",\"status_url\":\"\",\"refused\":[],\"notes\":[]}");
  std::string text = ToText(*c);
  EXPECT_NE(text.find("manifest:   " + S(kRef) + "\n"), text.npos) << text;
  EXPECT_NE(text.find("options:    {\"detach\":true}\n"), text.npos) << text;
  EXPECT_NE(text.find("ssh keys:   1\n  ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEAt…WEag6TNkYgKuMQ alice@example\n"), text.npos) << text;
  EXPECT_TRUE(RequireManifest(*c));
}

// Found by tests/fuzz/userdata_fuzz: a script whose manifest URL held bytes that
// are not UTF-8 parsed, and then `bootrino userdata --json` threw in dump().
TEST(UserdataOther, JsonIsUtf8WhateverBytesTheUserDataHeld) {
  const std::string url = "https://example.com/alp\xfb\xfbine/bootrino.sh";
  auto c = Parse("#!/bin/sh\nbootrino run " + url + " --yes\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->manifest, url);  // what is fetched is what was written
  c->notes.push_back("cut \xe2\x82 short, overlong \xc0\xaf, surrogate \xed\xa0\x80, past U+10FFFF \xf4\x90\x80\x80");
  c->ssh_keys.push_back(S(kAlice) + " caf\xe9");
  std::string dumped;
  ASSERT_NO_THROW(dumped = ToJson(*c).dump());
  const auto j = nlohmann::json::parse(dumped);
  EXPECT_EQ(j["manifest"], "https://example.com/alp\xef\xbf\xbd\xef\xbf\xbdine/bootrino.sh");
  EXPECT_EQ(j["notes"].back(), "cut \xef\xbf\xbd\xef\xbf\xbd short, overlong \xef\xbf\xbd\xef\xbf\xbd, surrogate "
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd, past U+10FFFF \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                               "\xef\xbf\xbd");
  EXPECT_EQ(j["ssh_keys"].back(), S(kAlice) + " caf\xef\xbf\xbd");
  // Well-formed UTF-8 passes unchanged.
  c->notes = {"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xa7"};
  EXPECT_EQ(ToJson(*c)["notes"][0], c->notes[0]);
}

TEST(UserdataOther, RequireManifestSaysWhereBootrinoLooked) {
  Config none;
  none.notes = {"no user-data in /var/lib/cloud/instance/user-data.txt"};
  auto r = RequireManifest(none);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kUsage);
  EXPECT_EQ(r.error().message(), "no user-data found\n  no user-data in /var/lib/cloud/instance/user-data.txt");
  EXPECT_NE(r.error().hint().find("bootrino:\n    manifest:"), std::string::npos);
  Config some;
  some.source = "http://169.254.169.254/latest/user-data";
  EXPECT_EQ(RequireManifest(some).error().message(),
            "the user-data from http://169.254.169.254/latest/user-data names no manifest");
}

}  // namespace
}  // namespace userdata

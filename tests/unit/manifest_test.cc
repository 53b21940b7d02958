#include "fetch/manifest.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "fetch/stage.h"

namespace fetch {
namespace {

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(BOOTRINO_TEST_DATA) + "/manifests/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Wrap(const std::string& json) {
  return "#!/bin/sh\nread BOOTRINOJSON <<\"BOOTRINOJSONMARKER\"\n" + json + "\nBOOTRINOJSONMARKER\n";
}

constexpr const char* kHash = "0a7b2a5eb7b8e7a8f5c1d5e8f0f3b2a1c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4";

// A minimal valid v1 manifest with `boot_extra` spliced into the boot object
// and `arch_extra` into the x86_64 payload.
std::string V1(const std::string& boot_extra = "", const std::string& arch_extra = "") {
  return Wrap(R"({"name": "t", "boot": {"schema": 1, )" + boot_extra +
              R"("architectures": {"x86_64": {"kernel": {"url": "k", "size": 10, "sha256": ")" + kHash +
              "\"}" + arch_extra + "}}}}");
}

std::string ErrorOf(const std::string& script) {
  auto m = ParseManifest(script);
  EXPECT_FALSE(m.has_value()) << "expected an error for:\n" << script;
  if (m) return "";
  EXPECT_EQ(m.error().kind(), base::ErrorKind::kManifest);
  return m.error().message();
}

TEST(Manifest, OriginalFormatParsesWithoutBootSection) {
  auto m = ParseManifest(ReadData("v0-tinycore.sh"));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->meta.name, "Install Tiny Core 64");
  EXPECT_EQ(m->meta.version_date, "2018-01-01T09:00:00Z");
  EXPECT_EQ(m->meta.author.email, "bootrino@example.org");
  EXPECT_EQ(m->meta.launch_targets_url, "https://example.org/launchtargets/defaultLaunchTargetsLatest.json");
  EXPECT_EQ(m->meta.tags, (std::vector<std::string>{"linux", "runfromram", "tinycore"}));
  EXPECT_FALSE(m->boot);
  auto payload = m->PayloadFor(base::Arch::kX86_64);
  ASSERT_FALSE(payload);
  EXPECT_NE(payload.error().message().find("no boot section"), std::string::npos);
}

TEST(Manifest, AlpineExampleParses) {
  auto m = ParseManifest(ReadData("alpine-virt.sh"));
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_TRUE(m->boot);
  EXPECT_EQ(m->boot->min_ram_mib, 512u);
  EXPECT_EQ(m->boot->personalisation, Personalisation::kAlpineApkovl);
  EXPECT_EQ(m->boot->disk.data_label, "alpine-data");
  ASSERT_TRUE(m->boot->after_stage);
  EXPECT_EQ(m->boot->after_stage->timeout_seconds, 30);
  auto x86 = m->PayloadFor(base::Arch::kX86_64);
  ASSERT_TRUE(x86);
  EXPECT_EQ((*x86)->kernel.name, "vmlinuz-virt");
  EXPECT_EQ((*x86)->kernel.size, 12337664u);
  ASSERT_EQ((*x86)->files.size(), 1u);
  EXPECT_EQ((*x86)->files[0].name, "boot/modloop-virt");
  EXPECT_EQ((*x86)->files[0].mirrors.size(), 1u);
  ASSERT_EQ((*x86)->initrds.size(), 2u);
  EXPECT_EQ((*x86)->initrds[0].name, "intel-ucode.img");  // the microcode first, as the kernel wants it
  EXPECT_EQ((*x86)->initrds[1].name, "initramfs-virt");
  EXPECT_EQ((*x86)->All().size(), 4u);
  EXPECT_TRUE(m->PayloadFor(base::Arch::kAarch64));
}

TEST(Manifest, TinyCoreExampleParses) {
  auto m = ParseManifest(ReadData("tinycore64.sh"));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->boot->personalisation, Personalisation::kTinyCoreMydata);
  EXPECT_EQ(m->boot->disk.data_label, "tce");  // named; the boot partition and filesystem are the defaults
  EXPECT_EQ(m->boot->disk.boot_partition_mib, 512u);
  EXPECT_EQ(m->boot->disk.data_filesystem, "ext4");
  auto x86 = m->PayloadFor(base::Arch::kX86_64);
  ASSERT_TRUE(x86);
  EXPECT_EQ((*x86)->cmdline, "tce=LABEL=tce waitusb=5 host=bootrino noswap");
  EXPECT_EQ((*x86)->initrds[0].name, "corepure64.gz");
  auto arm = m->PayloadFor(base::Arch::kAarch64);
  ASSERT_FALSE(arm);
  EXPECT_NE(arm.error().message().find("(it has: x86_64)"), std::string::npos);
}

TEST(Manifest, DefaultsApply) {
  auto m = ParseManifest(V1());
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->boot->disk.boot_partition_mib, 512u);
  EXPECT_EQ(m->boot->disk.data_filesystem, "ext4");
  EXPECT_EQ(m->boot->personalisation, Personalisation::kNone);
  EXPECT_FALSE(m->boot->after_stage);
}

TEST(Manifest, MarkerQuotingVariantsAndCrLf) {
  for (std::string open : {"<<\"BOOTRINOJSONMARKER\"", "<<'BOOTRINOJSONMARKER'", "<< BOOTRINOJSONMARKER",
                           "<<BOOTRINOJSONMARKER"}) {
    std::string script = "read BOOTRINOJSON " + open + "\r\n{\"name\": \"x\"}\r\nBOOTRINOJSONMARKER\r\n";
    auto m = ParseManifest(script);
    EXPECT_TRUE(m) << open << ": " << m.error().message();
  }
}

TEST(Manifest, StructuralErrors) {
  EXPECT_NE(ErrorOf("").find("no metadata block"), std::string::npos);
  EXPECT_NE(ErrorOf("#!/bin/sh\necho hi\n").find("no metadata block"), std::string::npos);
  EXPECT_NE(ErrorOf("read BOOTRINOJSON <<\"BOOTRINOJSONMARKER\"\n{}\n").find("line 1: the BOOTRINOJSON heredoc is never closed"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string("read BOOTRINOJSON <<\"BOOTRINOJSONMARKER\"\n{\"name\":\"a\0\"}\nBOOTRINOJSONMARKER\n", 60))
                .find("NUL"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kMaxManifestBytes + 1, '#')).find("larger than 1 MiB"), std::string::npos);
  EXPECT_NE(ErrorOf(Wrap("[1, 2]")).find("must be a JSON object"), std::string::npos);
  EXPECT_NE(ErrorOf(Wrap("{}")).find("name is required"), std::string::npos);
  EXPECT_NE(ErrorOf(Wrap("{\"name\": \"\"}")).find("name must not be empty"), std::string::npos);
  EXPECT_NE(ErrorOf(Wrap("{\"name\": 5}")).find("name must be a string"), std::string::npos);
  EXPECT_NE(ErrorOf(Wrap("{\"name\": \"a\", \"tags\": [1]}")).find("tags must be an array of strings"), std::string::npos);
  EXPECT_NE(ErrorOf(Wrap("{\"name\": \"a\", \"author\": 3}")).find("author must be"), std::string::npos);
}

TEST(Manifest, JsonSyntaxErrorNamesTheLine) {
  // Line 1 shebang, line 2 read, line 3 "{", line 4 the bad line.
  std::string msg = ErrorOf(Wrap("{\n  \"name\": \"x\",,\n}"));
  EXPECT_NE(msg.find("line 4:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
  std::string truncated = ErrorOf(Wrap("{\n\"name\": \"x\""));
  EXPECT_NE(truncated.find("not valid JSON"), std::string::npos) << truncated;
}

TEST(Manifest, BootSectionErrors) {
  struct Case {
    std::string script, expected;
  };
  std::string k = std::string("\"sha256\": \"") + kHash + "\"";
  std::vector<Case> cases = {
      {Wrap(R"({"name":"t","boot": 3})"), "boot must be an object"},
      {Wrap(R"({"name":"t","boot": {}})"), "boot.schema is required"},
      {Wrap(R"({"name":"t","boot": {"schema": 2}})"), "newer than this bootrino understands"},
      {Wrap(R"({"name":"t","boot": {"schema": "1"}})"), "boot.schema must be a whole number"},
      {Wrap(R"({"name":"t","boot": {"schema": 1}})"), "boot.architectures must be an object"},
      {Wrap(R"({"name":"t","boot": {"schema": 1, "architectures": {}}})"), "boot.architectures must be"},
      {Wrap(R"({"name":"t","boot": {"schema": 1, "architectures": {"amd64": {}}}})"), "amd64 is not a known architecture"},
      {Wrap(R"({"name":"t","boot": {"schema": 1, "architectures": {"x86_64": {}}}})"), "x86_64.kernel is required"},
      {Wrap(R"({"name":"t","boot": {"schema": 1, "architectures": {"x86_64": []}}})"), "x86_64 must be an object"},
      {V1("\"colour\": 1, "), "boot.colour is not a known field"},
      {V1("", ", \"initrd\": []"), "x86_64.initrd is not a known field"},
      {V1("\"minRamMiB\": -5, "), "boot.minRamMiB must be a whole number"},
      {V1("\"personalisation\": \"cloud-init\", "), "is not one of: overlay, apkovl"},
      {V1("\"disk\": {\"bootPartitionMiB\": 100}, "), "bootPartitionMiB must be 260 to 65536"},
      {V1("\"disk\": {\"bootPartitionMiB\": 259}, "), "bootPartitionMiB must be 260 to 65536"},
      {V1("\"disk\": {\"bootPartitionMiB\": 65537}, "), "bootPartitionMiB must be 260 to 65536"},
      {V1("\"disk\": {\"dataLabel\": \"a-label-that-is-too-long\"}, "), "dataLabel must be 1 to 16"},
      {V1("\"disk\": {\"dataFilesystem\": \"btrfs\"}, "), "\"btrfs\" is not supported"},
      {V1("\"disk\": {\"size\": 1}, "), "boot.disk.size is not a known field"},
      {V1("\"hooks\": {\"afterStage\": {\"function\": \"rm -rf /\"}}, "), "must be a shell function name"},
      {V1("\"hooks\": {\"afterStage\": {\"timeoutSeconds\": 0}}, "), "timeoutSeconds must be 1 to 3600"},
      {V1("\"hooks\": {\"beforeBoot\": {}}, "), "boot.hooks.beforeBoot is not a known field"},
      {V1("", ", \"cmdline\": \"a\\nb\""), "cmdline must be one line"},
      {V1("", ", \"cmdline\": 7"), "cmdline must be a string"},
      {V1("", ", \"initrds\": {}"), "initrds must be an array"},
      {V1("", ", \"initrds\": [{\"url\": \"k\", \"size\": 1, " + k + "}]"), "\"k\" and \"k\" would land on the same path"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"size\": 1}]"), "files[0].sha256 is required"},
      {V1("", ", \"files\": [{\"url\": \"f\", " + k + "}]"), "files[0].size is required"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"size\": 0, " + k + "}]"), "size must be at least 1"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"size\": 1.5, " + k + "}]"), "size must be a whole number"},
      {V1("", ", \"files\": [{\"url\": \"\", \"size\": 1, " + k + "}]"), "url must not be empty"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"size\": 1, \"sha256\": \"abc\"}]"), "must be 64 hexadecimal digits"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"size\": 1, \"sha256\": \"" + std::string(64, 'g') + "\"}]"),
       "must be 64 hexadecimal digits"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"name\": \"../etc/passwd\", \"size\": 1, " + k + "}]"), "'..' component"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"name\": \"/etc/passwd\", \"size\": 1, " + k + "}]"), "must be relative"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"name\": \"a//b\", \"size\": 1, " + k + "}]"), "empty, '.' or '..'"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"name\": \"a b\", \"size\": 1, " + k + "}]"), "may use only letters"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"name\": \"" + std::string(201, 'a') + "\", \"size\": 1, " + k + "}]"),
       "is longer than 200 characters"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"name\": \".bootrino/stage.json\", \"size\": 1, " + k + "}]"),
       "uses a name bootrino keeps for itself"},
      {V1("", ", \"files\": [{\"url\": \"dir/\", \"size\": 1, " + k + "}]"), "is empty"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"mirrors\": \"m\", \"size\": 1, " + k + "}]"), "mirrors must be an array"},
      {V1("", ", \"files\": [{\"url\": \"f\", \"md5\": \"x\", \"size\": 1, " + k + "}]"), "md5 is not a known field"},
      {V1("", ", \"files\": [3]"), "files[0] must be an object"},
  };
  for (const auto& c : cases) {
    std::string msg = ErrorOf(c.script);
    EXPECT_NE(msg.find(c.expected), std::string::npos) << "want \"" << c.expected << "\", got \"" << msg << "\"";
  }
}

TEST(Manifest, HashIsNormalisedAndNameDefaultsToUrlBaseName) {
  std::string upper(kHash);
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  auto m = ParseManifest(Wrap(R"({"name":"t","boot":{"schema":1,"architectures":{"x86_64":{"kernel":
      {"url":"https://h/p/vmlinuz?token=1","size":1,"sha256":")" + upper + "\"}}}}}"));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->boot->architectures.at(base::Arch::kX86_64).kernel.sha256, kHash);
  EXPECT_EQ(m->boot->architectures.at(base::Arch::kX86_64).kernel.name, "vmlinuz");
}

// Found by tests/fuzz/manifest_fuzz: two files of 2^63 bytes summed to 0 in
// the stage plan and passed the RAM check, and minRamMiB 2^44 shifted to 0 MiB.
TEST(Manifest, SizesThatWouldWrapTheRamCheckAreRefused) {
  auto kernel = [](const std::string& size) {
    return R"({"name":"t","boot":{"schema":1,"architectures":{"x86_64":{"kernel":{"url":"k","size":)" + size +
           R"(,"sha256":")" + kHash + R"("},"initrds":[{"url":"i","size":)" + size + R"(,"sha256":")" + kHash +
           "\"}]}}}}";
  };
  EXPECT_NE(ErrorOf(Wrap(kernel("9223372036854775808"))).find("kernel.size 9223372036854775808 is more than 1 TiB"),
            std::string::npos);
  auto largest = ParseManifest(Wrap(kernel(std::to_string(kMaxPayloadFileBytes))));
  ASSERT_TRUE(largest) << largest.error().message();
  auto plan = PlanStage(largest->boot->architectures.at(base::Arch::kX86_64), "https://h/bootrino.sh");
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->total_bytes, 2 * kMaxPayloadFileBytes);
  EXPECT_FALSE(CheckFitsInRam(*plan, kMaxPayloadFileBytes));

  EXPECT_NE(ErrorOf(V1("\"minRamMiB\": 17592186044416, ")).find("boot.minRamMiB 17592186044416 is more than 1 PiB"),
            std::string::npos);
  auto most = ParseManifest(V1("\"minRamMiB\": " + std::to_string(kMaxMinRamMiB) + ", "));
  ASSERT_TRUE(most) << most.error().message();
  EXPECT_FALSE(CheckMinRam(most->boot->min_ram_mib, 1ull << 40));
}

// Found by tests/fuzz/manifest_fuzz: a number beyond a double's range made
// nlohmann throw out_of_range, which escaped the parser as an internal error.
TEST(Manifest, NumberOutOfRangeIsAManifestErrorNamingTheLine) {
  std::string msg = ErrorOf(Wrap("{\"name\": \"t\",\n \"boot\": {\"schema\": 1e999}}"));
  EXPECT_NE(msg.find("line 4: the metadata block holds a number out of range: number overflow parsing '1e999'"),
            std::string::npos)
      << msg;
}

// Two files on one staged path: the second open would fail (EEXIST, ENOTDIR)
// as an internal error, or FAT would keep one of two case-variant names.
TEST(Manifest, FileNamesThatLandOnOnePathAreRefused) {
  std::string k = std::string("\"sha256\": \"") + kHash + "\"";
  auto file = [&](const std::string& name) { return "{\"url\": \"f\", \"name\": \"" + name + "\", \"size\": 1, " + k + "}"; };
  struct Case {
    std::string files, first, second;
  };
  std::vector<Case> cases = {
      {file("a") + ", " + file("a"), "a", "a"},
      {file("modloop") + ", " + file("MODLOOP"), "modloop", "MODLOOP"},
      {file("k"), "k", "k"},  // the kernel's default name is "k" too
      {file("apks") + ", " + file("apks/x86_64/APKINDEX.tar.gz"), "apks", "apks/x86_64/APKINDEX.tar.gz"},
      {file("Apks/x86_64/a.apk") + ", " + file("apks"), "Apks/x86_64/a.apk", "apks"},
      {file("d/e/f") + ", " + file("D/E"), "d/e/f", "D/E"},
  };
  for (const auto& c : cases) {
    std::string msg = ErrorOf(V1("", ", \"files\": [" + c.files + "]"));
    std::string want = "\"" + c.first + "\" and \"" + c.second + "\" would land on the same path";
    EXPECT_NE(msg.find(want), std::string::npos) << "want " << want << ", got " << msg;
  }
  auto fine = ParseManifest(V1("", ", \"files\": [" + file("apks/a") + ", " + file("apks/b") + ", " +
                                       file("apksx") + "]"));
  EXPECT_TRUE(fine) << fine.error().message();
}

// nlohmann keeps the last of two equal keys, other JSON readers the first: a
// manifest that reads one way to its reviewer and another way to bootrino.
TEST(Manifest, DuplicateKeysAtAnyDepthAreRefusedWithTheLine) {
  // Line 1 shebang, line 2 read, line 3 "{".
  std::string top = ErrorOf(Wrap("{\n\"name\": \"a\",\n\"name\": \"b\"\n}"));
  EXPECT_NE(top.find("line 5: the key \"name\" appears twice in one object"), std::string::npos) << top;
  std::string deep = ErrorOf(Wrap("{\"name\": \"t\", \"boot\": {\"schema\": 1, \"architectures\": {\"x86_64\":\n"
                                  "{\"kernel\": {\"url\": \"k\", \"size\": 10,\n\"sha256\": \"" + std::string(kHash) +
                                  "\",\n\"url\": \"evil\"}}}}}"));
  EXPECT_NE(deep.find("line 6: the key \"url\" appears twice"), std::string::npos) << deep;
  std::string nested = ErrorOf(Wrap("{\"name\": \"t\", \"tags\": [], \"author\": {\"name\": \"x\",\n"
                                      "\"email\": \"e\", \"name\": \"y\"}}"));
  EXPECT_NE(nested.find("line 4: the key \"name\" appears twice"), std::string::npos) << nested;
  // Equal keys in different objects, and an object in an array, are fine.
  auto fine = ParseManifest(Wrap("{\"name\": \"t\", \"author\": {\"name\": \"x\"}, \"x\": [{\"name\": 1}, {\"name\": 2}]}"));
  EXPECT_TRUE(fine) << fine.error().message();
}

}  // namespace
}  // namespace fetch

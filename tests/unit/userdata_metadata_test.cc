// The metadata services' answers read without HTTP (userdata/metadata.h's
// parsers and http.h's AddHeaderLine): what QueryMetadata makes of each body.
// And IdentifyCloud: which cloud a host is, from files under a fake root.
// The same functions are the imds fuzz target's (tests/fuzz/imds_fuzz.cc).
#include "userdata/metadata.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "tests/unit/userdata_testing.h"
#include "userdata/http.h"
#include "userdata/instance_data.h"

namespace userdata {
namespace {

using namespace userdata::testing;

std::string S(std::string_view s) { return std::string(s); }

TEST(UserdataMetadata, AwsToken) {
  EXPECT_EQ(ParseSessionToken("AQAEAFd-token==\n"), "AQAEAFd-token==");
  EXPECT_EQ(ParseSessionToken("  \r\n"), std::nullopt);
  EXPECT_EQ(ParseSessionToken(""), std::nullopt);
}

// Found by tests/fuzz/imds_fuzz: a token with a line break (or any control
// character) inside was sent back as is in X-aws-ec2-metadata-token, so whoever
// answered the PUT could add headers to every later request.
TEST(UserdataMetadata, AwsTokenIsOneHeaderSafeWord) {
  EXPECT_EQ(ParseSessionToken("tok\r\nX-Injected: 1\n"), std::nullopt);
  EXPECT_EQ(ParseSessionToken("tok/\x1d\x1d"), std::nullopt);
  EXPECT_EQ(ParseSessionToken("two words"), std::nullopt);
  EXPECT_EQ(ParseSessionToken("t\xc3\xb6k"), std::nullopt);
  EXPECT_EQ(ParseSessionToken(std::string("tok\0en", 6)), std::nullopt);
  EXPECT_EQ(ParseSessionToken("AQAEAF-_~.+/=="), "AQAEAF-_~.+/==");
}

TEST(UserdataMetadata, AwsKeyIndexesSkipWhatIsNoIndex) {
  EXPECT_EQ(ParseAwsKeyIndexes("0=my-key\n1=other-key\n"), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(ParseAwsKeyIndexes(" 12=k \r\n\n=nameless\nx=letter\n3\n../4=up\n-1=minus\n"),
            (std::vector<std::string>{"12", "3"}));
  EXPECT_TRUE(ParseAwsKeyIndexes("").empty());
}

TEST(UserdataMetadata, PlainKeyListKeepsValidLinesAndNotesTheRest) {
  Metadata m;
  AddSshKeys(S(kAlice) + "\r\n\n  not a key\n" + S(kBob) + "\n", KeyListFormat::kPlain, "DigitalOcean public-keys", m);
  EXPECT_EQ(m.ssh_keys, (std::vector<std::string>{S(kAlice), S(kBob)}));
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_NE(m.notes[0].find("skipped a key from DigitalOcean public-keys: is not an OpenSSH public key line"),
            std::string::npos)
      << m.notes[0];
}

TEST(UserdataMetadata, GcpKeyListDropsTheUser) {
  Metadata m;
  AddSshKeys("alice:" + S(kAlice) + "\nbob:" + S(kBob) + " google-ssh {\"userName\":\"bob\"}\n" + S(kAlice) + "\n",
             KeyListFormat::kGcp, "GCP instance ssh-keys", m);
  ASSERT_EQ(m.ssh_keys.size(), 3u);
  EXPECT_EQ(m.ssh_keys[0], kAlice);
  EXPECT_TRUE(m.ssh_keys[1].starts_with(S(kBob))) << m.ssh_keys[1];
  EXPECT_EQ(m.ssh_keys[2], kAlice);  // no USER: prefix
  // The same "USER:" line read as a plain list is no key.
  Metadata plain;
  AddSshKeys("alice:" + S(kAlice), KeyListFormat::kPlain, "x", plain);
  EXPECT_TRUE(plain.ssh_keys.empty());
  EXPECT_EQ(plain.notes.size(), 1u);
}

TEST(UserdataMetadata, Hostname) {
  Metadata m;
  AddHostname("ip-10-0-0-1.ec2.internal\n", "AWS local-hostname", m);
  EXPECT_EQ(m.hostname, "ip-10-0-0-1.ec2.internal");
  AddHostname("  \n", "AWS local-hostname", m);  // empty: changes nothing, no note
  EXPECT_EQ(m.hostname, "ip-10-0-0-1.ec2.internal");
  EXPECT_TRUE(m.notes.empty());
  AddHostname("bad_name", "DigitalOcean hostname", m);
  EXPECT_EQ(m.hostname, "ip-10-0-0-1.ec2.internal");
  ASSERT_EQ(m.notes.size(), 1u);
  EXPECT_NE(m.notes[0].find("skipped the hostname \"bad_name\" from DigitalOcean hostname"), std::string::npos);
}

// Found by tests/fuzz/instance_data: cloud-init's record carries what the metadata service said, and each
// value is a line of `bootrino userdata`'s text. A line break in one (or in a hostname that is refused and
// quoted in a note) must not forge another line: such a value is not taken, and a note shows it escaped.
TEST(UserdataMetadata, ARecordsValuesCannotForgeLinesOfTheOutput) {
  std::string why_not;
  auto record = ParseInstanceData(
      R"({"v1": {"cloud_name": "openstack\ncloud: aws", "platform": "openstack", "region": "r1\r",
                 "instance_id": "i-1\u001b[2J", "local_hostname": "vm\ncloud: gcp"}})",
      "/run/cloud-init/instance-data.json", why_not);
  ASSERT_TRUE(record) << why_not;
  EXPECT_EQ(record->cloud_name, "");
  EXPECT_EQ(record->platform, "openstack");
  EXPECT_EQ(record->region, "");
  EXPECT_EQ(record->instance_id, "");
  EXPECT_EQ(record->hostname, "");
  ASSERT_EQ(record->notes.size(), 1u);
  EXPECT_NE(record->notes[0].find("skipped the hostname \"vm"), std::string::npos) << record->notes[0];
  EXPECT_EQ(record->notes[0].find('\n'), std::string::npos) << record->notes[0];
}

TEST(UserdataMetadata, DropletId) {
  EXPECT_TRUE(IsDropletId("123456789\n"));
  for (const char* not_id : {"", "\n", "<html>404</html>", "12 34"}) EXPECT_FALSE(IsDropletId(not_id)) << not_id;
}

TEST(UserdataMetadata, GcpUserDataEncoding) {
  EXPECT_EQ(DecodeGcpUserData("#cloud-config\n", ""), "#cloud-config\n");
  EXPECT_EQ(DecodeGcpUserData("#cloud-config\n", "text"), "#cloud-config\n");
  EXPECT_EQ(DecodeGcpUserData(Base64("#cloud-config\n"), " base64\n"), "#cloud-config\n");
  auto bad = DecodeGcpUserData("#cloud-config\n", "base64");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind(), base::ErrorKind::kUsage);
  EXPECT_NE(bad.error().message().find("GCP user-data (user-data-encoding: base64): invalid base64 at byte 1"),
            std::string::npos)
      << bad.error().message();
}

// meta_data.json, from OpenStack's metadata service or a config drive.
TEST(UserdataMetadata, OpenStackMetaData) {
  std::string why_not;
  auto meta = ParseOpenStackMetaData(R"({"uuid": "d8e02d56", "hostname": "os-1.novalocal", "name": "os 1",)"
                                     R"( "public_keys": {"a": ")" + S(kAlice) + R"(\n", "b": "ssh-rsa junk", "c": 7}})",
                                     "drive", why_not);
  ASSERT_TRUE(meta) << why_not;
  EXPECT_EQ(meta->uuid, "d8e02d56");
  EXPECT_EQ(meta->hostname, "os-1.novalocal");
  EXPECT_EQ(meta->ssh_keys, std::vector<std::string>{S(kAlice)});
  ASSERT_EQ(meta->notes.size(), 1u);
  EXPECT_NE(meta->notes[0].find("skipped a key from drive public_keys/b"), std::string::npos) << meta->notes[0];
  // No hostname: the name, when it is one.
  meta = ParseOpenStackMetaData(R"({"uuid": "u", "name": "server-2"})", "drive", why_not);
  ASSERT_TRUE(meta) << why_not;
  EXPECT_EQ(meta->hostname, "server-2");
  meta = ParseOpenStackMetaData(R"({"uuid": "u", "name": "My Server"})", "drive", why_not);
  ASSERT_TRUE(meta) << why_not;
  EXPECT_EQ(meta->hostname, "");
  EXPECT_NE(meta->notes.at(0).find("from drive name"), std::string::npos) << meta->notes[0];
  // Not OpenStack's document.
  EXPECT_FALSE(ParseOpenStackMetaData(R"({"hostname": "h"})", "drive", why_not));
  EXPECT_EQ(why_not, "a JSON object without a uuid");
  EXPECT_FALSE(ParseOpenStackMetaData(R"({"uuid": 7})", "drive", why_not));
  EXPECT_FALSE(ParseOpenStackMetaData("[1]", "drive", why_not));
  EXPECT_EQ(why_not, "not a JSON object");
  EXPECT_FALSE(ParseOpenStackMetaData("", "drive", why_not));
}

TEST(UserdataMetadata, HeaderLines) {
  Http::Response r;
  AddHeaderLine("HTTP/1.1 100 Continue\r\n", r);
  AddHeaderLine("X-Early: 1\r\n", r);
  AddHeaderLine("HTTP/1.1 200 OK\r\n", r);
  AddHeaderLine("Metadata-Flavor:   Google \r\n", r);
  AddHeaderLine("Content-Type:text/plain\r\n", r);
  AddHeaderLine("\r\n", r);
  EXPECT_EQ(r.Header("metadata-flavor"), "Google");
  EXPECT_EQ(r.Header("content-type"), "text/plain");
  EXPECT_EQ(r.Header("x-early"), "");  // from the 100 Continue, dropped
  EXPECT_EQ(r.headers.size(), 2u);
}

// One entry per cloud in metadata.cc's table: a Cloud without one would have no name and no client.
TEST(UserdataMetadata, EveryCloudHasItsEntry) {
  std::vector<std::string> names;
  for (int i = 0; i < 64 && CloudName(static_cast<Cloud>(i)) != "?"; ++i) {
    names.push_back(S(CloudName(static_cast<Cloud>(i))));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"aws", "gcp", "digitalocean", "azure", "oracle", "hetzner", "openstack",
                                             "vultr", "linode", "scaleway", "exoscale"}));
}

// ---- IdentifyCloud: a fake root per case ---------------------------------------------------------------------

namespace fs = std::filesystem;

class Identify : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("bootrino-identify-" + std::to_string(getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // A host whose files under root are exactly `files` (path → content).
  std::optional<Identity> Host(const std::map<std::string, std::string>& files) {
    fs::remove_all(root_);
    for (const auto& [path, content] : files) {
      fs::create_directories((root_ / path).parent_path());
      std::ofstream(root_ / path) << content;
    }
    return IdentifyCloud(root_.string());
  }
  std::optional<Cloud> CloudOf(const std::map<std::string, std::string>& files) {
    auto identity = Host(files);
    return identity ? std::optional<Cloud>(identity->cloud) : std::nullopt;
  }

  fs::path root_;
};

const std::string kDmi = "sys/class/dmi/id/";

TEST_F(Identify, DmiAndXenAsCloudInitReadsThem) {
  EXPECT_EQ(CloudOf({}), std::nullopt);
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "QEMU\n"}, {kDmi + "product_name", "Standard PC (Q35 + ICH9, 2009)\n"},
                     {kDmi + "product_uuid", "5c6a1c2e-0c6f-4a8e-9d0e-1234567890ab\n"}}),
            std::nullopt);
  // AWS
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "Amazon EC2\n"}}), Cloud::kAws);
  EXPECT_EQ(CloudOf({{kDmi + "bios_vendor", "Amazon EC2\n"}}), Cloud::kAws);
  EXPECT_EQ(CloudOf({{kDmi + "product_version", "4.11.amazon\n"}}), Cloud::kAws);
  EXPECT_EQ(CloudOf({{"sys/hypervisor/uuid", "ec2e1916-9099-7caf-fd21-012345abcdef\n"}}), Cloud::kAws);
  EXPECT_EQ(CloudOf({{"sys/hypervisor/uuid", "EC2E1916-9099-7CAF-FD21-012345ABCDEF\n"}}), Cloud::kAws);
  EXPECT_EQ(CloudOf({{kDmi + "product_uuid", "EC2E1916-9099-7CAF-FD21-012345ABCDEF\n"}}), Cloud::kAws);
  // The same UUID with its first group stored little-endian (ds-identify's *2[0-9a-f]ec).
  EXPECT_EQ(CloudOf({{kDmi + "product_uuid", "45E12AEC-DCD1-B213-94ED-012345ABCDEF\n"}}), Cloud::kAws);
  EXPECT_EQ(CloudOf({{kDmi + "product_uuid", "45E12XEC-DCD1-B213-94ED-012345ABCDEF\n"}}), std::nullopt);
  EXPECT_EQ(CloudOf({{kDmi + "product_uuid", "45E13AEC-DCD1-B213-94ED-012345ABCDEF\n"}}), std::nullopt);
  EXPECT_EQ(CloudOf({{"sys/hypervisor/uuid", "5c6a1c2e-ec2f-4a8e-9d0e-1234567890ab\n"}}), std::nullopt);
  // GCP
  EXPECT_EQ(CloudOf({{kDmi + "product_name", "Google Compute Engine\n"}}), Cloud::kGcp);
  EXPECT_EQ(CloudOf({{kDmi + "product_name", "Google\n"}}), Cloud::kGcp);
  EXPECT_EQ(CloudOf({{kDmi + "product_serial", "GoogleCloud-4A3F0E1B2C3D4E5F\n"}}), Cloud::kGcp);
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "Google\n"}}), Cloud::kGcp);
  EXPECT_EQ(CloudOf({{kDmi + "product_serial", "Google\n"}}), std::nullopt);
  EXPECT_EQ(CloudOf({{kDmi + "product_name", "Google Compute Engine Lookalike\n"}}), std::nullopt);
  // DigitalOcean
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "DigitalOcean\n"}}), Cloud::kDigitalOcean);
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "DigitalOcean Lookalike\n"}}), std::nullopt);
  // Linode: either name of its vendor (ds-identify's dscheck_Akamai).
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "Linode\n"}}), Cloud::kLinode);
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "Akamai\n"}}), Cloud::kLinode);
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "Linode LLC\n"}}), std::nullopt);
  EXPECT_EQ(CloudOf({{kDmi + "product_name", "Linode\n"}}), std::nullopt);
  // Scaleway: DMI only (ds-identify's kernel command line and /var/run/scaleway are the image's own).
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "Scaleway\n"}}), Cloud::kScaleway);
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "Scaleway SAS\n"}}), std::nullopt);
  EXPECT_EQ(CloudOf({{"var/run/scaleway", ""}, {"proc/cmdline", "root=/dev/vda1 scaleway\n"}}), std::nullopt);
  // Exoscale: ds-identify's "Exoscale*".
  EXPECT_EQ(CloudOf({{kDmi + "product_name", "Exoscale\n"}}), Cloud::kExoscale);
  EXPECT_EQ(CloudOf({{kDmi + "product_name", "Exoscale Compute Platform\n"}}), Cloud::kExoscale);
  EXPECT_EQ(CloudOf({{kDmi + "product_name", "Not Exoscale\n"}}), std::nullopt);
  EXPECT_EQ(CloudOf({{kDmi + "sys_vendor", "Exoscale\n"}}), std::nullopt);
  // The evidence is said.
  auto id = Host({{kDmi + "product_uuid", "ec2aaaaa-0000-0000-0000-000000000000\n"}});
  ASSERT_TRUE(id);
  EXPECT_EQ(id->evidence, "DMI product_uuid is \"ec2aaaaa-0000-0000-0000-000000000000\"");
}

TEST_F(Identify, CloudInitsRecordOfItsDatasource) {
  const std::string data = "run/cloud-init/instance-data.json";
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "aws", "platform": "ec2"}})"}}), Cloud::kAws);
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "gce", "platform": "gce"}})"}}), Cloud::kGcp);
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "digitalocean"}})"}}), Cloud::kDigitalOcean);
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "akamai", "platform": "akamai"}})"}}), Cloud::kLinode);
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "scaleway", "platform": "scaleway"}})"}}), Cloud::kScaleway);
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "exoscale", "platform": "exoscale"}})"}}), Cloud::kExoscale);
  // cloud-init's Ec2 datasource on a platform it could not identify believed whoever answered: not evidence.
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "unknown", "platform": "ec2"}})"}}), std::nullopt);
  // Another datasource names none of the three: DMI decides.
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "nocloud", "platform": "nocloud"}})"}}), std::nullopt);
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "brightbox", "platform": "ec2"}})"}}), std::nullopt);
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": "nocloud"}})"}, {kDmi + "sys_vendor", "DigitalOcean\n"}}),
            Cloud::kDigitalOcean);
  EXPECT_EQ(CloudOf({{data, "not json"}}), std::nullopt);
  EXPECT_EQ(CloudOf({{data, R"({"v1": {"cloud_name": 7}})"}}), std::nullopt);
  // The record comes before DMI.
  auto id = Host({{data, R"({"v1": {"cloud_name": "gce"}})"}, {kDmi + "sys_vendor", "Amazon EC2\n"}});
  ASSERT_TRUE(id);
  EXPECT_EQ(id->cloud, Cloud::kGcp);
  EXPECT_EQ(id->evidence, "cloud-init's /run/cloud-init/instance-data.json has cloud_name \"gce\"");

  // cloud-id, as cloud-init writes it: a link with an absolute target, read under the root.
  for (const auto& [name, cloud] : std::vector<std::pair<std::string, std::optional<Cloud>>>{
           {"aws", Cloud::kAws}, {"aws-gov", Cloud::kAws}, {"aws-china", Cloud::kAws}, {"gce", Cloud::kGcp},
           {"digitalocean", Cloud::kDigitalOcean}, {"nocloud", std::nullopt}, {"lxd", std::nullopt}}) {
    Host({{"run/cloud-init/cloud-id-" + name, name + "\n"}});
    fs::create_symlink("/run/cloud-init/cloud-id-" + name, root_ / "run/cloud-init/cloud-id");
    auto found = IdentifyCloud(root_.string());
    EXPECT_EQ(found ? std::optional<Cloud>(found->cloud) : std::nullopt, cloud) << name;
  }
  EXPECT_EQ(CloudOf({{"run/cloud-init/cloud-id", "digitalocean\n"}}), Cloud::kDigitalOcean);
}

}  // namespace
}  // namespace userdata

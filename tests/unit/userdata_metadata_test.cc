// The metadata services' answers read without HTTP (userdata/metadata.h's
// parsers and http.h's AddHeaderLine): what QueryMetadata makes of each body.
// The same functions are the imds fuzz target's (tests/fuzz/imds_fuzz.cc).
#include "userdata/metadata.h"

#include <gtest/gtest.h>

#include "tests/unit/userdata_testing.h"
#include "userdata/http.h"

namespace userdata {
namespace {

using namespace userdata::testing;

std::string S(std::string_view s) { return std::string(s); }

TEST(UserdataMetadata, AwsToken) {
  EXPECT_EQ(ParseAwsToken("AQAEAFd-token==\n"), "AQAEAFd-token==");
  EXPECT_EQ(ParseAwsToken("  \r\n"), std::nullopt);
  EXPECT_EQ(ParseAwsToken(""), std::nullopt);
}

// Found by tests/fuzz/imds_fuzz: a token with a line break (or any control
// character) inside was sent back as is in X-aws-ec2-metadata-token, so whoever
// answered the PUT could add headers to every later request.
TEST(UserdataMetadata, AwsTokenIsOneHeaderSafeWord) {
  EXPECT_EQ(ParseAwsToken("tok\r\nX-Injected: 1\n"), std::nullopt);
  EXPECT_EQ(ParseAwsToken("tok/\x1d\x1d"), std::nullopt);
  EXPECT_EQ(ParseAwsToken("two words"), std::nullopt);
  EXPECT_EQ(ParseAwsToken("t\xc3\xb6k"), std::nullopt);
  EXPECT_EQ(ParseAwsToken(std::string("tok\0en", 6)), std::nullopt);
  EXPECT_EQ(ParseAwsToken("AQAEAF-_~.+/=="), "AQAEAF-_~.+/==");
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

TEST(UserdataMetadata, DropletId) {
  EXPECT_TRUE(IsDropletId("123456789\n"));
  EXPECT_FALSE(IsDropletId(""));
  EXPECT_FALSE(IsDropletId("\n"));
  EXPECT_FALSE(IsDropletId("<html>404</html>"));
  EXPECT_FALSE(IsDropletId("12 34"));
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

}  // namespace
}  // namespace userdata

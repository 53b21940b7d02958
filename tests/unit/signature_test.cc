#include "fetch/signature.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace fetch {
namespace {

namespace fs = std::filesystem;

// Keys and signatures are made by the reference tool, openssl, exactly as the
// docs tell manifest authors to make them.
class SignatureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("bootrino-sig-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    Sh("openssl ecparam -name prime256v1 -genkey -noout -out key.pem");
    Sh("openssl ec -in key.pem -pubout -out key.pub.pem");
    Sh("openssl ec -in key.pem -pubout -outform DER -out key.pub.der");
    Sh("openssl ecparam -name prime256v1 -genkey -noout -out other.pem");
    Sh("openssl ec -in other.pem -pubout -out other.pub.pem");
    Sh("openssl ecparam -name secp384r1 -genkey -noout -out p384.pem");
    Sh("openssl ec -in p384.pem -pubout -out p384.pub.pem");
    Sh("openssl ecparam -name secp256k1 -genkey -noout -out k256.pem");
    Sh("openssl ec -in k256.pem -pubout -out k256.pub.pem");
    Sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem");
    Sh("openssl pkey -in rsa.pem -pubout -out rsa.pub.pem");
    std::ofstream(dir_ / "bootrino.sh") << "read BOOTRINOJSON <<\"BOOTRINOJSONMARKER\"\n{\"name\":\"x\"}\nBOOTRINOJSONMARKER\n";
    Sh("openssl dgst -sha256 -sign key.pem -out bootrino.sh.sig bootrino.sh");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static void Sh(const std::string& command) {
    std::string full = "cd '" + dir_.string() + "' && " + command + " 2>/dev/null";
    ASSERT_EQ(std::system(full.c_str()), 0) << full;
  }
  static std::string Read(const std::string& name) {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static std::string Path(const std::string& name) { return (dir_ / name).string(); }

  static fs::path dir_;
};
fs::path SignatureTest::dir_;

TEST_F(SignatureTest, OpensslSignatureVerifies) {
  std::vector<TrustedKey> keys;
  keys.push_back(*TrustedKey::Load(Path("key.pub.pem")));
  auto key = VerifySignature(Read("bootrino.sh"), Read("bootrino.sh.sig"), keys);
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_EQ((*key)->origin(), Path("key.pub.pem"));
}

TEST_F(SignatureTest, DerPublicKeyWorksToo) {
  auto key = TrustedKey::Load(Path("key.pub.der"));
  ASSERT_TRUE(key) << key.error().message();
  EXPECT_TRUE(key->Verifies(Read("bootrino.sh"), Read("bootrino.sh.sig")));
}

TEST_F(SignatureTest, AnyTrustedKeyMayHaveSigned) {
  std::vector<TrustedKey> keys;
  keys.push_back(*TrustedKey::Load(Path("other.pub.pem")));
  keys.push_back(*TrustedKey::Load(Path("key.pub.pem")));
  auto key = VerifySignature(Read("bootrino.sh"), Read("bootrino.sh.sig"), keys);
  ASSERT_TRUE(key);
  EXPECT_EQ((*key)->origin(), Path("key.pub.pem"));
}

TEST_F(SignatureTest, TamperedDataWrongKeyAndBrokenSignatureFail) {
  std::vector<TrustedKey> keys;
  keys.push_back(*TrustedKey::Load(Path("key.pub.pem")));
  std::string data = Read("bootrino.sh");
  std::string sig = Read("bootrino.sh.sig");
  std::string tampered = data;
  tampered[tampered.size() / 2] ^= 1;
  auto r = VerifySignature(tampered, sig, keys);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), base::ErrorKind::kVerification);
  EXPECT_NE(r.error().message().find("does not verify with any trusted key"), std::string::npos);
  EXPECT_NE(r.error().message().find("key.pub.pem"), std::string::npos);

  std::string flipped = sig;
  flipped[flipped.size() - 3] ^= 0x40;
  EXPECT_FALSE(VerifySignature(data, flipped, keys));
  EXPECT_FALSE(VerifySignature(data, "", keys));
  EXPECT_FALSE(VerifySignature(data, std::string(4096, '\xff'), keys));
  EXPECT_FALSE(VerifySignature(data, sig.substr(0, sig.size() - 1), keys));

  std::vector<TrustedKey> others;
  others.push_back(*TrustedKey::Load(Path("other.pub.pem")));
  EXPECT_FALSE(VerifySignature(data, sig, others));
  EXPECT_FALSE(VerifySignature(data, sig, {}));
}

TEST_F(SignatureTest, KeysThatAreNotP256PublicKeysAreRefused) {
  for (const char* name : {"p384.pub.pem", "k256.pub.pem", "rsa.pub.pem"}) {
    auto key = TrustedKey::Load(Path(name));
    ASSERT_FALSE(key) << name;
    EXPECT_EQ(key.error().kind(), base::ErrorKind::kUsage);
    EXPECT_NE(key.error().message().find("only EC P-256"), std::string::npos) << key.error().message();
  }
  auto priv = TrustedKey::Load(Path("key.pem"));
  ASSERT_FALSE(priv);
  EXPECT_NE(priv.error().message().find("private key"), std::string::npos);
  auto garbage = TrustedKey::Parse("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "garbage");
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message().find("not a PEM or DER public key"), std::string::npos);
  EXPECT_NE(garbage.error().hint().find("openssl ec"), std::string::npos);
  auto missing = TrustedKey::Load(Path("nope.pem"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("cannot be read"), std::string::npos);
}

// The DER encoding of a valid signature, taken apart so that tests can write
// the same r and s in the non-canonical ways BER parsers tolerate.
struct DerSignature {
  std::string r, s;  // the INTEGERs' contents as openssl wrote them (a leading 00 where needed)
};

DerSignature Split(const std::string& sig) {
  DerSignature out;
  std::size_t pos = 2;
  for (std::string* value : {&out.r, &out.s}) {
    std::size_t len = static_cast<unsigned char>(sig.at(pos + 1));
    *value = sig.substr(pos + 2, len);
    pos += 2 + len;
  }
  return out;
}

std::string Integer(const std::string& value) { return std::string("\x02", 1) + char(value.size()) + value; }
std::string Sequence(const std::string& body) { return std::string("\x30", 1) + char(body.size()) + body; }

// One signature, one encoding: openssl writes strict DER, and mbedTLS's parser
// also takes long-form lengths, extra leading zeros and negative integers, so a
// mirror could serve a different .sig for the same signature. Each variant
// below carries the valid r and s of the openssl signature.
TEST_F(SignatureTest, OnlyStrictDerAsOpensslWritesItIsAccepted) {
  std::vector<TrustedKey> keys;
  keys.push_back(*TrustedKey::Load(Path("key.pub.pem")));
  const std::string data = Read("bootrino.sh");
  const std::string sig = Read("bootrino.sh.sig");
  ASSERT_TRUE(IsStrictDerSignature(sig));
  const DerSignature d = Split(sig);
  ASSERT_EQ(Sequence(Integer(d.r) + Integer(d.s)), sig);  // the helpers rebuild openssl's bytes
  ASSERT_TRUE(VerifySignature(data, sig, keys));

  const std::string zero(1, '\0');
  std::vector<std::pair<std::string, std::string>> variants = {
      {"long-form SEQUENCE length",
       std::string("\x30\x81", 2) + char(sig.size() - 2) + sig.substr(2)},
      {"long-form INTEGER length",
       Sequence(std::string("\x02\x81", 2) + char(d.r.size()) + d.r + Integer(d.s))},
      {"extra leading zero on r", Sequence(Integer(zero + d.r) + Integer(d.s))},
      {"extra leading zero on s", Sequence(Integer(d.r) + Integer(zero + d.s))},
      {"a trailing byte", sig + zero},
      {"a trailing SEQUENCE", sig + Sequence("")},
      {"three INTEGERs", Sequence(Integer(d.r) + Integer(d.s) + Integer(std::string(1, '\x01')))},
  };
  // Strip the zero that keeps r or s positive: BER readers that ignore the
  // sign take the same value. Sign until openssl writes one (half the time each).
  DerSignature padded = d;
  std::string padded_sig = sig;
  for (int i = 0; i < 64 && padded.r[0] != '\0' && padded.s[0] != '\0'; ++i) {
    Sh("openssl dgst -sha256 -sign key.pem -out padded.sig bootrino.sh");
    padded_sig = Read("padded.sig");
    padded = Split(padded_sig);
  }
  ASSERT_TRUE(VerifySignature(data, padded_sig, keys));
  if (padded.r[0] == '\0') {
    variants.emplace_back("negative r", Sequence(Integer(padded.r.substr(1)) + Integer(padded.s)));
  } else {
    variants.emplace_back("negative s", Sequence(Integer(padded.r) + Integer(padded.s.substr(1))));
  }
  for (const auto& [what, bytes] : variants) {
    EXPECT_FALSE(IsStrictDerSignature(bytes)) << what;
    EXPECT_FALSE(keys[0].Verifies(data, bytes)) << what;
    auto r = VerifySignature(data, bytes, keys);
    ASSERT_FALSE(r) << what << " was accepted";
    EXPECT_EQ(r.error().kind(), base::ErrorKind::kVerification) << what;
    EXPECT_NE(r.error().message().find("strict DER"), std::string::npos) << what << ": " << r.error().message();
  }
}

// --trust reads at most 64 KiB: a device or a huge file named by mistake is
// refused at once instead of being read into memory.
TEST_F(SignatureTest, KeyFilesAreReadOnlyUpTo64KiB) {
  auto zero = TrustedKey::Load("/dev/zero");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().kind(), base::ErrorKind::kUsage);
  EXPECT_NE(zero.error().message().find("larger than 64 KiB"), std::string::npos) << zero.error().message();
  // A key with 64 KiB of comment after it is still read, one byte more is not.
  std::string key = Read("key.pub.pem");
  std::ofstream(dir_ / "padded.pub.pem") << key << std::string(kMaxKeyFileBytes - key.size(), '\n');
  EXPECT_TRUE(TrustedKey::Load(Path("padded.pub.pem")));
  std::ofstream(dir_ / "huge.pub.pem") << key << std::string(kMaxKeyFileBytes - key.size() + 1, '\n');
  auto huge = TrustedKey::Load(Path("huge.pub.pem"));
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message().find("larger than 64 KiB"), std::string::npos) << huge.error().message();
}

// mbedTLS parses the first PEM block of a file and ignores the rest: a file of
// two keys would trust only the first, silently. Such a file is refused.
TEST_F(SignatureTest, AFileOfSeveralKeysIsRefused) {
  for (const std::string& pair : {Read("key.pub.pem") + Read("other.pub.pem"), Read("other.pub.pem") + Read("key.pub.pem")}) {
    auto key = TrustedKey::Parse(pair, "pair.pem");
    ASSERT_FALSE(key);
    EXPECT_EQ(key.error().kind(), base::ErrorKind::kUsage);
    EXPECT_NE(key.error().message().find("more than one PEM block"), std::string::npos) << key.error().message();
    EXPECT_NE(key.error().hint().find("--trust once per key"), std::string::npos);
  }
}

}  // namespace
}  // namespace fetch

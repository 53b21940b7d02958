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

}  // namespace
}  // namespace fetch

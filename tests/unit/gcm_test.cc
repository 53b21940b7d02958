// mbedTLS's GCM API as bootrino builds it (packaging/deps/gcm_alt.c, MBEDTLS_GCM_ALT):
// on x86_64 CPUs with AES-NI and PCLMULQDQ, AES-GCM runs on gcm_x86.c (its 256-bit
// form where the CPU has VAES and VPCLMULQDQ), on Nettle elsewhere; TLS uses it for
// every AES-GCM record. Known answers from
// McGrew and Viega's GCM specification (test cases 1-18: AES-128/192/256,
// 96-bit, 64-bit and 480-bit IVs, empty input, AD only), Camellia-GCM ones for
// the non-AES path, the edge cases Wycheproof checks (wrong and truncated tags,
// tag lengths), streaming in odd chunk sizes, and the same through PSA, which
// TLS 1.3 calls. The specification's messages are shorter than the eight blocks
// gcm_x86.c works on at once, so long messages are checked against OpenSSL's
// answers and against Nettle's GCM, and the counter's wrap at 2^32 against Nettle.
// tests/unit/gcm_masked.sh runs these again with the CPU's instructions masked:
// the 128-bit x86 code only, and Nettle's portable C only.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <mbedtls/gcm.h>
#include <mbedtls/sha256.h>
#include <nettle/aes.h>
#include <nettle/gcm.h>
#include <psa/crypto.h>

namespace {

using Bytes = std::vector<unsigned char>;

Bytes Hex(std::string_view hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<unsigned char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

struct Vector {
  int number;  // the test case's number in the specification (Nettle's numbering for Camellia)
  mbedtls_cipher_id_t cipher;
  const char* key;
  const char* iv;
  const char* ad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

const Vector kVectors[] = {
    {1, MBEDTLS_CIPHER_ID_AES, "00000000000000000000000000000000",
     "000000000000000000000000",
     "",
     "",
     "",
     "58e2fccefa7e3061367f1d57a4e7455a"},
    {2, MBEDTLS_CIPHER_ID_AES, "00000000000000000000000000000000",
     "000000000000000000000000",
     "",
     "00000000000000000000000000000000",
     "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {3, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {4, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {5, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbad",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423"
     "73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598",
     "3612d2e79e3b0785561be14aaca2fccb"},
    {6, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308",
     "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
     "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca7"
     "01e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5",
     "619cc5aefffe0bfa462af43c1699d050"},
    {7, MBEDTLS_CIPHER_ID_AES, "000000000000000000000000000000000000000000000000",
     "000000000000000000000000",
     "",
     "",
     "",
     "cd33b28ac773f74ba00ed1f312572435"},
    {8, MBEDTLS_CIPHER_ID_AES, "000000000000000000000000000000000000000000000000",
     "000000000000000000000000",
     "",
     "00000000000000000000000000000000",
     "98e7247c07f0fe411c267e4384b0f600",
     "2ff58d80033927ab8ef4d4587514f0fb"},
    {9, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308feffe9928665731c",
     "cafebabefacedbaddecaf888",
     "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
     "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710acade256",
     "9924a7c8587336bfb118024db8674a14"},
    {10, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308feffe9928665731c",
     "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "3980ca0b3c00e841eb06fac4872a2757859e1ceaa6efd984628593b40ca1e19c"
     "7d773d00c144c525ac619d18c84a3f4718e2448b2fe324d9ccda2710",
     "2519498e80f1478f37ba55bd6d27618c"},
    {11, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308feffe9928665731c",
     "cafebabefacedbad",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "0f10f599ae14a154ed24b36e25324db8c566632ef2bbb34f8347280fc4507057"
     "fddc29df9a471f75c66541d4d4dad1c9e93a19a58e8b473fa0f062f7",
     "65dcc57fcf623a24094fcca40d3533f8"},
    {12, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308feffe9928665731c",
     "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
     "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "d27e88681ce3243c4830165a8fdcf9ff1de9a1d8e6b447ef6ef7b79828666e45"
     "81e79012af34ddd9e2f037589b292db3e67c036745fa22e7e9b7373b",
     "dcf566ff291c25bbb8568fc3d376a6d9"},
    {13, MBEDTLS_CIPHER_ID_AES, "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000",
     "",
     "",
     "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {14, MBEDTLS_CIPHER_ID_AES, "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000",
     "",
     "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {15, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {16, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    {17, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbad",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0"
     "feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
     "3a337dbf46a792c45e454913fe2ea8f2"},
    {18, MBEDTLS_CIPHER_ID_AES, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
     "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4"
     "0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
     "a44a8266ee1c8eb0c8b5d4cf5ae9f19a"},
    {4, MBEDTLS_CIPHER_ID_CAMELLIA, "feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "d0d94a13b632f337a0cc9955b94fa020c815f903aab12f1efaf2fe9d90f729a6"
     "cccbfa986ef2ff2c33de418d9a2529091cf18fe652c1cfde13f82606",
     "9f458869431576ea6a095456ec6b8101"},
    {6, MBEDTLS_CIPHER_ID_CAMELLIA, "feffe9928665731c6d6a8f9467308308",
     "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
     "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "2e582b8417c93f2ff4f6f7ee3c361e4496e710ee12433baa964987d02f42953e"
     "402e6f4af407fe08cd2f35123696014c34db19128df4056faebcd647",
     "ceae5569b2af8641572622731aed3e53"},
    {16, MBEDTLS_CIPHER_ID_CAMELLIA, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "ad142c11579dd95e41f3c1f324dabc255864d920f1b65759d8f560d4948d4477"
     "58dfdcf77aa9f62581c7ff572a037f810cb1a9c4b3ca6ed638179b77",
     "4e4b178d8fe26fdc95e2e7246dd94bec"},
};

std::string Name(const Vector& v) {
  return std::string(v.cipher == MBEDTLS_CIPHER_ID_AES ? "AES" : "Camellia") + " test case " +
         std::to_string(v.number);
}

// A context with the vector's key, freed with the test.
class Gcm {
 public:
  explicit Gcm(const Vector& v) {
    mbedtls_gcm_init(&ctx_);
    const Bytes key = Hex(v.key);
    setkey_ = mbedtls_gcm_setkey(&ctx_, v.cipher, key.data(), static_cast<unsigned>(key.size() * 8));
  }
  ~Gcm() { mbedtls_gcm_free(&ctx_); }
  Gcm(const Gcm&) = delete;
  Gcm& operator=(const Gcm&) = delete;
  mbedtls_gcm_context* get() { return &ctx_; }
  int setkey_result() const { return setkey_; }

 private:
  mbedtls_gcm_context ctx_;
  int setkey_ = -1;
};

// Runs a whole message through starts/update_ad/update/finish, feeding AD and
// input in pieces of `chunk` bytes; the output of each update must be immediate
// (as long as its input), which callers passing output_size == input_length need.
int Stream(mbedtls_gcm_context* ctx, int mode, const Bytes& iv, const Bytes& ad, const Bytes& in, std::size_t chunk,
           Bytes& out, Bytes& tag) {
  out.assign(in.size(), 0xee);
  if (int ret = mbedtls_gcm_starts(ctx, mode, iv.data(), iv.size())) return ret;
  for (std::size_t i = 0; i < ad.size(); i += chunk) {
    if (int ret = mbedtls_gcm_update_ad(ctx, ad.data() + i, std::min(chunk, ad.size() - i))) return ret;
  }
  for (std::size_t i = 0; i < in.size(); i += chunk) {
    const std::size_t n = std::min(chunk, in.size() - i);
    std::size_t olen = 0;
    if (int ret = mbedtls_gcm_update(ctx, in.data() + i, n, out.data() + i, n, &olen)) return ret;
    if (olen != n) return -1;
  }
  std::size_t olen = 1;
  if (int ret = mbedtls_gcm_finish(ctx, nullptr, 0, &olen, tag.data(), tag.size())) return ret;
  return olen == 0 ? 0 : -1;
}

TEST(GcmVectors, EncryptAndDecryptOneShot) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(Name(v));
    Gcm gcm(v);
    ASSERT_EQ(gcm.setkey_result(), 0);
    const Bytes iv = Hex(v.iv), ad = Hex(v.ad), pt = Hex(v.plaintext), ct = Hex(v.ciphertext), tag = Hex(v.tag);
    Bytes out(pt.size()), got_tag(16);
    ASSERT_EQ(mbedtls_gcm_crypt_and_tag(gcm.get(), MBEDTLS_GCM_ENCRYPT, pt.size(), iv.data(), iv.size(), ad.data(),
                                        ad.size(), pt.data(), out.data(), got_tag.size(), got_tag.data()),
              0);
    EXPECT_EQ(out, ct);
    EXPECT_EQ(got_tag, tag);
    Bytes back(ct.size());
    ASSERT_EQ(mbedtls_gcm_auth_decrypt(gcm.get(), ct.size(), iv.data(), iv.size(), ad.data(), ad.size(), tag.data(),
                                       tag.size(), ct.data(), back.data()),
              0);
    EXPECT_EQ(back, pt);
  }
}

TEST(GcmVectors, InPlace) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(Name(v));
    Gcm gcm(v);
    const Bytes iv = Hex(v.iv), ad = Hex(v.ad), ct = Hex(v.ciphertext), tag = Hex(v.tag);
    Bytes buf = Hex(v.plaintext), got_tag(16);
    ASSERT_EQ(mbedtls_gcm_crypt_and_tag(gcm.get(), MBEDTLS_GCM_ENCRYPT, buf.size(), iv.data(), iv.size(), ad.data(),
                                        ad.size(), buf.data(), buf.data(), got_tag.size(), got_tag.data()),
              0);
    EXPECT_EQ(buf, ct);
    ASSERT_EQ(mbedtls_gcm_auth_decrypt(gcm.get(), buf.size(), iv.data(), iv.size(), ad.data(), ad.size(), tag.data(),
                                       tag.size(), buf.data(), buf.data()),
              0);
    EXPECT_EQ(buf, Hex(v.plaintext));
  }
}

TEST(GcmVectors, StreamingInOddChunksEqualsOneShot) {
  for (const Vector& v : kVectors) {
    for (std::size_t chunk : {1, 15, 16, 17, 33}) {
      SCOPED_TRACE(Name(v) + ", chunks of " + std::to_string(chunk));
      Gcm gcm(v);
      const Bytes iv = Hex(v.iv), ad = Hex(v.ad), pt = Hex(v.plaintext), ct = Hex(v.ciphertext);
      Bytes out, tag(16);
      ASSERT_EQ(Stream(gcm.get(), MBEDTLS_GCM_ENCRYPT, iv, ad, pt, chunk, out, tag), 0);
      EXPECT_EQ(out, ct);
      EXPECT_EQ(tag, Hex(v.tag));
      ASSERT_EQ(Stream(gcm.get(), MBEDTLS_GCM_DECRYPT, iv, ad, ct, chunk, out, tag), 0);
      EXPECT_EQ(out, pt);
      EXPECT_EQ(tag, Hex(v.tag));
    }
  }
}

TEST(GcmVectors, MbedtlsSelfTest) { EXPECT_EQ(mbedtls_gcm_self_test(0), 0); }

// What TLS 1.3 calls for each record: PSA's one-shot AEAD, and its multi-part
// form with update sizes that split blocks.
TEST(GcmVectors, ThroughPsa) {
  ASSERT_EQ(psa_crypto_init(), PSA_SUCCESS);
  for (const Vector& v : kVectors) {
    if (v.cipher != MBEDTLS_CIPHER_ID_AES || Hex(v.iv).size() != 12) continue;
    SCOPED_TRACE(Name(v));
    const Bytes key = Hex(v.key), iv = Hex(v.iv), ad = Hex(v.ad), pt = Hex(v.plaintext);
    Bytes expected = Hex(v.ciphertext);
    const Bytes tag = Hex(v.tag);
    expected.insert(expected.end(), tag.begin(), tag.end());
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    psa_set_key_type(&attr, PSA_KEY_TYPE_AES);
    psa_set_key_algorithm(&attr, PSA_ALG_GCM);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_ENCRYPT | PSA_KEY_USAGE_DECRYPT);
    psa_key_id_t id = 0;
    ASSERT_EQ(psa_import_key(&attr, key.data(), key.size(), &id), PSA_SUCCESS);
    Bytes out(pt.size() + 16);
    std::size_t olen = 0;
    EXPECT_EQ(psa_aead_encrypt(id, PSA_ALG_GCM, iv.data(), iv.size(), ad.data(), ad.size(), pt.data(), pt.size(),
                               out.data(), out.size(), &olen),
              PSA_SUCCESS);
    out.resize(olen);
    EXPECT_EQ(out, expected);
    Bytes back(pt.size() + 1);
    EXPECT_EQ(psa_aead_decrypt(id, PSA_ALG_GCM, iv.data(), iv.size(), ad.data(), ad.size(), expected.data(),
                               expected.size(), back.data(), back.size(), &olen),
              PSA_SUCCESS);
    back.resize(olen);
    EXPECT_EQ(back, pt);

    psa_aead_operation_t op = PSA_AEAD_OPERATION_INIT;
    ASSERT_EQ(psa_aead_encrypt_setup(&op, id, PSA_ALG_GCM), PSA_SUCCESS);
    ASSERT_EQ(psa_aead_set_nonce(&op, iv.data(), iv.size()), PSA_SUCCESS);
    ASSERT_EQ(psa_aead_update_ad(&op, ad.data(), ad.size()), PSA_SUCCESS);
    Bytes multi(pt.size() + 32);
    std::size_t done = 0;
    for (std::size_t i = 0; i < pt.size(); i += 7) {
      const std::size_t n = std::min<std::size_t>(7, pt.size() - i);
      ASSERT_EQ(psa_aead_update(&op, pt.data() + i, n, multi.data() + done, multi.size() - done, &olen), PSA_SUCCESS);
      done += olen;
    }
    Bytes multi_tag(16);
    std::size_t tag_len = 0;
    ASSERT_EQ(psa_aead_finish(&op, multi.data() + done, multi.size() - done, &olen, multi_tag.data(),
                              multi_tag.size(), &tag_len),
              PSA_SUCCESS);
    done += olen;
    multi.resize(done);
    EXPECT_EQ(multi, Hex(v.ciphertext));
    EXPECT_EQ(multi_tag, tag);
    psa_destroy_key(id);
  }
}

// The vector with the most of everything (AD, 60 bytes of input, a 96-bit IV).
const Vector& Rich() { return kVectors[3]; }

TEST(GcmEdges, WrongTagFailsAndWipesThePlaintext) {
  const Vector& v = Rich();
  ASSERT_EQ(v.number, 4);
  Gcm gcm(v);
  const Bytes iv = Hex(v.iv), ad = Hex(v.ad), ct = Hex(v.ciphertext), good = Hex(v.tag);
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    Bytes tag = good;
    tag[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    Bytes out(ct.size(), 0xee);
    ASSERT_EQ(mbedtls_gcm_auth_decrypt(gcm.get(), ct.size(), iv.data(), iv.size(), ad.data(), ad.size(), tag.data(),
                                       tag.size(), ct.data(), out.data()),
              MBEDTLS_ERR_GCM_AUTH_FAILED)
        << "bit " << bit;
    EXPECT_EQ(out, Bytes(ct.size(), 0)) << "unauthenticated plaintext was left in the output";
  }
  // A changed ciphertext, AD or IV fails the same way.
  Bytes bad_ct = ct, bad_ad = ad, bad_iv = iv, out(ct.size());
  bad_ct[59] ^= 1;
  bad_ad[0] ^= 0x80;
  bad_iv[11] ^= 1;
  EXPECT_EQ(mbedtls_gcm_auth_decrypt(gcm.get(), ct.size(), iv.data(), iv.size(), ad.data(), ad.size(), good.data(),
                                     good.size(), bad_ct.data(), out.data()),
            MBEDTLS_ERR_GCM_AUTH_FAILED);
  EXPECT_EQ(mbedtls_gcm_auth_decrypt(gcm.get(), ct.size(), iv.data(), iv.size(), bad_ad.data(), bad_ad.size(),
                                     good.data(), good.size(), ct.data(), out.data()),
            MBEDTLS_ERR_GCM_AUTH_FAILED);
  EXPECT_EQ(mbedtls_gcm_auth_decrypt(gcm.get(), ct.size(), bad_iv.data(), bad_iv.size(), ad.data(), ad.size(),
                                     good.data(), good.size(), ct.data(), out.data()),
            MBEDTLS_ERR_GCM_AUTH_FAILED);
}

TEST(GcmEdges, TagLengthsFourToSixteen) {
  const Vector& v = Rich();
  Gcm gcm(v);
  const Bytes iv = Hex(v.iv), ad = Hex(v.ad), pt = Hex(v.plaintext), ct = Hex(v.ciphertext), full = Hex(v.tag);
  for (std::size_t len = 4; len <= 16; ++len) {
    SCOPED_TRACE("tag length " + std::to_string(len));
    Bytes out(pt.size()), tag(len);
    ASSERT_EQ(mbedtls_gcm_crypt_and_tag(gcm.get(), MBEDTLS_GCM_ENCRYPT, pt.size(), iv.data(), iv.size(), ad.data(),
                                        ad.size(), pt.data(), out.data(), len, tag.data()),
              0);
    EXPECT_EQ(tag, Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len)));  // a prefix of the tag
    ASSERT_EQ(mbedtls_gcm_auth_decrypt(gcm.get(), ct.size(), iv.data(), iv.size(), ad.data(), ad.size(), tag.data(),
                                       len, ct.data(), out.data()),
              0);
    EXPECT_EQ(out, pt);
  }
  // 0..3 and 17 bytes are refused, before any output is written.
  for (std::size_t len : {0, 1, 3, 17}) {
    SCOPED_TRACE("tag length " + std::to_string(len));
    Bytes out(pt.size(), 0xee), tag(32);
    EXPECT_EQ(mbedtls_gcm_crypt_and_tag(gcm.get(), MBEDTLS_GCM_ENCRYPT, pt.size(), iv.data(), iv.size(), ad.data(),
                                        ad.size(), pt.data(), out.data(), len, tag.data()),
              MBEDTLS_ERR_GCM_BAD_INPUT);
    out.assign(pt.size(), 0xee);
    EXPECT_EQ(mbedtls_gcm_auth_decrypt(gcm.get(), ct.size(), iv.data(), iv.size(), ad.data(), ad.size(), full.data(),
                                       len, ct.data(), out.data()),
              MBEDTLS_ERR_GCM_BAD_INPUT);
    EXPECT_EQ(out, Bytes(pt.size(), 0xee)) << "plaintext was written before the tag length was checked";
  }
}

TEST(GcmEdges, RefusedArguments) {
  const Vector& v = Rich();
  Gcm gcm(v);
  mbedtls_gcm_context* ctx = gcm.get();
  const Bytes iv = Hex(v.iv), key = Hex(v.key);
  unsigned char buf[64] = {};
  std::size_t olen = 0;
  EXPECT_EQ(mbedtls_gcm_setkey(ctx, MBEDTLS_CIPHER_ID_AES, key.data(), 64), MBEDTLS_ERR_GCM_BAD_INPUT);
  EXPECT_EQ(mbedtls_gcm_setkey(ctx, MBEDTLS_CIPHER_ID_DES, key.data(), 128), MBEDTLS_ERR_GCM_BAD_INPUT);
  ASSERT_EQ(mbedtls_gcm_setkey(ctx, MBEDTLS_CIPHER_ID_AES, key.data(), 128), 0);
  EXPECT_EQ(mbedtls_gcm_starts(ctx, MBEDTLS_GCM_ENCRYPT, iv.data(), 0), MBEDTLS_ERR_GCM_BAD_INPUT);
  ASSERT_EQ(mbedtls_gcm_starts(ctx, MBEDTLS_GCM_ENCRYPT, iv.data(), iv.size()), 0);
  EXPECT_EQ(mbedtls_gcm_update(ctx, buf, 16, buf + 32, 15, &olen), MBEDTLS_ERR_GCM_BUFFER_TOO_SMALL);
  EXPECT_EQ(mbedtls_gcm_update(ctx, buf, 32, buf + 8, 32, &olen), MBEDTLS_ERR_GCM_BAD_INPUT);  // output overlaps
  ASSERT_EQ(mbedtls_gcm_update(ctx, buf, 5, buf + 32, 5, &olen), 0);
  EXPECT_EQ(olen, 5u);
  // AD after input: mbedTLS's own gcm.c would accept it and compute a wrong tag.
  EXPECT_EQ(mbedtls_gcm_update_ad(ctx, buf, 1), MBEDTLS_ERR_GCM_BAD_INPUT);
  EXPECT_EQ(mbedtls_gcm_finish(ctx, nullptr, 0, &olen, buf, 3), MBEDTLS_ERR_GCM_BAD_INPUT);
  EXPECT_EQ(mbedtls_gcm_finish(ctx, nullptr, 0, &olen, buf, 16), 0);
  EXPECT_EQ(olen, 0u);
}

// IV lengths other than 96 bits go through GHASH (spec test cases 5, 6 use 64
// and 480 bits); lengths between and beyond must still round-trip and differ.
TEST(GcmEdges, AnyIvLengthRoundTrips) {
  const Vector& v = Rich();
  Gcm gcm(v);
  const Bytes pt = Hex(v.plaintext);
  Bytes previous;
  for (std::size_t iv_len : {1, 11, 13, 16, 17, 64, 200}) {
    SCOPED_TRACE("IV length " + std::to_string(iv_len));
    Bytes iv(iv_len, 0x5a), ct(pt.size()), tag(16), back(pt.size());
    ASSERT_EQ(mbedtls_gcm_crypt_and_tag(gcm.get(), MBEDTLS_GCM_ENCRYPT, pt.size(), iv.data(), iv.size(), nullptr, 0,
                                        pt.data(), ct.data(), tag.size(), tag.data()),
              0);
    EXPECT_NE(ct, previous);
    previous = ct;
    ASSERT_EQ(mbedtls_gcm_auth_decrypt(gcm.get(), ct.size(), iv.data(), iv.size(), nullptr, 0, tag.data(), tag.size(),
                                       ct.data(), back.data()),
              0);
    EXPECT_EQ(back, pt);
  }
}

// Messages of many blocks, with known answers from OpenSSL's EVP AES-GCM (an
// independent implementation): key 00 01 .. (16, 24 or 32 bytes), IV 10 11 .. 1b,
// AD 20 21 .. 2c (a TLS 1.3 record header's length), 4099 bytes of plaintext
// (byte i = 7i + 3): 32 runs of eight blocks and a partial block. Fed whole and in
// pieces that split the eight-block runs.
TEST(GcmLong, KnownAnswersFromOpenssl) {
  struct Answer {
    unsigned keybits;
    const char* tag;
    const char* ciphertext_sha256;
  };
  const Answer answers[] = {
      {128, "c507a897e38bf7979c66fb328079d0f3", "a29148b3a99b4ecdbe0ccefbba092244f01a2cdae80d7361752287098eb070a4"},
      {192, "ca839888aced6a024284f43238f6502b", "e1e6eef23564e9da537bc385f04055ea6c7966dd5ce8cf803f3a348c42f9b4a0"},
      {256, "73bc73a432c13f4c19fcb1e8a164e1f0", "edd2a92c777a952d6c40d9209e9f2bb33416d8a7443c6cf710c1fcae5226b1de"},
  };
  Bytes key(32), iv(12), ad(13), pt(4099);
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(i);
  for (std::size_t i = 0; i < iv.size(); ++i) iv[i] = static_cast<unsigned char>(0x10 + i);
  for (std::size_t i = 0; i < ad.size(); ++i) ad[i] = static_cast<unsigned char>(0x20 + i);
  for (std::size_t i = 0; i < pt.size(); ++i) pt[i] = static_cast<unsigned char>(i * 7 + 3);
  for (const Answer& a : answers) {
    for (std::size_t chunk :
         {std::size_t{4099}, std::size_t{1}, std::size_t{100}, std::size_t{129}, std::size_t{1024}}) {
      SCOPED_TRACE("AES-" + std::to_string(a.keybits) + ", pieces of " + std::to_string(chunk));
      mbedtls_gcm_context ctx;
      mbedtls_gcm_init(&ctx);
      ASSERT_EQ(mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, key.data(), a.keybits), 0);
      Bytes ct, tag(16), back;
      ASSERT_EQ(Stream(&ctx, MBEDTLS_GCM_ENCRYPT, iv, ad, pt, chunk, ct, tag), 0);
      EXPECT_EQ(tag, Hex(a.tag));
      Bytes digest(32);
      ASSERT_EQ(mbedtls_sha256(ct.data(), ct.size(), digest.data(), 0), 0);
      EXPECT_EQ(digest, Hex(a.ciphertext_sha256));
      ASSERT_EQ(Stream(&ctx, MBEDTLS_GCM_DECRYPT, iv, ad, ct, chunk, back, tag), 0);
      EXPECT_EQ(back, pt);
      EXPECT_EQ(tag, Hex(a.tag));
      mbedtls_gcm_free(&ctx);
    }
  }
}

// Nettle's GCM (gcm_aes128/192/256) as the reference for every length from 0 to
// 300 bytes and TLS-sized records, AD of 0 to 40 bytes, all key sizes, in place.
struct NettleGcm {
  explicit NettleGcm(const Bytes& key) : bits(key.size() * 8) {
    if (bits == 128) gcm_aes128_set_key(&c128, key.data());
    if (bits == 192) gcm_aes192_set_key(&c192, key.data());
    if (bits == 256) gcm_aes256_set_key(&c256, key.data());
  }
  void Encrypt(const Bytes& iv, const Bytes& ad, const Bytes& pt, Bytes& ct, Bytes& tag) {
    ct.resize(pt.size());
    tag.resize(16);
#define BOOTRINO_NETTLE_GCM(n)                                          \
  gcm_aes##n##_set_iv(&c##n, iv.size(), iv.data());                     \
  gcm_aes##n##_update(&c##n, ad.size(), ad.data());                     \
  gcm_aes##n##_encrypt(&c##n, pt.size(), ct.data(), pt.data());         \
  gcm_aes##n##_digest(&c##n, tag.size(), tag.data());
    if (bits == 128) { BOOTRINO_NETTLE_GCM(128) }
    if (bits == 192) { BOOTRINO_NETTLE_GCM(192) }
    if (bits == 256) { BOOTRINO_NETTLE_GCM(256) }
#undef BOOTRINO_NETTLE_GCM
  }
  std::size_t bits;
  gcm_aes128_ctx c128;
  gcm_aes192_ctx c192;
  gcm_aes256_ctx c256;
};

TEST(GcmLong, EqualsNettleForEveryLength) {
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (std::size_t n : {1023, 1024, 1025, 16384, 16384 + 17}) lengths.push_back(n);
  unsigned seed = 1;
  auto next = [&seed] { return static_cast<unsigned char>((seed = seed * 1103515245u + 12345u) >> 16); };
  for (std::size_t keybytes : {16, 24, 32}) {
    Bytes key(keybytes);
    for (auto& b : key) b = next();
    mbedtls_gcm_context ctx;
    mbedtls_gcm_init(&ctx);
    ASSERT_EQ(mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, key.data(), static_cast<unsigned>(keybytes * 8)), 0);
    NettleGcm nettle(key);
    for (std::size_t n : lengths) {
      SCOPED_TRACE("AES-" + std::to_string(keybytes * 8) + ", " + std::to_string(n) + " bytes");
      Bytes iv(n % 7 == 0 ? 16 : 12), ad(n % 41), pt(n), want, want_tag, got_tag(16);
      for (auto* v : {&iv, &ad, &pt})
        for (auto& b : *v) b = next();
      nettle.Encrypt(iv, ad, pt, want, want_tag);
      Bytes buf = pt;
      ASSERT_EQ(mbedtls_gcm_crypt_and_tag(&ctx, MBEDTLS_GCM_ENCRYPT, n, iv.data(), iv.size(), ad.data(), ad.size(),
                                          buf.data(), buf.data(), got_tag.size(), got_tag.data()),
                0);
      ASSERT_EQ(buf, want);
      ASSERT_EQ(got_tag, want_tag);
      ASSERT_EQ(mbedtls_gcm_auth_decrypt(&ctx, n, iv.data(), iv.size(), ad.data(), ad.size(), want_tag.data(), 16,
                                         buf.data(), buf.data()),
                0);
      ASSERT_EQ(buf, pt);
    }
    mbedtls_gcm_free(&ctx);
  }
}

// Which code runs AES-GCM: printed for tests/unit/gcm_masked.sh, and checked here
// against the CPU when no mask is set, so that a build that falls back to slower
// code than the CPU allows fails.
TEST(GcmImplementation, TheFastestTheCpuOffers) {
  mbedtls_gcm_context ctx;
  mbedtls_gcm_init(&ctx);
  const unsigned char key[16] = {};
  ASSERT_EQ(mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, key, 128), 0);
  const std::string implementation = bootrino_gcm_implementation(&ctx);
  mbedtls_gcm_free(&ctx);
  std::printf("gcm implementation: %s\n", implementation.c_str());
  if (std::getenv("NETTLE_FAT_OVERRIDE") != nullptr) return;  // gcm_masked.sh checks what it asked for
#if defined(__x86_64__)
  // The CPU's features as the kernel reports them (it leaves out AVX where it does not save the registers), read
  // apart from gcm_x86.c's own CPUID checks.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line) && !line.starts_with("flags")) {
  }
  std::set<std::string> flags;
  std::istringstream words(line);
  for (std::string word; words >> word;) flags.insert(word);
  ASSERT_TRUE(flags.contains("sse2")) << "no flags line in /proc/cpuinfo";
  if (flags.contains("aes") && flags.contains("pclmulqdq") && flags.contains("sse4_1")) {
    const bool wide = flags.contains("avx2") && flags.contains("vaes") && flags.contains("vpclmulqdq");
    EXPECT_EQ(implementation, wide ? "x86 VAES+VPCLMULQDQ" : "x86 AES-NI+PCLMULQDQ");
    return;
  }
#endif
  EXPECT_EQ(implementation, "nettle");
}

#if defined(__x86_64__)
// GCM's counter is the IV's last 32 bits and wraps to 0 without carrying into the
// rest: started three blocks before the wrap, eight-block runs and single blocks
// cross it. gcm_x86.c keeps its state in Nettle's struct gcm_ctx with the same
// meaning of the counter block, so both start from the same one.
TEST(GcmX86, CounterWrapsAt32BitsAsNettles) {
  if (!bootrino_gcm_x86_usable()) GTEST_SKIP() << "this CPU (or NETTLE_FAT_OVERRIDE) does not allow gcm_x86.c";
  for (std::size_t n : {16, 48, 64, 128, 200, 1024}) {
    SCOPED_TRACE(std::to_string(n) + " bytes");
    Bytes key(16, 0x42), iv(12, 0x24), pt(n), want(n), got(n), want_tag(16), got_tag(16);
    for (std::size_t i = 0; i < n; ++i) pt[i] = static_cast<unsigned char>(i);
    aes128_ctx aes;
    aes128_set_encrypt_key(&aes, key.data());
    gcm_key nettle_key;
    gcm_set_key(&nettle_key, &aes, reinterpret_cast<nettle_cipher_func*>(aes128_encrypt));
    bootrino_gcm_x86_key x86_key;
    bootrino_gcm_x86_set_key(&x86_key, aes.keys, 10);
    gcm_ctx nettle_state, x86_state;
    gcm_set_iv(&nettle_state, &nettle_key, iv.size(), iv.data());
    bootrino_gcm_x86_set_iv(&x86_state, &x86_key, iv.size(), iv.data());
    for (gcm_ctx* state : {&nettle_state, &x86_state}) std::memcpy(state->ctr.b + 12, "\xff\xff\xff\xfd", 4);
    gcm_encrypt(&nettle_state, &nettle_key, &aes, reinterpret_cast<nettle_cipher_func*>(aes128_encrypt), n,
                want.data(), pt.data());
    bootrino_gcm_x86_crypt(&x86_state, &x86_key, aes.keys, 1, n, got.data(), pt.data());
    EXPECT_EQ(got, want);
    gcm_digest(&nettle_state, &nettle_key, &aes, reinterpret_cast<nettle_cipher_func*>(aes128_encrypt), 16,
               want_tag.data());
    bootrino_gcm_x86_digest(&x86_state, &x86_key, aes.keys, 16, got_tag.data());
    EXPECT_EQ(got_tag, want_tag);
    EXPECT_EQ(std::memcmp(x86_state.ctr.b, nettle_state.ctr.b, 16), 0);
  }
}
#endif

}  // namespace

// mbedTLS's AES-GCM as bootrino builds it (packaging/deps/gcm_alt.c: gcm_x86.c on
// x86_64 CPUs with AES-NI and PCLMULQDQ, Nettle elsewhere) against OpenSSL's EVP
// AES-GCM, an independent implementation: every TLS record bootrino sends or
// receives with AES-GCM goes through this code.
// Input: a control byte (key size, tag length, and on x86 whether to use the
// 128-bit code where the CPU has the 256-bit one), a chunk-size byte, an IV
// length byte, then key, IV, AD length byte, AD, and the rest as plaintext.
// Checks: ciphertext and tag equal OpenSSL's; decryption gives the plaintext
// back; streaming in chunks gives the one-shot result; a changed tag, byte of
// ciphertext or of AD fails with MBEDTLS_ERR_GCM_AUTH_FAILED.
#include <openssl/evp.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <mbedtls/gcm.h>

#include "tests/fuzz/fuzz_check.h"

namespace {

using Bytes = std::vector<unsigned char>;

struct Reader {
  const std::uint8_t* data;
  std::size_t size;
  std::uint8_t Byte() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  Bytes Take(std::size_t n) {
    n = std::min(n, size);
    Bytes out(data, data + n);
    data += n;
    size -= n;
    return out;
  }
};

// OpenSSL's encryption of the same message; false if OpenSSL refuses it.
bool OpensslEncrypt(const Bytes& key, const Bytes& iv, const Bytes& ad, const Bytes& pt, std::size_t tag_len, Bytes& ct,
                    Bytes& tag) {
  const EVP_CIPHER* cipher = key.size() == 16 ? EVP_aes_128_gcm() : key.size() == 24 ? EVP_aes_192_gcm()
                                                                                       : EVP_aes_256_gcm();
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  FUZZ_REQUIRE(c != nullptr);
  int len = 0;
  ct.assign(pt.size(), 0);
  tag.assign(tag_len, 0);
  const bool ok =
      EVP_EncryptInit_ex(c, cipher, nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr) == 1 &&
      EVP_EncryptInit_ex(c, nullptr, nullptr, key.data(), iv.data()) == 1 &&
      (ad.empty() || EVP_EncryptUpdate(c, nullptr, &len, ad.data(), static_cast<int>(ad.size())) == 1) &&
      (pt.empty() || EVP_EncryptUpdate(c, ct.data(), &len, pt.data(), static_cast<int>(pt.size())) == 1) &&
      EVP_EncryptFinal_ex(c, ct.data() + pt.size(), &len) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_len), tag.data()) == 1;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

void Stream(mbedtls_gcm_context* ctx, const Bytes& iv, const Bytes& ad, const Bytes& pt, std::size_t chunk, Bytes& ct,
            Bytes& tag) {
  ct.assign(pt.size(), 0);
  FUZZ_REQUIRE(mbedtls_gcm_starts(ctx, MBEDTLS_GCM_ENCRYPT, iv.data(), iv.size()) == 0);
  for (std::size_t i = 0; i < ad.size(); i += chunk) {
    FUZZ_REQUIRE(mbedtls_gcm_update_ad(ctx, ad.data() + i, std::min(chunk, ad.size() - i)) == 0);
  }
  for (std::size_t i = 0; i < pt.size(); i += chunk) {
    const std::size_t n = std::min(chunk, pt.size() - i);
    std::size_t olen = 0;
    FUZZ_REQUIRE(mbedtls_gcm_update(ctx, pt.data() + i, n, ct.data() + i, n, &olen) == 0 && olen == n);
  }
  std::size_t olen = 1;
  FUZZ_REQUIRE(mbedtls_gcm_finish(ctx, nullptr, 0, &olen, tag.data(), tag.size()) == 0 && olen == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader in{data, size};
  const std::uint8_t control = in.Byte();
  const std::size_t key_len = 16 + 8 * (control % 3);
  const std::size_t tag_len = 4 + (control / 3) % 13;  // 4..16
  const std::uint8_t chunk_byte = in.Byte();  // pieces of 1..40 bytes, or 160..1680: whole runs of eight blocks
  const std::size_t chunk = chunk_byte < 160 ? 1 + chunk_byte % 40 : 16 * static_cast<std::size_t>(chunk_byte - 150);
  const std::size_t iv_len = 1 + in.Byte() % 64;
  const Bytes key = in.Take(key_len);
  const Bytes iv = in.Take(iv_len);
  const Bytes ad = in.Take(in.Byte());
  const Bytes pt = in.Take(in.size);
  if (key.size() != key_len || iv.size() != iv_len) return 0;

  Bytes want_ct, want_tag;
  FUZZ_REQUIRE(OpensslEncrypt(key, iv, ad, pt, tag_len, want_ct, want_tag));

  mbedtls_gcm_context ctx;
  mbedtls_gcm_init(&ctx);
  FUZZ_REQUIRE(mbedtls_gcm_setkey(&ctx, MBEDTLS_CIPHER_ID_AES, key.data(), static_cast<unsigned>(key_len * 8)) == 0);
  if ((control / 39) % 2 == 1) {  // gcm_x86.c's 128-bit code on a CPU that has the 256-bit one too
    ctx.MBEDTLS_PRIVATE(x86).wide = 0;
  }
  Bytes ct(pt.size()), tag(tag_len);
  FUZZ_REQUIRE(mbedtls_gcm_crypt_and_tag(&ctx, MBEDTLS_GCM_ENCRYPT, pt.size(), iv.data(), iv.size(), ad.data(),
                                         ad.size(), pt.data(), ct.data(), tag_len, tag.data()) == 0);
  FUZZ_REQUIRE(ct == want_ct);
  FUZZ_REQUIRE(tag == want_tag);

  Bytes streamed_ct, streamed_tag(tag_len);
  Stream(&ctx, iv, ad, pt, chunk, streamed_ct, streamed_tag);
  FUZZ_REQUIRE(streamed_ct == want_ct && streamed_tag == want_tag);

  Bytes back(pt.size());
  FUZZ_REQUIRE(mbedtls_gcm_auth_decrypt(&ctx, ct.size(), iv.data(), iv.size(), ad.data(), ad.size(), tag.data(),
                                        tag_len, ct.data(), back.data()) == 0);
  FUZZ_REQUIRE(back == pt);

  // Tampering, at a position the input chooses: the tag, the ciphertext, the AD.
  Bytes bad_tag = tag;
  bad_tag[control % tag_len] ^= static_cast<unsigned char>(1u << (control % 8));
  FUZZ_REQUIRE(mbedtls_gcm_auth_decrypt(&ctx, ct.size(), iv.data(), iv.size(), ad.data(), ad.size(), bad_tag.data(),
                                        tag_len, ct.data(), back.data()) == MBEDTLS_ERR_GCM_AUTH_FAILED);
  FUZZ_REQUIRE(std::all_of(back.begin(), back.end(), [](unsigned char b) { return b == 0; }));
  if (!ct.empty()) {
    Bytes bad_ct = ct;
    bad_ct[chunk % ct.size()] ^= 0x01;
    FUZZ_REQUIRE(mbedtls_gcm_auth_decrypt(&ctx, ct.size(), iv.data(), iv.size(), ad.data(), ad.size(), tag.data(),
                                          tag_len, bad_ct.data(), back.data()) == MBEDTLS_ERR_GCM_AUTH_FAILED);
  }
  if (!ad.empty()) {
    Bytes bad_ad = ad;
    bad_ad[chunk % ad.size()] ^= 0x80;
    FUZZ_REQUIRE(mbedtls_gcm_auth_decrypt(&ctx, ct.size(), iv.data(), iv.size(), bad_ad.data(), bad_ad.size(),
                                          tag.data(), tag_len, ct.data(), back.data()) == MBEDTLS_ERR_GCM_AUTH_FAILED);
  }
  mbedtls_gcm_free(&ctx);
  return 0;
}

#include "fetch/signature.h"

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <psa/crypto.h>

#include "base/base.h"
#include "fetch/sha256.h"

namespace fetch {
namespace {

using base::ErrorKind;

constexpr const char* kHowToMakeKey =
    "a trusted key is an EC P-256 public key in PEM form: openssl ecparam -name prime256v1 -genkey "
    "-noout -out key.pem && openssl ec -in key.pem -pubout -out key.pub.pem; pass key.pub.pem";

}  // namespace

struct TrustedKey::Pk {
  Pk() { mbedtls_pk_init(&ctx); }
  ~Pk() { mbedtls_pk_free(&ctx); }
  Pk(const Pk&) = delete;
  Pk& operator=(const Pk&) = delete;
  mbedtls_pk_context ctx;
};

TrustedKey::TrustedKey(std::unique_ptr<Pk> pk, std::string origin) : pk_(std::move(pk)), origin_(std::move(origin)) {}
TrustedKey::TrustedKey(TrustedKey&&) noexcept = default;
TrustedKey& TrustedKey::operator=(TrustedKey&&) noexcept = default;
TrustedKey::~TrustedKey() = default;

base::Result<TrustedKey> TrustedKey::Parse(std::string_view key_bytes, std::string origin) {
  auto bad = [&](const std::string& why) {
    return base::Fail(base::Error(ErrorKind::kUsage, "trusted key " + origin + ": " + why).Hint(kHowToMakeKey));
  };
  if (key_bytes.find("PRIVATE KEY") != std::string_view::npos) {
    return bad("this is a private key; give bootrino only the public half and keep the private key off the host");
  }
  // mbedTLS wants PEM input NUL-terminated, with the NUL counted in the length.
  std::string buffer(key_bytes);
  bool pem = buffer.find("-----BEGIN") != std::string::npos;
  // mbedTLS reads the first PEM block and ignores the rest: a file of several
  // keys would trust one of them silently. One key, one --trust.
  if (pem && buffer.find("-----BEGIN", buffer.find("-----BEGIN") + 1) != std::string::npos) {
    return base::Fail(base::Error(ErrorKind::kUsage, "trusted key " + origin +
                                                         ": holds more than one PEM block; bootrino takes one key "
                                                         "per file")
                          .Hint("split the keys into one file each and pass --trust once per key"));
  }
  auto pk = std::make_unique<Pk>();
  int rc = mbedtls_pk_parse_public_key(&pk->ctx, reinterpret_cast<const unsigned char*>(buffer.c_str()),
                                       buffer.size() + (pem ? 1 : 0));
  if (rc != 0) return bad("not a PEM or DER public key (mbedtls_pk_parse_public_key = -0x" + [rc] {
    char hex[16];
    snprintf(hex, sizeof hex, "%04x", -rc);
    return std::string(hex);
  }() + ")");
  if (!mbedtls_pk_can_do(&pk->ctx, MBEDTLS_PK_ECDSA) || mbedtls_pk_get_bitlen(&pk->ctx) != 256 ||
      mbedtls_ecp_keypair_get_group_id(mbedtls_pk_ec(pk->ctx)) != MBEDTLS_ECP_DP_SECP256R1) {
    return bad("only EC P-256 (prime256v1) keys are accepted");
  }
  return TrustedKey(std::move(pk), std::move(origin));
}

base::Result<TrustedKey> TrustedKey::Load(const std::string& path) {
  // Read no more than a key can be: --trust /dev/zero, or a disk image named by
  // mistake, must not fill memory before the check.
  auto bytes = base::ReadFile(path, kMaxKeyFileBytes);
  if (!bytes && bytes.error().sys_errno() == 0) {
    return base::Fail(base::Error(ErrorKind::kUsage, "trusted key " + path + ": larger than " +
                                                         std::to_string(kMaxKeyFileBytes / 1024) +
                                                         " KiB; a public key in PEM is a few hundred bytes")
                          .Hint("pass the public key file itself (" + std::string(kHowToMakeKey) + ")"));
  }
  if (!bytes) {
    return base::Fail(base::Error(ErrorKind::kUsage, "trusted key " + path + ": cannot be read: " +
                                                         bytes.error().message())
                          .Hint(kHowToMakeKey));
  }
  return Parse(*bytes, path);
}

bool IsStrictDerSignature(std::string_view signature) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(signature[i]); };
  const std::size_t n = signature.size();
  // SEQUENCE { INTEGER r, INTEGER s }: at most 2 + 2 * (2 + 33) = 72 bytes, so
  // every length fits the short form, and DER requires the short form then.
  if (n < 8 || n > 72 || byte(0) != 0x30 || byte(1) != n - 2) return false;
  std::size_t pos = 2;
  for (int i = 0; i < 2; ++i) {
    if (pos + 2 > n || byte(pos) != 0x02) return false;
    const std::size_t len = byte(pos + 1);
    pos += 2;
    // 1 to 33 bytes (a P-256 value plus one zero that keeps it positive).
    if (len < 1 || len > 33 || pos + len > n) return false;
    if (byte(pos) & 0x80) return false;  // negative: r and s are positive
    // A leading zero only where the next byte's top bit would make it negative.
    if (byte(pos) == 0x00 && (len == 1 || !(byte(pos + 1) & 0x80))) return false;
    pos += len;
  }
  return pos == n;  // nothing after the second INTEGER
}

bool TrustedKey::Verifies(std::string_view data, std::string_view signature) const {
  // mbedTLS's parser also takes long-form lengths, extra leading zeros and
  // negative integers; openssl never writes them, so neither do we accept them:
  // one signature has one encoding.
  if (!IsStrictDerSignature(signature)) return false;
  Sha256 hasher;
  hasher.Update(data);
  Sha256Digest digest = hasher.Final();
  return mbedtls_pk_verify(&pk_->ctx, MBEDTLS_MD_SHA256, digest.data(), digest.size(),
                           reinterpret_cast<const unsigned char*>(signature.data()), signature.size()) == 0;
}

base::Result<const TrustedKey*> VerifySignature(std::string_view data, std::string_view signature,
                                                const std::vector<TrustedKey>& keys) {
  // ECDSA verification through the PK layer may dispatch to PSA; psa_crypto_init is idempotent.
  if (psa_crypto_init() != PSA_SUCCESS) return base::Fail(ErrorKind::kInternal, "psa_crypto_init failed");
  if (!IsStrictDerSignature(signature)) {
    return base::Fail(base::Error(ErrorKind::kVerification,
                                  "the signature is not an ECDSA signature in strict DER as openssl writes it (" +
                                      std::to_string(signature.size()) + " bytes)")
                          .Hint("sign with openssl dgst -sha256 -sign KEY.pem -out bootrino.sh.sig bootrino.sh "
                                "and publish that file unchanged (binary, not base64 or hex)"));
  }
  std::string tried;
  for (const TrustedKey& key : keys) {
    if (key.Verifies(data, signature)) return &key;
    tried += (tried.empty() ? "" : ", ") + key.origin();
  }
  return base::Fail(base::Error(ErrorKind::kVerification, "the signature does not verify with any trusted key (tried: " +
                                                              tried + ")")
                        .Hint("the manifest or its .sig was changed after signing, or it was signed with a "
                              "key you do not trust; re-sign with openssl dgst -sha256 -sign KEY.pem -out "
                              "bootrino.sh.sig bootrino.sh, or pass the right --trust key"));
}

}  // namespace fetch

#include "fetch/signature.h"

#include <fstream>
#include <sstream>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <psa/crypto.h>

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
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return base::Fail(base::Error(ErrorKind::kUsage, "trusted key " + path + ": cannot be read").Hint(kHowToMakeKey));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > 64 * 1024) return base::Fail(ErrorKind::kUsage, "trusted key " + path + ": too large for a public key");
  return Parse(ss.str(), path);
}

bool TrustedKey::Verifies(std::string_view data, std::string_view signature) const {
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

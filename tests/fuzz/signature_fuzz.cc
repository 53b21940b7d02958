// fetch::VerifySignature on a hostile bootrino.sh.sig (the mirror serves it,
// so anyone who controls the mirror writes it) against a fixed trusted key.
// Input: a 2-byte little-endian signature length, the signature (DER ECDSA),
// then the signed bytes. The seeds hold real openssl signatures.
#include <algorithm>

#include "fetch/signature.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The public half of a key made for these seeds only; its private half was not kept.
constexpr std::string_view kPublicKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEYYAIyzo4wHVU3xFJHRV9aznUfuh\n"
    "az3apilguNA65YN0qAqDKBNK+DeT989dg3cW76v8mRV2P9xBSQYlQzNWxg==\n"
    "-----END PUBLIC KEY-----\n";

const std::vector<fetch::TrustedKey>& Keys() {
  static const std::vector<fetch::TrustedKey>* keys = [] {
    auto key = fetch::TrustedKey::Parse(kPublicKey, "fuzz.pub.pem");
    FUZZ_REQUIRE(key);
    auto* v = new std::vector<fetch::TrustedKey>;
    v->push_back(std::move(*key));
    return v;
  }();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t sig_len = std::min<std::size_t>(data[0] | (data[1] << 8), size - 2);
  std::string_view signature = AsText(data + 2, sig_len);
  std::string_view signed_bytes = AsText(data + 2 + sig_len, size - 2 - sig_len);
  auto key = fetch::VerifySignature(signed_bytes, signature, Keys());
  if (!key) FUZZ_REQUIRE(key.error().kind() == base::ErrorKind::kVerification);
  return 0;
}

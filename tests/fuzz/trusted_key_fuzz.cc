// fetch::TrustedKey::Parse: a --trust KEYFILE, PEM or DER, as a user copied
// it from wherever the OS's publisher put it. mbedTLS parses it; bootrino
// must then accept only EC P-256 public keys.
#include "fetch/signature.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto key = fetch::TrustedKey::Parse(AsText(data, size), "fuzz.pem");
  if (Refused(key, base::ErrorKind::kUsage)) return 0;
  FUZZ_REQUIRE(AsText(data, size).find("PRIVATE KEY") == std::string_view::npos);
  // A parsed key must verify nothing that is not a signature.
  std::vector<fetch::TrustedKey> keys;
  keys.push_back(std::move(*key));
  FUZZ_REQUIRE(!fetch::VerifySignature("bootrino.sh", "", keys));
  FUZZ_REQUIRE(!fetch::VerifySignature("bootrino.sh", AsText(data, size), keys));
  return 0;
}

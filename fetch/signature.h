// Detached manifest signatures: ECDSA P-256 over SHA-256 in DER form, exactly
// what `openssl dgst -sha256 -sign key.pem -out bootrino.sh.sig bootrino.sh`
// writes. Verified in-process with mbedTLS.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"

namespace fetch {

/// The largest --trust file read: a P-256 public key in PEM is about 180 bytes.
inline constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

/// A public key the user trusts to sign manifests (`--trust KEYFILE`).
class TrustedKey {
 public:
  /// Parses a PEM or DER public key (`openssl ec -in key.pem -pubout`). Only
  /// EC P-256 keys are accepted, one per file (several PEM blocks are refused).
  /// `origin` names the key in messages.
  [[nodiscard]] static base::Result<TrustedKey> Parse(std::string_view key_bytes, std::string origin);
  /// Reads (at most kMaxKeyFileBytes) and parses a key file; errors are kUsage
  /// and say how to make one.
  [[nodiscard]] static base::Result<TrustedKey> Load(const std::string& path);

  TrustedKey(TrustedKey&&) noexcept;
  TrustedKey& operator=(TrustedKey&&) noexcept;
  ~TrustedKey();

  const std::string& origin() const { return origin_; }
  /// True when `signature` is a valid signature of `data` by this key.
  bool Verifies(std::string_view data, std::string_view signature) const;

 private:
  struct Pk;
  TrustedKey(std::unique_ptr<Pk> pk, std::string origin);
  std::unique_ptr<Pk> pk_;
  std::string origin_;
};

/// True when `signature` is an ECDSA signature in strict DER, byte for byte
/// what openssl writes: a SEQUENCE of two minimal positive INTEGERs, short-form
/// lengths, nothing after it. Anything else is refused before verification.
bool IsStrictDerSignature(std::string_view signature);

/// Succeeds when any of `keys` verifies `signature` over `data`; otherwise a
/// kVerification error naming every key tried.
[[nodiscard]] base::Result<const TrustedKey*> VerifySignature(std::string_view data, std::string_view signature,
                                                              const std::vector<TrustedKey>& keys);

}  // namespace fetch

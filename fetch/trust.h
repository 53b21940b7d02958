// Fetching a manifest and deciding whether to believe it: pinned by hash,
// signed by a trusted key, or (only with --insecure) neither.
#pragma once

#include <string>
#include <vector>

#include "base/base.h"
#include "fetch/manifest.h"
#include "fetch/reference.h"
#include "fetch/signature.h"
#include "fetch/transfer.h"

namespace fetch {

/// What the user gave bootrino to verify a manifest with.
struct TrustConfig {
  std::vector<TrustedKey> keys;  ///< --trust; when non-empty a valid .sig is required
  bool insecure = false;         ///< --insecure: accept a manifest nothing vouches for
};

/// Fails before any network access when `ref` can be verified by nothing in
/// `trust` and --insecure was not given.
[[nodiscard]] base::Result<void> CheckVerifiable(const ManifestRef& ref, const TrustConfig& trust);

struct VerifiedManifest {
  Manifest manifest;
  std::string url;       ///< where it came from (payload URLs resolve against it)
  std::string text;      ///< the exact bytes verified
  std::string sha256;    ///< of `text`
  std::string verified_by;  ///< "sha256 pin", "signature by KEYFILE", both, or "nothing (--insecure)"
};

/// Downloads the manifest (and its .sig when keys are given), verifies it, then
/// parses it. Verification comes before parsing: an unverified manifest's bytes
/// never reach the parser.
[[nodiscard]] base::Result<VerifiedManifest> FetchVerifiedManifest(const ManifestRef& ref, const TrustConfig& trust,
                                                                   const TransferOptions& options,
                                                                   TransferObserver& observer);

}  // namespace fetch

#include "fetch/trust.h"

#include "fetch/sha256.h"
#include "fetch/url.h"

namespace fetch {
namespace {

using base::ErrorKind;

/// ECDSA P-256 DER signatures are at most 72 bytes; anything much larger is not one.
constexpr std::uint64_t kMaxSignatureBytes = 4096;

}  // namespace

base::Result<void> CheckVerifiable(const ManifestRef& ref, const TrustConfig& trust) {
  if (ref.sha256 || !trust.keys.empty() || trust.insecure) return {};
  return base::Fail(base::Error(ErrorKind::kVerification,
                                "refusing " + RedactUrl(ref.url) + ": it is neither pinned by hash nor signed")
                        .Hint("pin it: append #sha256=$(sha256sum < bootrino.sh | cut -d' ' -f1) to the URL; "
                              "or sign it and pass --trust KEYFILE; --insecure boots an unverified OS"));
}

base::Result<VerifiedManifest> FetchVerifiedManifest(const ManifestRef& ref, const TrustConfig& trust,
                                                     const TransferOptions& options, TransferObserver& observer) {
  RETURN_IF_ERROR(CheckVerifiable(ref, trust));
  MemorySink manifest_sink;
  MemorySink signature_sink;
  std::vector<Download> downloads;
  downloads.push_back(Download{"bootrino.sh", {ref.url}, std::nullopt, kMaxManifestBytes, ref.sha256, &manifest_sink});
  if (!trust.keys.empty()) {
    ASSIGN_OR_RETURN(std::string sig_url, SignatureUrl(ref.url));
    downloads.push_back(Download{"bootrino.sh.sig", {sig_url}, std::nullopt, kMaxSignatureBytes, std::nullopt,
                                 &signature_sink});
  }
  auto fetched = DownloadAll(downloads, options, observer);
  if (!fetched) {
    base::Error error = std::move(fetched).error();
    if (error.kind() == ErrorKind::kVerification && ref.sha256) {
      return base::Fail(std::move(error).Context("the manifest does not match its pin")
                            .Hint("the manifest changed since the reference was made; get the new reference "
                                  "from its publisher, or check that nobody tampered with it"));
    }
    return base::Fail(std::move(error).Context("fetching the manifest"));
  }
  VerifiedManifest out;
  out.url = ref.url;
  out.text = manifest_sink.data();
  out.sha256 = (*fetched)[0].sha256;
  std::vector<std::string> how;
  if (ref.sha256) how.push_back("sha256 pin");
  if (!trust.keys.empty()) {
    auto key = VerifySignature(out.text, signature_sink.data(), trust.keys);
    if (!key) return base::Fail(std::move(key).error().Context("bootrino.sh.sig at " + RedactUrl(downloads[1].urls[0])));
    how.push_back("signature by " + (*key)->origin());
  }
  if (how.empty()) how.push_back("nothing (--insecure)");
  for (const auto& h : how) out.verified_by += (out.verified_by.empty() ? "" : " and ") + h;
  ASSIGN_OR_RETURN(out.manifest, WithContext(ParseManifest(out.text), RedactUrl(ref.url)));
  return out;
}

}  // namespace fetch

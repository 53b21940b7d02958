// HTTP(S) downloads with libcurl: parallel transfers, retries with backoff,
// resume with Range, mirrors in order, and every byte checked against the
// expected size and SHA-256 as it streams.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/base.h"

namespace fetch {

struct TransferOptions {
  std::string ca_file;           ///< PEM CA bundle; empty: the system's, else the embedded one
  long connect_timeout_s = 15;
  long stall_timeout_s = 30;     ///< a try moving under 1 KiB/s for this long is retried
  int tries = 5;                 ///< tries of one URL before the next mirror
  double retry_delay_s = 1.0;    ///< wait before the 2nd try; doubles each try, at most 30 s
  int parallel = 4;              ///< transfers at once; each segment of a split file is one
  /// A file with a known size of 32 MiB or more is fetched in byte ranges of 16 MiB or more
  /// (fetch/segments.h PlanSegments), up to this many at once (and never more than `parallel`),
  /// lowest first; 1 fetches every file in one stream. --segments.
  int segments_max = 4;
};

/// Where a download's bytes go; offsets are absolute positions in the file.
/// DownloadAll calls a Sink from threads of the download's own (see
/// fetch/block_writer.h), and not after it returns. A file fetched in one
/// stream gets one call at a time. A file split into segments
/// (fetch/segments.h) gets Writes of distinct ranges from several threads at
/// once, and Reads of ranges already written from yet another; Truncate is
/// then called only while no other call runs.
class Sink {
 public:
  virtual ~Sink() = default;
  [[nodiscard]] virtual base::Result<void> Write(std::uint64_t offset, std::span<const char> bytes) = 0;
  /// Drops everything at and after `size` (a server ignored Range: start over).
  [[nodiscard]] virtual base::Result<void> Truncate(std::uint64_t size) = 0;
  /// Fills `bytes` from `offset`, all of it or an error: a split file is hashed
  /// by reading back what its segments wrote.
  [[nodiscard]] virtual base::Result<void> Read(std::uint64_t offset, std::span<char> bytes) = 0;
};

/// Collects a small download (a manifest, a signature) in memory.
class MemorySink : public Sink {
 public:
  base::Result<void> Write(std::uint64_t offset, std::span<const char> bytes) override;
  base::Result<void> Truncate(std::uint64_t size) override;
  base::Result<void> Read(std::uint64_t offset, std::span<char> bytes) override;
  /// Only once the download is over.
  const std::string& data() const { return data_; }

 private:
  std::mutex mu_;  // segments write from several threads
  std::string data_;
};

struct Download {
  std::string label;                  ///< names the file in messages and progress
  std::vector<std::string> urls;      ///< absolute URLs: primary first, then mirrors
  std::optional<std::uint64_t> size;  ///< the exact size, when known
  std::uint64_t max_size = 0;         ///< bytes beyond this are refused at once (== size when known)
  std::optional<std::string> sha256;  ///< checked when the body is complete, when known
  Sink* sink = nullptr;
};

struct DownloadResult {
  std::string url;     ///< the URL that delivered the verified bytes
  std::string sha256;  ///< of the bytes delivered
  std::uint64_t bytes = 0;
  int requests = 0;    ///< HTTP requests it took, retries and resumes included
};

/// Told about progress from the transfer loop's thread.
class TransferObserver {
 public:
  virtual ~TransferObserver() = default;
  virtual void OnProgress(std::size_t /*index*/, std::uint64_t /*done*/) {}
  virtual void OnRetry(std::size_t /*index*/, const std::string& /*url*/, const std::string& /*reason*/,
                       double /*delay_s*/) {}
  virtual void OnDone(std::size_t /*index*/, const DownloadResult& /*result*/) {}
};

/// Runs every download to completion, or stops them all at the first one that
/// fails on every URL. Errors are kNetwork or kVerification (or kInternal when
/// a Sink fails) and name the file, each URL tried and what went wrong there.
[[nodiscard]] base::Result<std::vector<DownloadResult>> DownloadAll(const std::vector<Download>& downloads,
                                                                    const TransferOptions& options,
                                                                    TransferObserver& observer);

/// The CA bundle bootrino uses when none is named: the first system bundle that
/// exists (Debian/Ubuntu, RHEL/Fedora/Amazon Linux, SUSE, Alpine), or "" when
/// only the embedded bundle is left.
std::string SystemCaBundle();

}  // namespace fetch

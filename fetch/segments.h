// Splitting one large download into byte ranges fetched over parallel
// connections (aria2-style), and hashing the whole file in order while the
// ranges arrive out of order.
//
// CDNs and object stores often cap the rate of one connection; a file fetched
// in N ranges at once then arrives up to N times faster. The manifest pins the
// SHA-256 of the whole file, which can only be computed front to back: an
// OrderedHasher hashes the leading contiguous part of the file as the ranges'
// writers report their blocks written, reading them back from the Sink (a
// tmpfs or the page cache: a memory copy), so memory stays bounded whatever
// order the ranges complete in.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "base/base.h"
#include "fetch/sha256.h"
#include "fetch/transfer.h"

namespace fetch {

/// Bytes [start, end) of a file.
struct ByteRange {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  bool operator==(const ByteRange&) const = default;
};

/// No segment is planned smaller than this (give or take kSegmentAlign): below
/// it a request's round trip costs more than the range saves.
inline constexpr std::uint64_t kMinSegmentBytes = 16ull << 20;
/// A file has at most this many segments per connection it may use at once.
inline constexpr std::uint64_t kSegmentsPerConnection = 4;
/// Segment starts fall on multiples of this, the writers' block size.
inline constexpr std::uint64_t kSegmentAlign = 256 * 1024;

/// The ranges to fetch a file of `size` bytes in, when at most `connections`
/// of them may be fetched at once (TransferOptions: min(segments_max,
/// parallel)). The rule: a file of unknown size, under 2 × kMinSegmentBytes
/// (32 MiB), or with fewer than 2 connections is one range; otherwise it is
/// min(size / kMinSegmentBytes, kSegmentsPerConnection × connections) ranges
/// of nearly equal length (every start but the first rounded down to
/// kSegmentAlign: lengths differ by less than 2 × kSegmentAlign), each at
/// least about 16 MiB.
///
/// Why more ranges than connections: the transfers take the lowest ranges
/// first, so the file arrives in waves from its front and the in-order hash
/// follows close behind; with one range per connection all of them would end
/// together and the hash of all but the first would come after the transfer
/// (0.17 s for 192 MiB of 256). Why no more than 4 per connection: each range
/// is one more request, a round trip on a distant server.
///
/// One range means "do not split": the result is then {[0, size)}, or {}
/// when the size is unknown.
std::vector<ByteRange> PlanSegments(std::optional<std::uint64_t> size, int connections);

/// Hashes bytes [0, size) of a Sink in order as writers report ranges of them
/// written (Written, from any thread, in any order). Bytes that extend the
/// hashed run are hashed at once by the writer reporting them, from its own
/// memory, as a stream's BlockWriter would; bytes reported ahead of the run
/// wait in the Sink, and a thread of the hasher's own reads them back and
/// hashes them when the run reaches them (at most kReadBytes a read). Bytes
/// reported must not change afterwards.
class OrderedHasher {
 public:
  /// Small enough that what a read copies is still in the core's cache (L2)
  /// when it is hashed: with 1 MiB reads a 256 MiB file fetched in 4 ranges
  /// cost 0.59 s of CPU, with 256 KiB 0.51 (one stream: 0.45; bench/README.md).
  static constexpr std::size_t kReadBytes = 256 * 1024;

  /// `sink` must outlive the hasher. `on_finished`, if set, is called once
  /// every byte is hashed or reading one back failed, from the hasher's thread
  /// or a writer's; it must be safe to call from any thread.
  OrderedHasher(Sink* sink, std::uint64_t size, std::function<void()> on_finished = {});
  /// Stops the thread after the read it is in, if any.
  ~OrderedHasher();
  OrderedHasher(const OrderedHasher&) = delete;
  OrderedHasher& operator=(const OrderedHasher&) = delete;

  /// `bytes`, at `offset`, are in the Sink. Thread-safe.
  void Written(std::uint64_t offset, std::span<const char> bytes);

  /// Every byte is hashed, or reading one back failed.
  bool Finished() const;

  /// The digest of bytes [0, size), once Finished; the Sink's read error if one failed.
  [[nodiscard]] base::Result<Sha256Digest> Digest() const;

  /// How many leading bytes are hashed so far.
  std::uint64_t hashed() const;

 private:
  void Run();
  // Hashes [from, to), reading it back from the Sink; checks stop_ between reads.
  base::Result<void> HashRange(std::uint64_t from, std::uint64_t to, std::vector<char>& buffer);
  // Records bytes that cannot be hashed yet, for the thread. Caller holds mu_.
  void ReportLocked(std::uint64_t start, std::uint64_t end);
  // Bytes at hashed_ are reported and nobody hashes: the thread must read them back. Waking it
  // for less would cost two context switches per block written. Caller holds mu_.
  bool ThreadHasWorkLocked() const;
  // Ends the hash when every byte is in it or `error_` is set; true the first time. Caller holds mu_.
  bool FinishLocked();

  Sink* const sink_;
  const std::uint64_t size_;
  const std::function<void()> on_finished_;

  mutable std::mutex mu_;
  std::condition_variable ready_;  // the thread waits: bytes at hashed_ reported and nobody hashing, or the end
  std::map<std::uint64_t, std::uint64_t> reported_;  // start -> end, merged, all at or past hashed_
  std::uint64_t hashed_ = 0;
  bool busy_ = false;      // a writer or the thread is hashing the bytes at hashed_
  bool finished_ = false;  // digest_ or error_ is final
  std::optional<base::Error> error_;
  bool stop_ = false;
  Sha256 hasher_;       // only whoever set busy_ touches it; Digest reads digest_ after
  Sha256Digest digest_{};
  std::thread thread_;  // last: starts once everything above is constructed
};

}  // namespace fetch

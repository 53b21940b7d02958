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
#include <thread>
#include <vector>

#include "base/result.h"
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
/// it a connection's setup and slow start cost more than the range saves.
inline constexpr std::uint64_t kMinSegmentBytes = 16ull << 20;
/// Segment starts fall on multiples of this, the writers' block size.
inline constexpr std::uint64_t kSegmentAlign = 256 * 1024;

/// The ranges to fetch a file of `size` bytes in. The rule: a file of unknown
/// size, or under 2 × kMinSegmentBytes (32 MiB), is one range; otherwise it is
/// min(segments_max, parallel, size / kMinSegmentBytes) ranges of nearly equal
/// length (every start but the first rounded down to kSegmentAlign: lengths
/// differ by less than 2 × kSegmentAlign), so each is at least about 16 MiB and a split file never needs more connections than
/// `parallel` allows at once. One range means "do not split": the result is
/// then {[0, size)}, or {} when the size is unknown.
std::vector<ByteRange> PlanSegments(std::optional<std::uint64_t> size, int segments_max, int parallel);

/// Hashes bytes [0, size) of a Sink in order, on a thread of its own, as
/// writers report ranges of them written (Written, from any thread, in any
/// order). Only the leading contiguous run of reported bytes is hashed; bytes
/// reported ahead of it wait in the Sink until the run reaches them. Bytes
/// reported must not change afterwards. Reads at most kReadBytes at a time.
class OrderedHasher {
 public:
  static constexpr std::size_t kReadBytes = 1 << 20;

  /// `sink` must outlive the hasher. `on_finished`, if set, is called from the
  /// hasher's thread once every byte is hashed or reading one failed; it must
  /// be safe to call from any thread.
  OrderedHasher(Sink* sink, std::uint64_t size, std::function<void()> on_finished = {});
  /// Stops the thread after the read it is in, if any.
  ~OrderedHasher();
  OrderedHasher(const OrderedHasher&) = delete;
  OrderedHasher& operator=(const OrderedHasher&) = delete;

  /// Bytes [offset, offset + bytes) are in the Sink. Thread-safe.
  void Written(std::uint64_t offset, std::uint64_t bytes);

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

  Sink* const sink_;
  const std::uint64_t size_;
  const std::function<void()> on_finished_;

  mutable std::mutex mu_;
  std::condition_variable ready_;         // the thread waits: bytes at hashed_ reported, or stop_
  std::map<std::uint64_t, std::uint64_t> reported_;  // start -> end, merged, all at or past hashed_
  std::uint64_t hashed_ = 0;
  std::optional<base::Error> error_;
  bool stop_ = false;
  Sha256 hasher_;       // the thread's alone until it finishes; Digest reads it after
  Sha256Digest digest_{};
  std::thread thread_;  // last: starts once everything above is constructed
};

}  // namespace fetch

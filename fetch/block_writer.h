// Hashing and writing a download's bytes off the transfer thread.
//
// libcurl hands its write callback at most 16 KiB at a time, and SHA-256 of
// every byte on the one thread that runs all transfers was 43 % of a fetch's
// time (bench/README.md). A BlockWriter collects the callback's bytes into
// large blocks and gives each full block to a worker thread of its own, which
// hashes it and writes it with one Sink::Write. The transfer thread only
// copies. When the worker is `max_queued` blocks behind, Append waits, or,
// for an event loop that must not (transfer.cc), WouldWait says so and the
// loop pauses that transfer until on_room; either way memory stays at
// (max_queued + 1) blocks whatever the file's size.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
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

/// Block size and queue depth that measured best against memory (bench/README.md):
/// 256 KiB blocks, 2 with the worker: 768 KiB per running transfer.
inline constexpr std::size_t kWriteBlockBytes = 256 * 1024;
inline constexpr int kWriteBlocksQueued = 2;

/// Whether a BlockWriter hashes what it writes: a segment of a split file does
/// not, since its file is hashed in order by an OrderedHasher (fetch/segments.h).
enum class Hashing { kOn, kOff };

/// Streams appended bytes, in order and at consecutive offsets from 0, into a
/// Sink and (Hashing::kOn) a Sha256, on a worker thread. One thread at a time calls the
/// public methods. The worker calls Sink::Write, one block at a time; Restart
/// calls Sink::Truncate once the worker is idle; after Flush or Restart has
/// returned, nothing touches the Sink until the next Append.
class BlockWriter {
 public:
  /// `sink` must outlive the writer. `block_bytes` > 0; `max_queued` >= 1 is how
  /// many full blocks may wait for or be in the worker before Append blocks.
  /// `on_room`, if set, is called from the worker when it finishes a block
  /// after WouldWait said yes; it must be safe to call from any thread.
  explicit BlockWriter(Sink* sink, std::size_t block_bytes = kWriteBlockBytes, int max_queued = kWriteBlocksQueued,
                       std::function<void()> on_room = {}, Hashing hashing = Hashing::kOn);
  /// Stops the worker after the block it is writing, if any; blocks not yet
  /// written are dropped (a caller that wants them calls Flush first).
  ~BlockWriter();
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  /// Accepts `bytes` at offset size(). Returns the first error the Sink gave
  /// (it may be from an earlier block); once one is reported every later call
  /// reports it too and nothing more is written.
  [[nodiscard]] base::Result<void> Append(std::span<const char> bytes);

  /// True when Append(bytes) would wait for the worker now. An event loop that
  /// must not block (libcurl's, serving other transfers meanwhile) pauses its
  /// input instead and asks again once on_room is called. False after an
  /// error: Append then reports it at once.
  [[nodiscard]] bool WouldWait(std::size_t bytes);

  /// Hands over the partial block and waits until every byte appended so far is
  /// hashed and written; returns the first Sink error, if any. Appending after
  /// a Flush continues the same stream.
  [[nodiscard]] base::Result<void> Flush();

  /// Starts the stream over at offset 0: flushes, truncates the Sink to 0 and
  /// forgets the hash. Fails with the Flush or Truncate error.
  [[nodiscard]] base::Result<void> Restart();

  /// SHA-256 of every byte since construction or Restart. Only meaningful right
  /// after a successful Flush, with Hashing::kOn; does not reset anything.
  Sha256Digest Digest() const;

  /// Bytes accepted since construction or Restart; the Sink may be up to
  /// (max_queued + 1) blocks behind until Flush.
  std::uint64_t size() const { return size_; }

 private:
  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0;
    std::uint64_t offset = 0;
  };

  // Queues `current_` for the worker, waiting for room; starts the worker on first use.
  base::Result<void> HandOff();
  // Waits until the worker has nothing queued or in hand. Caller holds `lock`.
  void WaitIdle(std::unique_lock<std::mutex>& lock);
  base::Result<void> ErrorLocked() const;
  void Run();

  Sink* const sink_;
  const std::size_t block_bytes_;
  const std::size_t max_queued_;
  const std::function<void()> on_room_;
  const bool hashing_;

  // Owned by the appending thread.
  Block current_;
  std::uint64_t size_ = 0;
  std::thread worker_;

  mutable std::mutex mu_;
  std::condition_variable work_ready_;  // the worker waits: a block queued, or stop_
  std::condition_variable room_ready_;  // the appender waits: a block done
  std::deque<Block> queue_;             // full blocks in offset order
  std::size_t in_hand_ = 0;             // blocks the worker took and has not finished (0 or 1)
  std::vector<std::unique_ptr<char[]>> spare_;  // finished blocks' buffers, reused
  std::optional<base::Error> error_;    // the Sink's first error
  std::atomic<bool> failed_{false};     // error_ is set: lets Append check without the lock
  bool stop_ = false;
  bool wants_room_ = false;             // WouldWait said yes: call on_room_ when a block is done
  // Touched by the worker while it holds a block, by the appender only while
  // the worker is idle (after WaitIdle); mu_ orders the two.
  Sha256 hasher_;
};

}  // namespace fetch

#include "fetch/block_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace fetch {
namespace {

using namespace std::chrono_literals;

std::string RandomBytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  return bytes;
}

std::string HexOf(std::string_view data) {
  Sha256 hasher;
  hasher.Update(data);
  return Sha256::Hex(hasher.Final());
}

// Appends `data` in chunks of 0 to `max_chunk` bytes, as libcurl's callbacks would.
base::Result<void> AppendInChunks(BlockWriter& writer, std::string_view data, std::size_t max_chunk,
                                  std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  while (!data.empty()) {
    std::size_t n = std::min<std::size_t>(data.size(), rng() % (max_chunk + 1));
    RETURN_IF_ERROR(writer.Append(std::span<const char>(data.data(), n)));
    data.remove_prefix(n);
  }
  return {};
}

// Keeps what it is given like a file would, and every call it got. Called from
// the writer's worker; read by the test only after Flush (the writer orders the two).
class RecordingSink : public Sink {
 public:
  struct Call {
    std::uint64_t offset;
    std::size_t size;
    const char* data;
  };
  base::Result<void> Write(std::uint64_t offset, std::span<const char> bytes) override {
    writes.push_back(Call{offset, bytes.size(), bytes.data()});
    if (fail_on_write == writes.size()) return base::Fail(base::ErrorKind::kInternal, "pwrite: No space left", 28);
    if (file.size() < offset + bytes.size()) file.resize(offset + bytes.size());
    file.replace(offset, bytes.size(), bytes.data(), bytes.size());
    return {};
  }
  base::Result<void> Truncate(std::uint64_t size) override {
    truncations.push_back(size);
    file.resize(std::min<std::uint64_t>(size, file.size()));
    return {};
  }
  base::Result<void> Read(std::uint64_t offset, std::span<char> bytes) override {
    if (offset + bytes.size() > file.size()) return base::Fail(base::ErrorKind::kInternal, "read past the end");
    std::copy_n(file.data() + offset, bytes.size(), bytes.data());
    return {};
  }

  std::string file;
  std::vector<Call> writes;
  std::vector<std::uint64_t> truncations;
  std::size_t fail_on_write = 0;  // 1-based; 0: never
};

// Checks that the writes were whole blocks at consecutive offsets, the last one possibly short.
void ExpectWholeBlocksInOrder(const RecordingSink& sink, std::size_t block, std::uint64_t total) {
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < sink.writes.size(); ++i) {
    EXPECT_EQ(sink.writes[i].offset, offset) << "write " << i;
    if (i + 1 < sink.writes.size()) {
      EXPECT_EQ(sink.writes[i].size, block) << "write " << i;
    }
    offset += sink.writes[i].size;
  }
  EXPECT_EQ(offset, total);
}

struct Shape {
  std::size_t block;
  int max_queued;
  std::size_t bytes;
  std::size_t max_chunk;
};

class BlockWriterShapes : public testing::TestWithParam<Shape> {};

TEST_P(BlockWriterShapes, SameBytesAndDigestAsTheWhole) {
  const Shape s = GetParam();
  const std::string data = RandomBytes(s.bytes, s.block * 31 + s.bytes);
  RecordingSink sink;
  BlockWriter writer(&sink, s.block, s.max_queued);
  ASSERT_TRUE(AppendInChunks(writer, data, s.max_chunk, s.bytes));
  EXPECT_EQ(writer.size(), data.size());
  ASSERT_TRUE(writer.Flush());
  EXPECT_EQ(Sha256::Hex(writer.Digest()), HexOf(data));
  EXPECT_TRUE(sink.file == data);
  ExpectWholeBlocksInOrder(sink, s.block, data.size());
  EXPECT_TRUE(sink.truncations.empty());
}

INSTANTIATE_TEST_SUITE_P(BlockWriter, BlockWriterShapes,
                         testing::Values(Shape{1, 1, 3000, 50}, Shape{7, 2, 10000, 100}, Shape{4096, 1, 1 << 20, 20000},
                                         Shape{4096, 2, (1 << 20) + 13, 16384}, Shape{65536, 3, 3 << 20, 16384},
                                         Shape{kWriteBlockBytes, 2, (5 << 20) + 1, 16384},
                                         Shape{kWriteBlockBytes, 2, kWriteBlockBytes, 1 << 20},
                                         Shape{kWriteBlockBytes, 2, 100, 16384}));

TEST(BlockWriter, NothingAppendedIsTheEmptyDigest) {
  RecordingSink sink;
  BlockWriter writer(&sink);
  ASSERT_TRUE(writer.Append({}));
  ASSERT_TRUE(writer.Flush());
  EXPECT_EQ(Sha256::Hex(writer.Digest()), HexOf(""));
  EXPECT_TRUE(sink.writes.empty());
}

// A retry resumes the same stream after Finish flushed it: the digest covers both tries.
TEST(BlockWriter, AppendingAfterFlushContinuesTheStream) {
  const std::string data = RandomBytes(100000, 1);
  RecordingSink sink;
  BlockWriter writer(&sink, 4096, 2);
  ASSERT_TRUE(AppendInChunks(writer, std::string_view(data).substr(0, 30001), 5000, 2));
  ASSERT_TRUE(writer.Flush());
  EXPECT_EQ(sink.file.size(), 30001u);
  EXPECT_EQ(Sha256::Hex(writer.Digest()), HexOf(data.substr(0, 30001)));
  ASSERT_TRUE(AppendInChunks(writer, std::string_view(data).substr(30001), 5000, 3));
  ASSERT_TRUE(writer.Flush());
  EXPECT_EQ(Sha256::Hex(writer.Digest()), HexOf(data));
  EXPECT_TRUE(sink.file == data);
  EXPECT_EQ(writer.size(), data.size());
}

TEST(BlockWriter, RestartStartsOverAtZero) {
  const std::string first = RandomBytes(3 * 4096 + 500, 4);
  const std::string second = RandomBytes(2 * 4096 + 7, 5);
  RecordingSink sink;
  BlockWriter writer(&sink, 4096, 2);
  ASSERT_TRUE(AppendInChunks(writer, first, 1000, 6));
  ASSERT_TRUE(writer.Restart());
  EXPECT_EQ(writer.size(), 0u);
  EXPECT_EQ(sink.truncations, std::vector<std::uint64_t>{0});
  EXPECT_TRUE(sink.file.empty());
  sink.writes.clear();
  ASSERT_TRUE(AppendInChunks(writer, second, 1000, 7));
  ASSERT_TRUE(writer.Flush());
  EXPECT_EQ(Sha256::Hex(writer.Digest()), HexOf(second));
  EXPECT_TRUE(sink.file == second);
  ExpectWholeBlocksInOrder(sink, 4096, second.size());
}

TEST(BlockWriter, SinkErrorStopsTheStream) {
  const std::string data = RandomBytes(40 * 1024, 8);
  RecordingSink sink;
  sink.fail_on_write = 3;
  BlockWriter writer(&sink, 1024, 2);
  auto appended = AppendInChunks(writer, data, 700, 9);
  // The third block fails while later ones are appended; Append notices within max_queued blocks.
  ASSERT_FALSE(appended);
  EXPECT_EQ(appended.error().message(), "pwrite: No space left");
  EXPECT_EQ(appended.error().sys_errno(), 28);
  auto flushed = writer.Flush();
  ASSERT_FALSE(flushed);
  EXPECT_EQ(flushed.error().message(), "pwrite: No space left");
  EXPECT_EQ(sink.writes.size(), 3u);  // nothing after the failed write
  EXPECT_FALSE(writer.Append(std::span<const char>(data.data(), 10)));
  EXPECT_FALSE(writer.Restart());
  EXPECT_TRUE(sink.truncations.empty());
}

TEST(BlockWriter, FlushReportsAnErrorInThePartialBlock) {
  RecordingSink sink;
  sink.fail_on_write = 1;
  BlockWriter writer(&sink, 4096, 2);
  ASSERT_TRUE(writer.Append(std::span<const char>("abc", 3)));
  auto flushed = writer.Flush();
  ASSERT_FALSE(flushed);
  EXPECT_EQ(flushed.error().kind(), base::ErrorKind::kInternal);
}

// A sink that holds every write until the test opens it.
class GatedSink : public RecordingSink {
 public:
  base::Result<void> Write(std::uint64_t offset, std::span<const char> bytes) override {
    std::unique_lock lock(mu_);
    open_cv_.wait(lock, [this] { return open_; });
    return RecordingSink::Write(offset, bytes);
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    open_cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable open_cv_;
  bool open_ = false;
};

TEST(BlockWriter, AppendWaitsWhenMaxQueuedBlocksAreBehind) {
  constexpr std::size_t kBlock = 4096;
  constexpr int kMaxQueued = 2;
  const std::string data = RandomBytes(40 * kBlock, 10);
  GatedSink sink;
  BlockWriter writer(&sink, kBlock, kMaxQueued);
  std::atomic<std::size_t> accepted{0};
  std::thread producer([&] {
    for (std::size_t at = 0; at < data.size(); at += 1000) {
      std::size_t n = std::min<std::size_t>(1000, data.size() - at);
      ASSERT_TRUE(writer.Append(std::span<const char>(data.data() + at, n)));
      accepted += n;
    }
  });
  std::this_thread::sleep_for(200ms);
  // One block in the sink, one queued, one being filled: then Append must wait.
  EXPECT_LE(accepted.load(), (kMaxQueued + 1) * kBlock);
  sink.Open();
  producer.join();
  ASSERT_TRUE(writer.Flush());
  EXPECT_TRUE(sink.file == data);
  std::set<const char*> buffers;
  for (const auto& w : sink.writes) buffers.insert(w.data);
  EXPECT_LE(buffers.size(), static_cast<std::size_t>(kMaxQueued + 1));  // blocks are reused, not piled up
}

// transfer.cc's loop must not block in Append: it pauses the transfer when
// WouldWait says so and resumes it when on_room is called.
TEST(BlockWriter, WouldWaitAndOnRoomLetALoopPauseInsteadOfWaiting) {
  const std::string data = RandomBytes(8192, 15);
  GatedSink sink;
  std::mutex mu;
  std::condition_variable cv;
  int rooms = 0;
  BlockWriter writer(&sink, 1024, 2, [&] {
    std::lock_guard lock(mu);
    ++rooms;
    cv.notify_all();
  });
  EXPECT_FALSE(writer.WouldWait(2048));  // two blocks, room for two
  // Two full blocks go to the worker, which holds the first at the gate.
  ASSERT_TRUE(writer.Append(std::span<const char>(data.data(), 2048 + 500)));
  EXPECT_FALSE(writer.WouldWait(0));
  EXPECT_FALSE(writer.WouldWait(100));  // stays in the current block
  EXPECT_TRUE(writer.WouldWait(524));   // fills it: a third block has no room
  EXPECT_TRUE(writer.WouldWait(100000));
  sink.Open();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return rooms > 0; }));
  }
  EXPECT_FALSE(writer.WouldWait(524));
  ASSERT_TRUE(writer.Append(std::span<const char>(data.data() + 2548, data.size() - 2548)));
  ASSERT_TRUE(writer.Flush());
  EXPECT_TRUE(sink.file == data);
  EXPECT_EQ(Sha256::Hex(writer.Digest()), HexOf(data));
}

TEST(BlockWriter, WouldWaitIsFalseAfterAnError) {
  RecordingSink sink;
  sink.fail_on_write = 1;
  BlockWriter writer(&sink, 1024, 1);
  ASSERT_TRUE(writer.Append(std::span<const char>(std::string(1024, 'x').data(), 1024)));
  EXPECT_FALSE(writer.Flush());
  EXPECT_FALSE(writer.WouldWait(100000));  // Append reports the error at once instead
  EXPECT_FALSE(writer.Append(std::span<const char>("y", 1)));
}

TEST(BlockWriter, DestroyingMidStreamDropsTheQueueAndReturns) {
  const std::string data = RandomBytes(64 * 1024, 11);
  GatedSink sink;
  std::thread opener;
  {
    BlockWriter writer(&sink, 1024, 2);
    // Two full blocks (one in the sink, held at the gate, one queued) and a partial one.
    ASSERT_TRUE(writer.Append(std::span<const char>(data.data(), 2 * 1024 + 5)));
    opener = std::thread([&sink] {
      std::this_thread::sleep_for(100ms);
      sink.Open();
    });
  }  // the destructor waits for the write in hand only
  opener.join();
  EXPECT_LE(sink.writes.size(), 1u);
  EXPECT_LE(sink.file.size(), 1024u);
}

TEST(BlockWriter, DestroyingIdleOrFailedWritersReturns) {
  const std::string data = RandomBytes(64 * 1024, 12);
  RecordingSink sink;
  { BlockWriter unused(&sink); }
  {
    BlockWriter flushed(&sink, 1024, 1);
    ASSERT_TRUE(AppendInChunks(flushed, data, 3000, 13));
    ASSERT_TRUE(flushed.Flush());
  }
  {
    RecordingSink failing;
    failing.fail_on_write = 1;
    BlockWriter writer(&failing, 1024, 1);
    EXPECT_FALSE(AppendInChunks(writer, data, 3000, 14));
  }
}

}  // namespace
}  // namespace fetch

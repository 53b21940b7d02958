#include "fetch/segments.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace fetch {
namespace {

using namespace std::chrono_literals;
constexpr std::uint64_t kMiB = 1 << 20;

// --- PlanSegments ------------------------------------------------------------

TEST(PlanSegments, UnknownSizeIsNotSplit) { EXPECT_TRUE(PlanSegments(std::nullopt, 4).empty()); }

TEST(PlanSegments, UnderTwiceTheMinimumIsOneRange) {
  EXPECT_EQ(PlanSegments(0, 4), (std::vector<ByteRange>{{0, 0}}));
  EXPECT_EQ(PlanSegments(32 * kMiB - 1, 4), (std::vector<ByteRange>{{0, 32 * kMiB - 1}}));
}

TEST(PlanSegments, OneConnectionIsOneRange) {
  EXPECT_EQ(PlanSegments(256 * kMiB, 1), (std::vector<ByteRange>{{0, 256 * kMiB}}));
  EXPECT_EQ(PlanSegments(256 * kMiB, 0).size(), 1u);  // nonsense limits mean "do not split"
}

TEST(PlanSegments, SegmentsOfAtLeastTheMinimum) {
  EXPECT_EQ(PlanSegments(32 * kMiB, 4), (std::vector<ByteRange>{{0, 16 * kMiB}, {16 * kMiB, 32 * kMiB}}));
  EXPECT_EQ(PlanSegments(63 * kMiB, 8).size(), 3u);
  EXPECT_EQ(PlanSegments(64 * kMiB + 4321, 4),
            (std::vector<ByteRange>{{0, 16 * kMiB}, {16 * kMiB, 32 * kMiB}, {32 * kMiB, 48 * kMiB},
                                    {48 * kMiB, 64 * kMiB + 4321}}));
}

// Up to 4 ranges per connection: the file arrives in waves from its front.
TEST(PlanSegments, AtMostFourPerConnection) {
  EXPECT_EQ(PlanSegments(256 * kMiB, 4).size(), 16u);
  EXPECT_EQ(PlanSegments(1024 * kMiB, 4).size(), 16u);
  EXPECT_EQ(PlanSegments(1024 * kMiB, 2).size(), 8u);
  EXPECT_EQ(PlanSegments(100 * kMiB, 2).size(), 6u);
  EXPECT_EQ(PlanSegments(4096 * kMiB, 16).size(), 64u);
}

// Whatever the size: the ranges cover [0, size) exactly, in order, starts aligned, lengths within 2 alignments.
TEST(PlanSegments, CoversTheFileExactlyWithAlignedStarts) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const std::uint64_t size = 32 * kMiB + rng() % (64ull << 30);
    const int connections = 2 + static_cast<int>(rng() % 15);
    const auto ranges = PlanSegments(size, connections);
    ASSERT_EQ(ranges.size(), std::min<std::uint64_t>(4 * connections, size / kMinSegmentBytes)) << size;
    std::uint64_t at = 0, shortest = UINT64_MAX, longest = 0;
    for (const ByteRange& r : ranges) {
      ASSERT_EQ(r.start, at) << size;
      ASSERT_EQ(r.start % kSegmentAlign, 0u) << size;
      ASSERT_GT(r.end, r.start) << size;
      shortest = std::min(shortest, r.end - r.start);
      longest = std::max(longest, r.end - r.start);
      at = r.end;
    }
    EXPECT_EQ(at, size);
    EXPECT_LT(longest - shortest, 2 * kSegmentAlign) << size;
    EXPECT_GE(shortest + kSegmentAlign, kMinSegmentBytes) << size;
  }
}

// --- OrderedHasher -----------------------------------------------------------

std::string RandomBytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  return bytes;
}

std::span<const char> Part(const std::string& data, std::size_t offset, std::size_t size) {
  return std::span<const char>(data.data() + offset, size);
}

std::string HexOf(std::string_view data) {
  Sha256 hasher;
  hasher.Update(data);
  return Sha256::Hex(hasher.Final());
}

// A file in memory that records every read and can fail one.
class ReadRecordingSink : public Sink {
 public:
  explicit ReadRecordingSink(std::size_t size) : file(size, '\0') {}
  base::Result<void> Write(std::uint64_t offset, std::span<const char> bytes) override {
    std::lock_guard lock(mu);
    std::copy(bytes.begin(), bytes.end(), file.begin() + static_cast<std::ptrdiff_t>(offset));
    return {};
  }
  base::Result<void> Truncate(std::uint64_t) override { return {}; }
  base::Result<void> Read(std::uint64_t offset, std::span<char> bytes) override {
    std::lock_guard lock(mu);
    reads.push_back({offset, offset + bytes.size()});
    if (fail_at && offset + bytes.size() > *fail_at) {
      return base::Fail(base::ErrorKind::kInternal, "pread: Input/output error", 5);
    }
    std::copy_n(file.data() + offset, bytes.size(), bytes.data());
    return {};
  }

  std::mutex mu;
  std::string file;
  std::vector<ByteRange> reads;
  std::optional<std::uint64_t> fail_at;
};

// An OrderedHasher over a sink, with a future that is ready once it says it finished.
struct Hashing {
  explicit Hashing(Sink* sink, std::uint64_t size)
      : hasher(sink, size, [this] { finished.set_value(); }), done(finished.get_future()) {}
  bool WaitFinished() { return done.wait_for(10s) == std::future_status::ready; }
  std::promise<void> finished;
  OrderedHasher hasher;
  std::future<void> done;
};

// Writes `data` into `sink` in blocks reported in a shuffled order: the digest is still the whole file's,
// and what was read back was read strictly front to back, each byte at most once.
TEST(OrderedHasher, HashesInOrderWhateverOrderBlocksArrive) {
  const std::size_t size = 5 * OrderedHasher::kReadBytes + 12345;
  const std::string data = RandomBytes(size, 1);
  ReadRecordingSink sink(size);
  Hashing h(&sink, size);
  std::vector<ByteRange> blocks;
  for (std::uint64_t at = 0; at < size; at += 100000)
    blocks.push_back({at, std::min<std::uint64_t>(size, at + 100000)});
  std::shuffle(blocks.begin(), blocks.end(), std::mt19937_64(2));
  for (const ByteRange& b : blocks) {
    const std::span<const char> block(data.data() + b.start, b.end - b.start);
    ASSERT_TRUE(sink.Write(b.start, block));
    h.hasher.Written(b.start, block);
  }
  ASSERT_TRUE(h.WaitFinished());
  ASSERT_TRUE(h.hasher.Finished());
  auto digest = h.hasher.Digest();
  ASSERT_TRUE(digest) << digest.error().message();
  EXPECT_EQ(Sha256::Hex(*digest), HexOf(data));
  std::lock_guard lock(sink.mu);
  EXPECT_FALSE(sink.reads.empty());  // the shuffle put blocks ahead of the hashed run
  std::uint64_t at = 0;
  for (const ByteRange& r : sink.reads) {
    EXPECT_GE(r.start, at);
    EXPECT_LE(r.end - r.start, OrderedHasher::kReadBytes);
    at = r.end;
  }
  EXPECT_LE(at, size);
}

// Blocks reported in order are hashed from the writer's memory as they come: nothing is read back.
TEST(OrderedHasher, InOrderBlocksAreNotReadBack) {
  const std::size_t size = 3 * OrderedHasher::kReadBytes + 7;
  const std::string data = RandomBytes(size, 6);
  ReadRecordingSink sink(size);
  Hashing h(&sink, size);
  for (std::uint64_t at = 0; at < size; at += 65536) {
    const std::span<const char> block(data.data() + at, std::min<std::uint64_t>(65536, size - at));
    ASSERT_TRUE(sink.Write(at, block));
    h.hasher.Written(at, block);
  }
  ASSERT_TRUE(h.WaitFinished());
  auto digest = h.hasher.Digest();
  ASSERT_TRUE(digest);
  EXPECT_EQ(Sha256::Hex(*digest), HexOf(data));
  std::lock_guard lock(sink.mu);
  EXPECT_TRUE(sink.reads.empty()) << sink.reads.size() << " reads";
}

// Two writers at once, each with every other block (two segments' worth of interleaving): still the whole
// file's digest.
TEST(OrderedHasher, ConcurrentWriters) {
  const std::size_t size = 8 * OrderedHasher::kReadBytes + 99;
  const std::string data = RandomBytes(size, 8);
  ReadRecordingSink sink(size);
  Hashing h(&sink, size);
  auto writer = [&](std::uint64_t first) {
    for (std::uint64_t at = first * 262144; at < size; at += 2 * 262144) {
      const std::span<const char> block(data.data() + at, std::min<std::uint64_t>(262144, size - at));
      ASSERT_TRUE(sink.Write(at, block));
      h.hasher.Written(at, block);
    }
  };
  std::thread a(writer, 0), b(writer, 1);
  a.join();
  b.join();
  ASSERT_TRUE(h.WaitFinished());
  auto digest = h.hasher.Digest();
  ASSERT_TRUE(digest);
  EXPECT_EQ(Sha256::Hex(*digest), HexOf(data));
}

// Bytes reported ahead of the hashed prefix wait; nothing past a gap is read until the gap is filled.
TEST(OrderedHasher, WaitsForTheGapBeforeReadingAhead) {
  const std::size_t size = 3 * 1000;
  const std::string data = RandomBytes(size, 3);
  ReadRecordingSink sink(size);
  ASSERT_TRUE(sink.Write(0, std::span<const char>(data.data(), size)));
  Hashing h(&sink, size);
  h.hasher.Written(2000, Part(data, 2000, 1000));  // the last third, as a segment ahead of the others
  h.hasher.Written(0, Part(data, 0, 1000));        // the first third
  // The hasher gets through the first third and stops at the gap.
  for (int i = 0; i < 500 && h.hasher.hashed() < 1000; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(h.hasher.hashed(), 1000u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(h.hasher.hashed(), 1000u);
  EXPECT_FALSE(h.hasher.Finished());
  EXPECT_FALSE(h.hasher.Digest());
  {
    std::lock_guard lock(sink.mu);
    EXPECT_TRUE(sink.reads.empty());  // the first third was hashed as it was reported, the last waits
  }
  h.hasher.Written(1000, Part(data, 1000, 1000));
  ASSERT_TRUE(h.WaitFinished());
  auto digest = h.hasher.Digest();
  ASSERT_TRUE(digest);
  EXPECT_EQ(Sha256::Hex(*digest), HexOf(data));
}

// A byte changed in the sink before the hasher reads it is in the digest: what is verified is what was written.
TEST(OrderedHasher, DigestIsOfTheBytesInTheSink) {
  const std::size_t size = 4096;
  std::string data = RandomBytes(size, 4);
  ReadRecordingSink sink(size);
  ASSERT_TRUE(sink.Write(0, std::span<const char>(data.data(), size)));
  sink.file[3000] ^= 1;
  Hashing h(&sink, size);
  h.hasher.Written(2048, Part(data, 2048, 2048));  // ahead of the run: read back from the sink
  h.hasher.Written(0, Part(data, 0, 2048));
  ASSERT_TRUE(h.WaitFinished());
  auto digest = h.hasher.Digest();
  ASSERT_TRUE(digest);
  EXPECT_NE(Sha256::Hex(*digest), HexOf(data));
  data[3000] ^= 1;
  EXPECT_EQ(Sha256::Hex(*digest), HexOf(data));
}

TEST(OrderedHasher, OverlappingAndRepeatedReportsHashEachByteOnce) {
  const std::size_t size = 10000;
  const std::string data = RandomBytes(size, 5);
  ReadRecordingSink sink(size);
  ASSERT_TRUE(sink.Write(0, std::span<const char>(data.data(), size)));
  Hashing h(&sink, size);
  h.hasher.Written(5000, Part(data, 5000, 3000));
  h.hasher.Written(6000, Part(data, 6000, 4000));
  h.hasher.Written(4000, Part(data, 4000, 2000));
  h.hasher.Written(0, Part(data, 0, 4500));
  h.hasher.Written(0, Part(data, 0, 100));  // already covered
  ASSERT_TRUE(h.WaitFinished());
  auto digest = h.hasher.Digest();
  ASSERT_TRUE(digest);
  EXPECT_EQ(Sha256::Hex(*digest), HexOf(data));
}

TEST(OrderedHasher, EmptyFileFinishesAtOnce) {
  ReadRecordingSink sink(0);
  Hashing h(&sink, 0);
  ASSERT_TRUE(h.WaitFinished());
  auto digest = h.hasher.Digest();
  ASSERT_TRUE(digest);
  EXPECT_EQ(Sha256::Hex(*digest), HexOf(""));
}

TEST(OrderedHasher, ReadErrorIsTheDigestsError) {
  const std::size_t size = 3 * OrderedHasher::kReadBytes;
  ReadRecordingSink sink(size);
  sink.fail_at = OrderedHasher::kReadBytes + 1;
  const std::string data(size, 'x');
  Hashing h(&sink, size);
  h.hasher.Written(1, Part(data, 1, size - 1));  // ahead of the run: read back
  h.hasher.Written(0, Part(data, 0, 1));
  ASSERT_TRUE(h.WaitFinished());
  EXPECT_TRUE(h.hasher.Finished());
  auto digest = h.hasher.Digest();
  ASSERT_FALSE(digest);
  EXPECT_NE(digest.error().message().find("Input/output error"), std::string::npos) << digest.error().message();
  EXPECT_NE(digest.error().message().find("reading back"), std::string::npos) << digest.error().message();
}

// Destroyed mid-file (a file that starts over): the thread stops, nothing hangs.
TEST(OrderedHasher, DestroyedBeforeFinishing) {
  ReadRecordingSink sink(1000);
  const std::string data(1000, 'x');
  auto h = std::make_unique<OrderedHasher>(&sink, 1000);
  h->Written(500, Part(data, 500, 500));
  h.reset();
  SUCCEED();
}

}  // namespace
}  // namespace fetch

#include "fetch/sha256.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fetch {
namespace {

std::vector<std::byte> RandomBytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::byte> bytes(size);
  for (std::byte& b : bytes) b = static_cast<std::byte>(rng() & 0xff);
  return bytes;
}

std::string HexOf(std::span<const std::byte> data) {
  Sha256 hasher;
  hasher.Update(data);
  return Sha256::Hex(hasher.Final());
}

std::string HexOf(std::string_view data) {
  return HexOf(std::as_bytes(std::span(data.data(), data.size())));
}

// Makes Sha256 objects created in its scope use `name`, then restores the
// detected implementation so no test leaks its choice into the next.
class ScopedImplementation {
 public:
  explicit ScopedImplementation(std::string_view name) {
    EXPECT_TRUE(internal::Sha256ForceImplementation(name)) << name;
  }
  ~ScopedImplementation() { internal::Sha256ResetImplementation(); }
  ScopedImplementation(const ScopedImplementation&) = delete;
  ScopedImplementation& operator=(const ScopedImplementation&) = delete;
};

// Runs each test once per implementation this CPU supports.
class Sha256ImplementationTest
    : public ::testing::TestWithParam<std::string_view> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(internal::Sha256ForceImplementation(GetParam()));
    ASSERT_EQ(Sha256Implementation(), GetParam());
  }
  void TearDown() override { internal::Sha256ResetImplementation(); }
};

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
TEST_P(Sha256ImplementationTest, NistVectors) {
  EXPECT_EQ(HexOf(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexOf("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(
      HexOf("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijkl"
            "mnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_P(Sha256ImplementationTest, OneMillionA) {
  const std::string thousand(1000, 'a');
  Sha256 hasher;
  for (int i = 0; i < 1000; ++i) hasher.Update(thousand);
  EXPECT_EQ(Sha256::Hex(hasher.Final()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(HexOf(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_P(Sha256ImplementationTest, EverySplitGivesTheSameDigest) {
  const std::vector<std::byte> message = RandomBytes(1031, 1);
  const std::string expected = HexOf(message);
  for (std::size_t chunk = 1; chunk <= 130; ++chunk) {
    Sha256 hasher;
    for (std::size_t offset = 0; offset < message.size(); offset += chunk) {
      hasher.Update(std::span(message).subspan(
          offset, std::min(chunk, message.size() - offset)));
    }
    EXPECT_EQ(Sha256::Hex(hasher.Final()), expected) << "chunk " << chunk;
  }
}

TEST_P(Sha256ImplementationTest, IrregularSplitsAndEmptyUpdates) {
  const std::vector<std::byte> message = RandomBytes(5000, 2);
  const std::string expected = HexOf(message);
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    Sha256 hasher;
    std::size_t offset = 0;
    while (offset < message.size()) {
      const std::size_t chunk = std::min<std::size_t>(
          std::uniform_int_distribution<std::size_t>(0, 300)(rng),
          message.size() - offset);
      hasher.Update(std::span(message).subspan(offset, chunk));
      offset += chunk;
    }
    EXPECT_EQ(Sha256::Hex(hasher.Final()), expected) << "trial " << trial;
  }
}

TEST_P(Sha256ImplementationTest, UnalignedInput) {
  const std::vector<std::byte> storage = RandomBytes(4096 + 16, 4);
  const std::string expected = HexOf(std::span(storage).first(4096));
  for (std::size_t misalignment = 1; misalignment < 16; ++misalignment) {
    std::vector<std::byte> shifted(storage.size());
    std::copy_n(storage.begin(), 4096, shifted.begin() + misalignment);
    EXPECT_EQ(HexOf(std::span(shifted).subspan(misalignment, 4096)), expected);
  }
}

TEST_P(Sha256ImplementationTest, FinalResetsForReuse) {
  Sha256 hasher;
  hasher.Update("some earlier message that must not leak into the next one");
  (void)hasher.Final();
  hasher.Update("abc");
  EXPECT_EQ(Sha256::Hex(hasher.Final()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256::Hex(hasher.Final()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

INSTANTIATE_TEST_SUITE_P(
    Available, Sha256ImplementationTest,
    ::testing::ValuesIn(internal::Sha256AvailableImplementations()),
    [](const ::testing::TestParamInfo<std::string_view>& info) {
      std::string name(info.param);
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

// Each accelerated implementation against the portable one on random inputs
// of every length 0..1000 and a few multi-megabyte ones.
TEST(Sha256Test, AcceleratedImplementationsMatchPortable) {
  const std::vector<std::byte> data = RandomBytes(5 * 1024 * 1024 + 200, 5);
  std::vector<std::size_t> sizes;
  for (std::size_t size = 0; size <= 1000; ++size) sizes.push_back(size);
  sizes.insert(sizes.end(),
               {1 << 20, 3 * 1024 * 1024 + 13, 5 * 1024 * 1024 + 77});
  // Start each input at a different offset so the short ones are not all
  // prefixes of one another and the loads are variously misaligned.
  const auto input = [&data](std::size_t size) {
    return std::span(data).subspan(size % 97, size);
  };

  std::vector<std::string> expected;
  {
    ScopedImplementation portable("portable");
    for (std::size_t size : sizes) expected.push_back(HexOf(input(size)));
  }
  int compared = 0;
  for (std::string_view name : internal::Sha256AvailableImplementations()) {
    if (name == "portable") continue;
    SCOPED_TRACE(name);
    ScopedImplementation accelerated(name);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      ASSERT_EQ(HexOf(input(sizes[i])), expected[i]) << "size " << sizes[i];
    }
    ++compared;
  }
  if (compared == 0) GTEST_SKIP() << "no accelerated SHA-256 on this CPU";
}

TEST(Sha256Test, DetectsTheCpuFeatures) {
  const std::vector<std::string_view> available =
      internal::Sha256AvailableImplementations();
  ASSERT_FALSE(available.empty());
  EXPECT_EQ(available.back(), "portable");
  EXPECT_EQ(Sha256Implementation(), available.front());
#if defined(__x86_64__) || defined(__i386__)
#if defined(__clang__)
  // clang (16, the checked build's) does not know "sha" below; the kernel's
  // view of the CPU is as independent of the cpuid code under test.
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line) && !line.starts_with("flags")) {}
  auto has = [&line](const std::string& flag) { return (line + " ").find(" " + flag + " ") != std::string::npos; };
  const bool has_sha_ni = has("sha_ni") && has("sse4_1") && has("ssse3");
#else
  // The compiler's own CPU probe, independent of the cpuid code under test.
  __builtin_cpu_init();
  const bool has_sha_ni = __builtin_cpu_supports("sha") &&
                          __builtin_cpu_supports("sse4.1") &&
                          __builtin_cpu_supports("ssse3");
#endif
  EXPECT_EQ(Sha256Implementation() == "sha-ni", has_sha_ni);
#endif
  std::printf("sha256 implementations on this CPU:");
  for (std::string_view name : available) {
    std::printf(" %.*s", static_cast<int>(name.size()), name.data());
  }
  std::printf(" (using %.*s)\n",
              static_cast<int>(Sha256Implementation().size()),
              Sha256Implementation().data());
}

TEST(Sha256Test, ForcingAnUnknownImplementationFails) {
  const std::string_view before = Sha256Implementation();
  EXPECT_FALSE(internal::Sha256ForceImplementation("no-such-thing"));
  EXPECT_EQ(Sha256Implementation(), before);
}

TEST(Sha256Test, ExistingObjectsKeepTheirImplementation) {
  const std::vector<std::byte> message = RandomBytes(777, 6);
  const std::string expected = HexOf(message);
  Sha256 hasher;
  hasher.Update(std::span(message).first(100));
  {
    ScopedImplementation portable("portable");
    hasher.Update(std::span(message).subspan(100));
  }
  EXPECT_EQ(Sha256::Hex(hasher.Final()), expected);
}

TEST(Sha256Test, HexIsLowercaseAndOrdered) {
  Sha256Digest digest{};
  for (std::size_t i = 0; i < digest.size(); ++i) {
    digest[i] = static_cast<std::uint8_t>(i * 8 + 0x0a);
  }
  EXPECT_EQ(Sha256::Hex(digest),
            "0a121a222a323a424a525a626a727a828a929aa2aab2bac2cad2dae2eaf2fa02");
}

TEST(Sha256Test, StringViewAndByteSpanAgree) {
  const std::string text = "the quick brown fox";
  Sha256 from_text;
  from_text.Update(std::string_view(text));
  EXPECT_EQ(Sha256::Hex(from_text.Final()),
            HexOf(std::as_bytes(std::span(text.data(), text.size()))));
}

// Hashes a random 3 MiB file and compares with the reference tool.
TEST(Sha256Test, MatchesSha256sumOnAFile) {
  const std::vector<std::byte> data = RandomBytes(3 * 1024 * 1024, 7);
  const std::filesystem::path path =
      std::filesystem::path(::testing::TempDir()) /
      ("bootrino_sha256_test_" + std::to_string(::getpid()) + ".bin");
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
    ASSERT_TRUE(out.good());
  }

  // Read it back in odd-sized pieces, as a download would arrive.
  Sha256 hasher;
  {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chunk(65537);
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      hasher.Update(std::string_view(chunk.data(),
                                     static_cast<std::size_t>(in.gcount())));
    }
  }
  const std::string ours = Sha256::Hex(hasher.Final());

  std::string reference;
  {
    const std::string command = "sha256sum '" + path.string() + "'";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char line[256] = {};
    if (std::fgets(line, sizeof(line), pipe) != nullptr) reference = line;
    ASSERT_EQ(::pclose(pipe), 0) << command;
  }
  std::filesystem::remove(path);
  ASSERT_GE(reference.size(), 64u) << reference;
  EXPECT_EQ(ours, reference.substr(0, 64));
}

}  // namespace
}  // namespace fetch

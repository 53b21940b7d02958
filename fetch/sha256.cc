#include "fetch/sha256.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#define FETCH_SHA256_X86 1
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__aarch64__)
#define FETCH_SHA256_ARM64 1
#include <arm_neon.h>
#include <sys/auxv.h>
#ifndef HWCAP_SHA2
// Linux arch/arm64 uapi value, for C libraries whose headers predate it.
#define HWCAP_SHA2 (1UL << 6)
#endif
#endif

namespace fetch {
namespace {

constexpr std::size_t kBlockSize = 64;

// FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the
// cube roots of the first 64 primes.
alignas(16) constexpr std::uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 section 5.3.3: the first 32 bits of the fractional parts of the
// square roots of the first 8 primes.
constexpr std::array<std::uint32_t, 8> kInitialState = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

// ---------------------------------------------------------------------------
// Portable implementation, straight from FIPS 180-4 section 6.2.2.

std::uint32_t LoadBigEndian32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
         (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

void BlocksPortable(std::uint32_t* state, const std::uint8_t* blocks,
                    std::size_t block_count) {
  std::uint32_t w[64];
  for (; block_count > 0; --block_count, blocks += kBlockSize) {
    for (int t = 0; t < 16; ++t) w[t] = LoadBigEndian32(blocks + 4 * t);
    for (int t = 16; t < 64; ++t) {
      const std::uint32_t s0 =
          std::rotr(w[t - 15], 7) ^ std::rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const std::uint32_t s1 =
          std::rotr(w[t - 2], 17) ^ std::rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = s1 + w[t - 7] + s0 + w[t - 16];
    }

    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; ++t) {
      const std::uint32_t big_sigma1 =
          std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25);
      const std::uint32_t choose = (e & f) ^ (~e & g);
      const std::uint32_t t1 =
          h + big_sigma1 + choose + kRoundConstants[t] + w[t];
      const std::uint32_t big_sigma0 =
          std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22);
      const std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
      const std::uint32_t t2 = big_sigma0 + majority;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

bool AlwaysSupported() { return true; }

// ---------------------------------------------------------------------------
// SHA instructions. Both architectures' instructions do four rounds at a time
// on the eight state words held in two vectors, and extend the message
// schedule four words at a time from the sixteen before; an `Ops` struct says
// how for one architecture, and Sha4x4Blocks drives the 64 rounds of each
// block with it. Only one architecture is compiled, so one target macro serves.

#if defined(FETCH_SHA256_X86)
#define FETCH_SHA_TARGET gnu::target("sha,sse4.1,ssse3")
#elif defined(FETCH_SHA256_ARM64)
#define FETCH_SHA_TARGET gnu::target("arch=armv8-a+crypto")
#endif

#if defined(FETCH_SHA_TARGET)

// `Ops` has: Vec, the vector of four 32-bit words; Load(state, s0, s1) and
// Store(s0, s1, state), between the chaining value and the instructions'
// layout; Words(p), the four big-endian message words at p; Rounds4(s0, s1, w,
// t), rounds t..t+3 with schedule words `w` (W[t] in lane 0); Schedule(w0, w1,
// w2, w3), W[t..t+3] from W[t-16..t-1]; and Add(a, b), lane-wise.
template <typename Ops>
[[FETCH_SHA_TARGET, gnu::always_inline]] inline void Sha4x4Blocks(std::uint32_t* state, const std::uint8_t* blocks,
                                                                  std::size_t block_count) {
  using Vec = typename Ops::Vec;
  Vec s0, s1;
  Ops::Load(state, s0, s1);
  for (; block_count > 0; --block_count, blocks += kBlockSize) {
    const Vec s0_in = s0;
    const Vec s1_in = s1;
    Vec w0 = Ops::Words(blocks + 0);
    Vec w1 = Ops::Words(blocks + 16);
    Vec w2 = Ops::Words(blocks + 32);
    Vec w3 = Ops::Words(blocks + 48);
    Ops::Rounds4(s0, s1, w0, 0);
    Ops::Rounds4(s0, s1, w1, 4);
    Ops::Rounds4(s0, s1, w2, 8);
    Ops::Rounds4(s0, s1, w3, 12);
#pragma GCC unroll 12
    for (int t = 16; t < 64; t += 4) {
      const Vec w4 = Ops::Schedule(w0, w1, w2, w3);
      Ops::Rounds4(s0, s1, w4, t);
      w0 = w1;
      w1 = w2;
      w2 = w3;
      w3 = w4;
    }
    s0 = Ops::Add(s0, s0_in);
    s1 = Ops::Add(s1, s1_in);
  }
  Ops::Store(s0, s1, state);
}

#endif  // FETCH_SHA_TARGET

// x86 SHA extensions. SHA256RNDS2 does two rounds on a state split across two
// registers as {A,B,E,F} and {C,D,G,H} (A in the most significant lane), so
// the chaining value is rearranged into that layout once per call rather than
// once per block.

#if defined(FETCH_SHA256_X86)

struct ShaNiOps {
  using Vec = __m128i;

  // {a,b,c,d},{e,f,g,h} (a in lane 0) -> {A,B,E,F},{C,D,G,H} (A in lane 3).
  // Variable names list the lanes from most to least significant.
  [[FETCH_SHA_TARGET, gnu::always_inline]] static void Load(const std::uint32_t* state, Vec& abef, Vec& cdgh) {
    const Vec dcba = _mm_loadu_si128(reinterpret_cast<const Vec*>(state));
    const Vec hgfe = _mm_loadu_si128(reinterpret_cast<const Vec*>(state + 4));
    const Vec cdab = _mm_shuffle_epi32(dcba, 0xB1);
    const Vec efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    abef = _mm_alignr_epi8(cdab, efgh, 8);
    cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
  }

  // Inverse of Load.
  [[FETCH_SHA_TARGET, gnu::always_inline]] static void Store(Vec abef, Vec cdgh, std::uint32_t* state) {
    const Vec feba = _mm_shuffle_epi32(abef, 0x1B);
    const Vec dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128(reinterpret_cast<Vec*>(state), _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128(reinterpret_cast<Vec*>(state + 4), _mm_alignr_epi8(dchg, feba, 8));
  }

  [[FETCH_SHA_TARGET, gnu::always_inline]] static Vec Words(const std::uint8_t* p) {
    // Reverses the bytes of each 32-bit lane.
    const Vec byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    return _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const Vec*>(p)), byte_swap);
  }

  // Each SHA256RNDS2 returns the new {A,B,E,F}; the previous {A,B,E,F} is
  // exactly the new {C,D,G,H}, so writing the results alternately into the
  // two variables leaves both named correctly afterwards.
  [[FETCH_SHA_TARGET, gnu::always_inline]] static void Rounds4(Vec& abef, Vec& cdgh, Vec w, int t) {
    const Vec wk = _mm_add_epi32(w, _mm_load_si128(reinterpret_cast<const Vec*>(kRoundConstants + t)));
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
  }

  // SHA256MSG1 adds sigma0 terms, the ALIGNR supplies W[t-7..t-4], and
  // SHA256MSG2 adds sigma1 terms (including those that depend on the words
  // being computed).
  [[FETCH_SHA_TARGET, gnu::always_inline]] static Vec Schedule(Vec w0, Vec w1, Vec w2, Vec w3) {
    const Vec partial = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
    return _mm_sha256msg2_epu32(partial, w3);
  }

  [[FETCH_SHA_TARGET, gnu::always_inline]] static Vec Add(Vec a, Vec b) { return _mm_add_epi32(a, b); }
};

[[FETCH_SHA_TARGET]] void BlocksShaNi(std::uint32_t* state, const std::uint8_t* blocks, std::size_t block_count) {
  Sha4x4Blocks<ShaNiOps>(state, blocks, block_count);
}

bool CpuHasShaNi() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool ssse3 = (ecx & bit_SSSE3) != 0;
  const bool sse41 = (ecx & bit_SSE4_1) != 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool sha = (ebx & (1U << 29)) != 0;  // CPUID.(EAX=7,ECX=0):EBX.SHA
  return ssse3 && sse41 && sha;
}

#endif  // FETCH_SHA256_X86

// ARMv8 cryptography extensions. SHA256H/SHA256H2 do four rounds on the
// natural {a,b,c,d},{e,f,g,h} layout; SHA256SU0/SU1 extend the schedule.

#if defined(FETCH_SHA256_ARM64)

struct Armv8CeOps {
  using Vec = uint32x4_t;

  [[FETCH_SHA_TARGET, gnu::always_inline]] static void Load(const std::uint32_t* state, Vec& abcd, Vec& efgh) {
    abcd = vld1q_u32(state);
    efgh = vld1q_u32(state + 4);
  }

  [[FETCH_SHA_TARGET, gnu::always_inline]] static void Store(Vec abcd, Vec efgh, std::uint32_t* state) {
    vst1q_u32(state, abcd);
    vst1q_u32(state + 4, efgh);
  }

  [[FETCH_SHA_TARGET, gnu::always_inline]] static Vec Words(const std::uint8_t* p) {
    return vreinterpretq_u32_u8(vrev32q_u8(vld1q_u8(p)));
  }

  [[FETCH_SHA_TARGET, gnu::always_inline]] static void Rounds4(Vec& abcd, Vec& efgh, Vec w, int t) {
    const Vec wk = vaddq_u32(w, vld1q_u32(kRoundConstants + t));
    const Vec abcd_in = abcd;  // SHA256H2 needs the pre-round value.
    abcd = vsha256hq_u32(abcd, efgh, wk);
    efgh = vsha256h2q_u32(efgh, abcd_in, wk);
  }

  [[FETCH_SHA_TARGET, gnu::always_inline]] static Vec Schedule(Vec w0, Vec w1, Vec w2, Vec w3) {
    return vsha256su1q_u32(vsha256su0q_u32(w0, w1), w2, w3);
  }

  [[FETCH_SHA_TARGET, gnu::always_inline]] static Vec Add(Vec a, Vec b) { return vaddq_u32(a, b); }
};

[[FETCH_SHA_TARGET]] void BlocksArmv8Ce(std::uint32_t* state, const std::uint8_t* blocks, std::size_t block_count) {
  Sha4x4Blocks<Armv8CeOps>(state, blocks, block_count);
}

bool CpuHasArmv8Sha2() { return (getauxval(AT_HWCAP) & HWCAP_SHA2) != 0; }

#endif  // FETCH_SHA256_ARM64

#undef FETCH_SHA_TARGET

// ---------------------------------------------------------------------------
// Dispatch.

struct Implementation {
  std::string_view name;
  internal::Sha256BlockFunction blocks;
  bool (*supported)();
};

// Fastest first; the portable one last so it is the fallback.
constexpr Implementation kImplementations[] = {
#if defined(FETCH_SHA256_X86)
    {"sha-ni", &BlocksShaNi, &CpuHasShaNi},
#endif
#if defined(FETCH_SHA256_ARM64)
    {"armv8-ce", &BlocksArmv8Ce, &CpuHasArmv8Sha2},
#endif
    {"portable", &BlocksPortable, &AlwaysSupported},
};

const Implementation& Detected() {
  // Function-local static: the CPU is probed once, thread-safely.
  static const Implementation& detected = *std::find_if(
      std::begin(kImplementations), std::end(kImplementations),
      [](const Implementation& impl) { return impl.supported(); });
  return detected;
}

// Set only by the test hook; null means "use Detected()".
std::atomic<const Implementation*> forced_implementation{nullptr};

const Implementation& Active() {
  const Implementation* forced =
      forced_implementation.load(std::memory_order_acquire);
  return forced != nullptr ? *forced : Detected();
}

}  // namespace

Sha256::Sha256() : block_function_(Active().blocks) { Reset(); }

void Sha256::Reset() {
  state_ = kInitialState;
  buffer_size_ = 0;
  total_bytes_ = 0;
}

void Sha256::Update(std::span<const std::byte> data) {
  const auto* in = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t size = data.size();
  total_bytes_ += size;

  if (buffer_size_ > 0) {
    const std::size_t take = std::min(size, kBlockSize - buffer_size_);
    std::memcpy(buffer_.data() + buffer_size_, in, take);
    buffer_size_ += take;
    in += take;
    size -= take;
    if (buffer_size_ < kBlockSize) return;
    block_function_(state_.data(), buffer_.data(), 1);
    buffer_size_ = 0;
  }

  // Whole blocks go straight from the caller's memory, with no copy.
  const std::size_t block_count = size / kBlockSize;
  if (block_count > 0) {
    block_function_(state_.data(), in, block_count);
    in += block_count * kBlockSize;
    size -= block_count * kBlockSize;
  }

  if (size > 0) {
    std::memcpy(buffer_.data(), in, size);
    buffer_size_ = size;
  }
}

void Sha256::Update(std::string_view data) {
  Update(std::as_bytes(std::span(data.data(), data.size())));
}

Sha256Digest Sha256::Final() {
  // FIPS 180-4 section 5.1.1: a 1 bit, zeros up to 56 mod 64 bytes, then the
  // message length in bits as a 64-bit big-endian integer.
  const std::uint64_t total_bits = total_bytes_ * 8;
  buffer_[buffer_size_++] = 0x80;
  if (buffer_size_ > kBlockSize - 8) {
    std::fill(buffer_.begin() + buffer_size_, buffer_.end(), 0);
    block_function_(state_.data(), buffer_.data(), 1);
    buffer_size_ = 0;
  }
  std::fill(buffer_.begin() + buffer_size_, buffer_.end() - 8, 0);
  for (int i = 0; i < 8; ++i) {
    buffer_[kBlockSize - 1 - i] =
        static_cast<std::uint8_t>(total_bits >> (8 * i));
  }
  block_function_(state_.data(), buffer_.data(), 1);

  Sha256Digest digest;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    digest[4 * i + 0] = static_cast<std::uint8_t>(state_[i] >> 24);
    digest[4 * i + 1] = static_cast<std::uint8_t>(state_[i] >> 16);
    digest[4 * i + 2] = static_cast<std::uint8_t>(state_[i] >> 8);
    digest[4 * i + 3] = static_cast<std::uint8_t>(state_[i]);
  }
  Reset();
  return digest;
}

std::string Sha256::Hex(const Sha256Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest.size());
  for (const std::uint8_t byte : digest) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

std::string_view Sha256Implementation() { return Active().name; }

namespace internal {

std::vector<std::string_view> Sha256AvailableImplementations() {
  std::vector<std::string_view> names;
  for (const Implementation& impl : kImplementations) {
    if (impl.supported()) names.push_back(impl.name);
  }
  return names;
}

bool Sha256ForceImplementation(std::string_view name) {
  for (const Implementation& impl : kImplementations) {
    if (impl.name == name && impl.supported()) {
      forced_implementation.store(&impl, std::memory_order_release);
      return true;
    }
  }
  return false;
}

void Sha256ResetImplementation() {
  forced_implementation.store(nullptr, std::memory_order_release);
}

}  // namespace internal
}  // namespace fetch

// Streaming SHA-256 (FIPS 180-4) for download verification.
//
// mbedTLS 3.6 has no x86 SHA-NI code path, so verifying large downloads with
// it is several times slower than the hardware allows. This implementation
// picks, once per process, the fastest block function the running CPU
// supports: x86 SHA extensions, ARMv8 cryptography extensions, or a portable
// C++ fallback. The file builds without any special compiler flags; the
// accelerated functions carry their own target attributes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fetch {

/// Size of a SHA-256 digest in bytes.
inline constexpr std::size_t kSha256DigestSize = 32;

/// A raw SHA-256 digest, most significant byte of the first word first (the
/// same byte order `sha256sum` prints).
using Sha256Digest = std::array<std::uint8_t, kSha256DigestSize>;

namespace internal {

/// Compresses `block_count` consecutive 64-byte blocks starting at `blocks`
/// into the eight-word chaining value `state` (FIPS 180-4 section 6.2.2).
/// `blocks` needs no particular alignment.
using Sha256BlockFunction = void (*)(std::uint32_t* state,
                                     const std::uint8_t* blocks,
                                     std::size_t block_count);

}  // namespace internal

/// Incremental SHA-256 hasher.
///
/// Feed the message in any number of Update() calls of any sizes, then call
/// Final(). The digest depends only on the concatenated bytes, never on how
/// they were split. An object is not thread-safe, but distinct objects may be
/// used concurrently.
class Sha256 {
 public:
  /// Starts a new, empty message using the implementation that
  /// Sha256Implementation() names at the time of construction.
  Sha256();

  /// Appends `data` to the message. Messages of up to 2^61 - 1 bytes are
  /// supported (the FIPS 180-4 limit of 2^64 - 1 bits).
  void Update(std::span<const std::byte> data);

  /// Appends the bytes of `data` to the message (no terminator is hashed).
  void Update(std::string_view data);

  /// Returns the digest of everything passed to Update() since construction
  /// or the previous Final(), and resets the object to an empty message so it
  /// can be reused.
  Sha256Digest Final();

  /// Returns `digest` as 64 lowercase hexadecimal characters, as printed by
  /// `sha256sum`.
  static std::string Hex(const Sha256Digest& digest);

 private:
  void Reset();

  internal::Sha256BlockFunction block_function_;
  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffer_size_;    // Bytes of buffer_ holding pending input.
  std::uint64_t total_bytes_;  // Message length so far, for the padding.
};

/// Names the block function that newly constructed Sha256 objects use:
/// "sha-ni" (x86 SHA extensions), "armv8-ce" (ARMv8 cryptography extensions)
/// or "portable". Detection runs once per process; unless a test forced
/// another implementation, the result is the fastest one this CPU supports.
std::string_view Sha256Implementation();

namespace internal {

/// Lists the implementations this CPU can run, fastest first; "portable" is
/// always present and always last.
std::vector<std::string_view> Sha256AvailableImplementations();

/// Test and benchmark hook: makes Sha256 objects constructed from now on use
/// implementation `name`. Returns false, changing nothing, if `name` is not
/// one of Sha256AvailableImplementations(). Objects that already exist keep
/// the implementation they started with.
bool Sha256ForceImplementation(std::string_view name);

/// Undoes Sha256ForceImplementation(): back to the detected best choice.
void Sha256ResetImplementation();

}  // namespace internal
}  // namespace fetch

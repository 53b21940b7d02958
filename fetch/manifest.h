// The bootrino.sh manifest: a POSIX shell script whose JSON metadata block
// (a heredoc read into BOOTRINOJSON) bootrino parses without executing it.
//
// Format v0 (the original bootrino) has metadata only; format v1 adds a
// "boot" object describing per-architecture payloads. docs/manifest.md is the
// reference for every field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/base.h"

namespace fetch {

/// One file the RAM OS needs, as the manifest declares it.
struct PayloadFile {
  std::string name;                  ///< relative path in the stage dir and on the boot partition
  std::string url;                   ///< as written: absolute, or relative to the manifest's URL
  std::vector<std::string> mirrors;  ///< further URLs tried in order, same resolution rules
  std::uint64_t size = 0;            ///< exact size in bytes
  std::string sha256;                ///< 64 lowercase hex digits
};

/// What one architecture boots: a kernel, initrds concatenated in order, extra files.
struct ArchPayload {
  PayloadFile kernel;
  std::vector<PayloadFile> initrds;
  std::vector<PayloadFile> files;  ///< extra files for the boot partition (modloop, apkovl, .tcz …)
  std::string cmdline;

  /// Kernel, then initrds, then files: the order they are fetched and listed.
  std::vector<const PayloadFile*> All() const;
};

/// How the RAM OS takes the personalisation bootrino generates (SSH keys, hostname, network).
enum class Personalisation { kNone, kInitramfsOverlay, kAlpineApkovl, kTinyCoreMydata };
std::string_view PersonalisationName(Personalisation p);

struct DiskSpec {
  std::uint64_t boot_partition_mib = 512;
  std::string data_label = "bootrino-data";
  std::string data_filesystem = "ext4";
};

struct HookSpec {
  std::string function;  ///< shell function defined in the manifest script
  int timeout_seconds = 60;
};

/// Orders architectures by name, as the manifest's keys sort: inspect and the messages list them in that order.
struct ArchNameOrder {
  bool operator()(base::Arch a, base::Arch b) const { return base::ArchName(a) < base::ArchName(b); }
};

struct BootSection {
  int schema = 1;
  std::uint64_t min_ram_mib = 0;
  Personalisation personalisation = Personalisation::kNone;
  DiskSpec disk;
  std::optional<HookSpec> after_stage;  ///< run on the host after staging, before any change
  std::map<base::Arch, ArchPayload, ArchNameOrder> architectures;
};

struct Author {
  std::string name, email, url;
};

/// Descriptive fields shared by v0 and v1.
struct Metadata {
  std::string name, version, version_date, description, options;
  std::string logo_url, readme_url, launch_targets_url, website_url;
  Author author;
  std::vector<std::string> tags;
};

struct Manifest {
  Metadata meta;
  std::optional<BootSection> boot;  ///< absent in v0 manifests
  std::string json;                 ///< the metadata block's text, as found

  /// The payload for `arch`, or a kManifest error that says which ones exist.
  base::Result<const ArchPayload*> PayloadFor(base::Arch arch) const;
};

/// Largest manifest accepted; real ones are a few KiB.
inline constexpr std::size_t kMaxManifestBytes = 1 << 20;

/// Largest payload file and minRamMiB accepted: far beyond any RAM OS, and
/// small enough that no sum bootrino makes of them (a 1 MiB manifest holds at
/// most a few ten thousand files) can wrap around and pass the RAM check.
inline constexpr std::uint64_t kMaxPayloadFileBytes = 1ull << 40;  // 1 TiB
inline constexpr std::uint64_t kMaxMinRamMiB = 1ull << 30;         // 1 PiB

/// Parses a bootrino.sh script. Errors are kManifest and name the line at fault.
[[nodiscard]] base::Result<Manifest> ParseManifest(std::string_view script);

}  // namespace fetch

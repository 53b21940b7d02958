// What bootrino tells the world while it works: one structured event (a JSON
// line) per phase to --json-events, human lines and progress on stderr.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "fetch/fetch.h"
#include "observe/status.h"

namespace observe {

/// `text` as bootrino shows it to a person: URL credentials redacted, then
/// control characters and bytes that are not UTF-8 escaped (base::PrintableText),
/// newlines included. Every line of text output built from a manifest, a
/// server or a message goes through it.
std::string Shown(std::string_view text);

/// The phases of the pipeline (docs/architecture.md), as the events, the status URL and error reports name
/// them: one list, so a phase cannot be misspelt.
enum class Phase {
  kStart,
  kPreflight,
  kUserdata,
  kInstance,
  kNetwork,
  kManifest,
  kPlanStage,
  kStage,
  kFetch,
  kHook,
  kPlan,
  kPlanDisk,
  kDisk,
  kImage,
  kLoad,
  kCommit,
  kBoot,
};

/// "plan-disk" for Phase::kPlanDisk.
std::string_view PhaseName(Phase phase);

class Events {
 public:
  /// `json_path` may be empty (no event file). Fails when it cannot be opened.
  [[nodiscard]] base::Result<void> Open(const std::string& json_path);
  ~Events();

  /// Records that `phase` began/ended: {"time":…, "phase":…, "status":…, …fields}.
  void Emit(Phase phase, const std::string& status, nlohmann::ordered_json fields = nlohmann::ordered_json::object());
  /// A line for the person watching (stderr).
  void Say(const std::string& line);
  void Warn(const std::string& line);
  /// Stops writing the event file when it lives on one of `devices` (st_dev),
  /// which are about to be frozen; a write there would block forever.
  /// Returns true when it did.
  bool StopFileOn(const std::vector<dev_t>& devices);
  /// POSTs every event to `url` from now on (best effort, in the background),
  /// trusting `ca_file` for https (empty: as the downloads do without --ca-file).
  void ReportTo(const std::string& url, const std::string& ca_file);
  /// Sends queued status events (bounded wait) before a fork or a reboot.
  void FlushStatus();
  /// Seconds since this Events was made (bootrino's start), as "1.23".
  std::string Elapsed() const;

 private:
  std::FILE* json_ = nullptr;
  std::unique_ptr<StatusPoster> status_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// Progress of a set of downloads: a live bar per file on a terminal, a line
/// every few seconds and at each 10 % elsewhere (cloud consoles, logs).
class Progress : public fetch::TransferObserver {
 public:
  Progress(Events& events, std::vector<std::pair<std::string, std::uint64_t>> files, bool tty);
  void OnProgress(std::size_t index, std::uint64_t done) override;
  void OnRetry(std::size_t index, const std::string& url, const std::string& reason, double delay_s) override;
  void OnDone(std::size_t index, const fetch::DownloadResult& result) override;
  /// Draws the final state (terminal) once every file is done.
  void Finish();

 private:
  struct File {
    std::string name;
    std::uint64_t total = 0, done = 0;
    int last_decile = -1;
  };
  void Draw(bool force);
  std::string Line(const File& f) const;

  Events& events_;
  std::vector<File> files_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_{}, last_line_{};
};

}  // namespace observe

#include "observe/events.h"

#include <algorithm>
#include <ctime>

#include <sys/stat.h>

#include "base/base.h"
#include "fetch/fetch.h"

namespace observe {
namespace {

std::string Now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char buf[64];
  std::size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1000000);
  return buf;
}

std::string Mib(std::uint64_t bytes) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// Every string in an event is redacted: a URL with credentials must not reach
// the event file or the status endpoint from any field (messages included).
void RedactStrings(nlohmann::ordered_json& value) {
  if (value.is_string()) {
    value = fetch::RedactUrlsInText(value.get_ref<const std::string&>());
  } else if (value.is_structured()) {
    for (auto& item : value) RedactStrings(item);
  }
}

}  // namespace

base::Result<void> Events::Open(const std::string& json_path) {
  if (json_path.empty()) return {};
  json_ = std::fopen(json_path.c_str(), "ae");
  if (!json_) {
    return base::Fail(base::ErrorKind::kUsage, "--json-events " + json_path + ": cannot open for appending");
  }
  return {};
}

Events::~Events() {
  if (json_) std::fclose(json_);
}

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kStart: return "start";
    case Phase::kPreflight: return "preflight";
    case Phase::kUserdata: return "userdata";
    case Phase::kInstance: return "instance";
    case Phase::kNetwork: return "network";
    case Phase::kManifest: return "manifest";
    case Phase::kPlanStage: return "plan-stage";
    case Phase::kStage: return "stage";
    case Phase::kFetch: return "fetch";
    case Phase::kHook: return "hook";
    case Phase::kPlan: return "plan";
    case Phase::kPlanDisk: return "plan-disk";
    case Phase::kDisk: return "disk";
    case Phase::kImage: return "image";
    case Phase::kLoad: return "load";
    case Phase::kCommit: return "commit";
    case Phase::kBoot: return "boot";
  }
  return "?";
}

void Events::Emit(Phase phase, const std::string& status, nlohmann::ordered_json fields) {
  if (!json_ && !status_) return;
  nlohmann::ordered_json event = {{"time", Now()}, {"phase", PhaseName(phase)}, {"status", status}};
  RedactStrings(fields);
  for (auto& [key, value] : fields.items()) event[key] = value;
  std::string line = event.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  if (status_) status_->Post(line);
  if (!json_) return;
  std::fputs((line + "\n").c_str(), json_);
  std::fflush(json_);
}

void Events::ReportTo(const std::string& url, const std::string& ca_file) {
  if (!url.empty()) status_ = std::make_unique<StatusPoster>(url, ca_file.empty() ? fetch::SystemCaBundle() : ca_file);
}

void Events::FlushStatus() {
  if (status_) status_->Flush(std::chrono::seconds(3));
}

bool Events::StopFileOn(const std::vector<dev_t>& devices) {
  struct stat st;
  if (!json_ || fstat(fileno(json_), &st) != 0) return false;
  if (std::find(devices.begin(), devices.end(), st.st_dev) == devices.end()) return false;
  std::fclose(json_);
  json_ = nullptr;
  return true;
}

std::string Events::Elapsed() const {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f",
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  return buf;
}

std::string Shown(std::string_view text) { return base::PrintableText(fetch::RedactUrlsInText(text), false); }

void Events::Say(const std::string& line) { std::fprintf(stderr, "bootrino: %s\n", Shown(line).c_str()); }
void Events::Warn(const std::string& line) { std::fprintf(stderr, "bootrino: warning: %s\n", Shown(line).c_str()); }

Progress::Progress(Events& events, std::vector<std::pair<std::string, std::uint64_t>> files, bool tty)
    : events_(events), tty_(tty), start_(std::chrono::steady_clock::now()) {
  for (auto& [name, total] : files) files_.push_back(File{name, total, 0, -1});
  last_line_ = start_;
}

std::string Progress::Line(const File& f) const {
  constexpr int kWidth = 24;
  double fraction = f.total ? static_cast<double>(f.done) / static_cast<double>(f.total) : 0;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  char buf[256];
  snprintf(buf, sizeof buf, "  %-28.28s [%s] %3d%% %s / %s", f.name.c_str(), bar.c_str(),
           static_cast<int>(fraction * 100), Mib(f.done).c_str(), Mib(f.total).c_str());
  return buf;
}

void Progress::Draw(bool force) {
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::string out;
  // Move back up over the bars drawn last time and redraw them in place.
  if (drawn_) out += "\x1b[" + std::to_string(files_.size()) + "A";
  for (const File& f : files_) out += "\r" + Line(f) + "\x1b[K\n";
  std::fputs(out.c_str(), stderr);
  drawn_ = true;
}

void Progress::OnProgress(std::size_t index, std::uint64_t done) {
  File& f = files_[index];
  f.done = done;
  if (tty_) return Draw(false);
  int decile = f.total ? static_cast<int>(done * 10 / f.total) : 0;
  auto now = std::chrono::steady_clock::now();
  if (decile > f.last_decile || now - last_line_ >= std::chrono::seconds(5)) {
    f.last_decile = decile;
    last_line_ = now;
    std::fprintf(stderr, "bootrino: fetch%s\n", Line(f).c_str() + 1);
  }
}

void Progress::OnRetry(std::size_t index, const std::string& url, const std::string& reason, double delay_s) {
  char delay[32] = "";
  if (delay_s > 0) snprintf(delay, sizeof delay, "; retrying in %.1f s", delay_s);
  std::string line = files_[index].name + ": " + url + ": " + reason + delay;
  if (tty_ && drawn_) std::fputs(("\x1b[" + std::to_string(files_.size()) + "A\x1b[J").c_str(), stderr), drawn_ = false;
  events_.Warn(line);
  events_.Emit(observe::Phase::kFetch, "retry",
               {{"file", files_[index].name}, {"url", url}, {"reason", reason}, {"delay_s", delay_s}});
}

void Progress::OnDone(std::size_t index, const fetch::DownloadResult& result) {
  File& f = files_[index];
  f.done = result.bytes;
  events_.Emit(observe::Phase::kFetch, "file-verified",
               {{"file", f.name}, {"url", result.url}, {"bytes", result.bytes}, {"sha256", result.sha256},
                {"requests", result.requests}});
  if (tty_) Draw(true);
}

void Progress::Finish() {
  if (tty_) Draw(true);
}

}  // namespace observe

#include "fetch/transfer.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>

#include <curl/curl.h>
#include <unistd.h>

#include "base/base.h"
#include "fetch/block_writer.h"
#include "fetch/segments.h"
#include "fetch/sha256.h"
#include "fetch/url.h"
#include "net/net.h"

namespace fetch {
namespace {

using base::ErrorKind;
using Clock = std::chrono::steady_clock;

using CurlEasy = base::CHandle<CURL, curl_easy_cleanup>;
using CurlMulti = base::CHandle<CURLM, curl_multi_cleanup>;

/// How one try of one URL ended.
enum class Outcome {
  kDone,       // this transfer has all its bytes (a stream: its file is verified; a segment: its range is in)
  kRetry,      // try the same URL again after the backoff
  kNextUrl,    // try the file's current URL (the next mirror) now
  kReplanned,  // the whole file starts over: its transfers were replaced (the one finishing is gone)
  kFatal,      // stop everything
};

struct FileJob;

/// One transfer into a file: the whole file in one stream, or one segment of
/// a split file (fetch/segments.h), across its tries.
struct Job {
  FileJob* file = nullptr;
  // A segment asks for bytes [start, *end) with Range. A stream has no end
  // (the Download's max_size bounds it) and asks for a Range only to resume.
  std::uint64_t start = 0;
  std::optional<std::uint64_t> end;
  std::size_t url_index = 0;  // the URL of the current try
  int tries_of_url = 0;
  // The position in the file of the next byte. The writer hashes and writes
  // on its own thread and may be a few blocks behind: whatever reads this as a
  // position in the file (a Range, the size check) or reads the hash must
  // Flush the writer first.
  std::uint64_t offset = 0;
  std::uint64_t offset_at_start = 0;  // where the current try started (its Range)
  bool first_write = true;
  std::unique_ptr<Sink> segment_sink;   // a segment's: places its bytes in the file, tells the hasher
  std::unique_ptr<BlockWriter> writer;  // from the first Start until the job is done
  bool paused = false;                  // OnBody paused the transfer: the writer had no room
  std::size_t paused_bytes = 0;         // the refused callback's size: curl delivers it again on resume
  CurlEasy easy;                        // while a try is in the multi handle
  Clock::time_point not_before{};       // backoff: do not start before this
  // Set by the callbacks to say why they stopped the transfer.
  bool oversize = false;
  bool range_ignored = false;                  // a segment's Range was answered with the whole file
  std::optional<std::uint64_t> range_total;    // the file's size in this response's Content-Range
  bool done = false;
  char errbuf[CURL_ERROR_SIZE] = {};  // curl's detail for the current try
};

/// The state of one Download across its transfers, tries and mirrors.
struct FileJob {
  const Download* download = nullptr;
  TransferObserver* observer = nullptr;
  std::size_t index = 0;
  std::size_t url_index = 0;  // the URL new tries use: the first one not given up on
  int requests = 0;
  int running = 0;            // its transfers in the multi handle
  std::uint64_t done = 0;     // bytes accepted, each counted once whichever transfer brought it
  bool one_stream = false;    // a server ignored Range: never split this file again
  bool complete = false;
  std::vector<std::unique_ptr<Job>> jobs;
  std::unique_ptr<OrderedHasher> hasher;  // a split file's; a stream's writer hashes
  std::optional<base::Error> failure;     // a Sink or hashing failure: fatal
  std::vector<std::string> failures;      // one line per URL given up on
  bool verification_failed = false;       // the last URL given up on failed a check
  bool tls_failed = false;                // the last URL given up on had an untrusted certificate
};

/// A segment's view of its file: the writer counts from 0, the file from the
/// segment's start; each block written is reported to the file's hasher.
class SegmentSink : public Sink {
 public:
  SegmentSink(Sink* file, std::uint64_t start, OrderedHasher* hasher) : file_(file), start_(start), hasher_(hasher) {}
  base::Result<void> Write(std::uint64_t offset, std::span<const char> bytes) override {
    RETURN_IF_ERROR(file_->Write(start_ + offset, bytes));
    hasher_->Written(start_ + offset, bytes);
    return {};
  }
  base::Result<void> Truncate(std::uint64_t) override {
    return base::Fail(ErrorKind::kInternal, "a segment of a split file was asked to start over alone");
  }
  base::Result<void> Read(std::uint64_t offset, std::span<char> bytes) override {
    return file_->Read(start_ + offset, bytes);
  }

 private:
  Sink* const file_;
  const std::uint64_t start_;
  OrderedHasher* const hasher_;
};

std::once_flag curl_init_once;

std::string Detail(const Job& job, CURLcode code) {
  std::string detail = job.errbuf[0] ? std::string(job.errbuf) : std::string(curl_easy_strerror(code));
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  return detail;
}

std::string FormatBytes(std::uint64_t n) { return std::to_string(n) + " bytes"; }

// "bytes=A-B" as a segment asks for it.
std::string RangeText(const Job& job) {
  return "bytes " + std::to_string(job.start) + "-" + std::to_string(*job.end - 1);
}

// Drops every byte a stream accepted so far: the next ones go to offset 0 and a fresh hash.
base::Result<void> StartOver(Job& job) {
  RETURN_IF_ERROR(job.writer->Restart());
  job.file->done -= job.offset;
  job.offset = 0;
  job.offset_at_start = 0;
  return {};
}

// Checks what the response's status and length say before its first byte is
// taken; false stops the transfer (the job says why).
bool AcceptResponse(Job& job) {
  const Download& d = *job.file->download;
  long status = 0;
  curl_easy_getinfo(job.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  if (job.end) {
    if (status != 206) {  // the whole file, not our range: no segment can use it
      job.range_ignored = true;
      return false;
    }
    if (job.range_total && d.size && *job.range_total != *d.size) return false;
  } else if (job.offset > 0 && status == 200) {
    // The server ignored our Range and sends the whole file: start over.
    if (auto r = StartOver(job); !r) {
      job.file->failure = std::move(r).error();
      return false;
    }
  }
  curl_off_t length = -1;
  curl_easy_getinfo(job.easy.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  const std::uint64_t limit = job.end ? *job.end : d.max_size;
  if (length >= 0 && job.offset + static_cast<std::uint64_t>(length) > limit) {
    job.oversize = true;
    return false;
  }
  return true;
}

// A write callback's refusal must stop the transfer; returning fewer bytes
// than offered makes curl fail it with CURLE_WRITE_ERROR.
size_t OnBody(char* data, size_t one, size_t count, void* user) {
  Job& job = *static_cast<Job*>(user);
  FileJob& file = *job.file;
  const size_t n = one * count;
  if (job.first_write) {
    job.first_write = false;
    if (!AcceptResponse(job)) return 0;
  }
  if (job.offset + n > (job.end ? *job.end : file.download->max_size)) {
    job.oversize = true;
    return 0;
  }
  // Waiting for the writer here would stall every other transfer on this
  // thread; curl keeps the bytes and delivers them again on resume.
  if (job.writer->WouldWait(n)) {
    job.paused = true;
    job.paused_bytes = n;
    return CURL_WRITEFUNC_PAUSE;
  }
  // The error may be an earlier block's: the writer is behind, and stops at its first.
  if (auto r = job.writer->Append(std::span<const char>(data, n)); !r) {
    if (!file.failure) file.failure = std::move(r).error();
    return 0;
  }
  job.offset += n;
  file.done += n;
  file.observer->OnProgress(file.index, file.done);
  return n;
}

// A segment reads the file's size from "Content-Range: bytes A-B/SIZE", so a
// file that differs from the manifest's is named as such, not as a bad hash.
size_t OnHeader(char* data, size_t one, size_t count, void* user) {
  Job& job = *static_cast<Job*>(user);
  const std::string_view line(data, one * count);
  constexpr std::string_view kName = "content-range:";
  if (line.starts_with("HTTP/")) {
    job.range_total.reset();  // a new response (a redirect was followed)
  } else if (line.size() > kName.size() &&
             std::equal(kName.begin(), kName.end(), line.begin(),
                        [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    const std::size_t slash = line.find('/');
    std::uint64_t total = 0;
    if (slash != std::string_view::npos &&
        std::from_chars(line.data() + slash + 1, line.data() + line.size(), total).ec == std::errc()) {
      job.range_total = total;
    }
  }
  return one * count;
}

bool IsRetryableStatus(long status) { return status == 408 || status == 425 || status == 429 || status >= 500; }

bool IsRetryableCurlCode(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

/// What a failed try says, for a stream and a segment alike.
struct TryEnd {
  std::string why;
  bool retry = false;
  bool check_failed = false;  // the bytes do not match the manifest: worthless
  bool tls_failed = false;
};

// Why a try that curl ended with an error failed (not the HTTP status: the callers word those).
TryEnd CurlFailure(const Job& job, CURLcode code) {
  TryEnd t;
  if (code == CURLE_UNSUPPORTED_PROTOCOL) {
    t.why = "refused a redirect to another protocol (" + Detail(job, code) +
            "); bootrino never follows https to plain http";
  } else if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
    t.why = "TLS certificate not trusted: " + Detail(job, code);
    t.tls_failed = true;
  } else {
    t.why = Detail(job, code);
    t.retry = IsRetryableCurlCode(code);
    if (job.offset > job.offset_at_start || code == CURLE_PARTIAL_FILE) {
      t.why += " after " + FormatBytes(job.offset - job.start);
    }
  }
  return t;
}

class Transfers {
 public:
  Transfers(const std::vector<Download>& downloads, const TransferOptions& options, TransferObserver& observer)
      : options_(options), observer_(observer), ca_file_(options.ca_file.empty() ? SystemCaBundle() : options.ca_file) {
    files_.resize(downloads.size());
    for (std::size_t i = 0; i < downloads.size(); ++i) {
      files_[i].download = &downloads[i];
      files_[i].index = i;
      files_[i].observer = &observer;
    }
  }
  // Writers and hashers first: their threads call curl_multi_wakeup until they
  // are joined. (Run returns early on a fatal error while transfers are mid-stream.)
  ~Transfers() {
    for (FileJob& file : files_) {
      for (auto& job : file.jobs) job->writer.reset();
      file.hasher.reset();
    }
  }

  base::Result<std::vector<DownloadResult>> Run() {
    multi_.reset(curl_multi_init());
    if (!multi_) return base::Fail(ErrorKind::kInternal, "curl_multi_init failed");
    results_.resize(files_.size());
    std::size_t remaining = files_.size();
    for (FileJob& file : files_) Plan(file);
    while (remaining > 0) {
      // A signal asked bootrino to stop: every transfer ends here (the loop wakes at least every second).
      if (int sig = base::InterruptSignal()) {
        return base::Fail(ErrorKind::kNetwork, "transfers aborted: bootrino received " + base::SignalName(sig));
      }
      RETURN_IF_ERROR(StartWaiting());
      if (FileJob* failed = ResumeCaughtUp()) return base::Fail(Failure(*failed));
      int still_running = 0;
      curl_multi_perform(multi_.get(), &still_running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Job* job = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &job);
        FileJob& file = *job->file;
        const CURLcode code = msg->data.result;
        long status = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle(multi_.get(), msg->easy_handle);
        job->easy.reset();
        --running_;
        --file.running;
        switch (job->end ? FinishSegment(*job, code, status) : FinishStream(*job, code, status)) {
          case Outcome::kDone:
            if (file.complete) --remaining;
            break;
          case Outcome::kRetry:
          case Outcome::kNextUrl:
            waiting_.push_back(job);
            break;
          case Outcome::kReplanned:
            break;  // `job` is gone
          case Outcome::kFatal:
            return base::Fail(Failure(file));
        }
      }
      for (FileJob& file : files_) {
        if (!file.hasher || file.complete || !file.hasher->Finished()) continue;
        if (!std::all_of(file.jobs.begin(), file.jobs.end(), [](const auto& j) { return j->done; })) continue;
        Outcome outcome = VerifySplit(file);
        if (outcome == Outcome::kFatal) return base::Fail(Failure(file));
        if (outcome == Outcome::kDone) --remaining;
      }
      if (remaining > 0) curl_multi_poll(multi_.get(), nullptr, 0, PollTimeoutMs(), nullptr);
    }
    return results_;
  }

 private:
  // Queues the transfers of a file from its first byte: its segments
  // (fetch/segments.h) when it is large and the server has not refused Range,
  // else one stream.
  void Plan(FileJob& file) {
    const Download& d = *file.download;
    std::vector<ByteRange> ranges;
    if (!file.one_stream) ranges = PlanSegments(d.size, SegmentsAtOnce());
    if (ranges.size() <= 1) {
      file.jobs.push_back(std::make_unique<Job>());
      file.jobs.back()->file = &file;
    } else {
      file.hasher =
          std::make_unique<OrderedHasher>(d.sink, *d.size, [multi = multi_.get()] { curl_multi_wakeup(multi); });
      for (const ByteRange& r : ranges) {
        auto job = std::make_unique<Job>();
        job->file = &file;
        job->start = job->offset = r.start;
        job->end = r.end;
        file.jobs.push_back(std::move(job));
      }
    }
    for (auto& job : file.jobs) waiting_.push_back(job.get());
  }

  // How many segments of one file may be fetched at once.
  int SegmentsAtOnce() const { return std::max(1, std::min(options_.segments_max, options_.parallel)); }

  // Starts waiting transfers whose backoff is over while fewer than `parallel`
  // run; each segment of a split file counts as one. A free slot goes to the
  // file with the fewest transfers running (then the earliest file), and
  // within it to the lowest range: a file gets a second connection only when
  // no other file waits for its first, and its bytes arrive from the front,
  // where its hash is computed as they come (OrderedHasher) instead of being
  // read back. At most SegmentsAtOnce of a file's transfers run together.
  base::Result<void> StartWaiting() {
    const auto now = Clock::now();
    while (running_ < options_.parallel) {
      auto next = waiting_.end();
      for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
        const Job& job = **it;
        if (job.not_before > now || job.file->running >= SegmentsAtOnce()) continue;
        if (next == waiting_.end() || std::tuple(job.file->running, job.file->index, job.start) <
                                          std::tuple((*next)->file->running, (*next)->file->index, (*next)->start)) {
          next = it;
        }
      }
      if (next == waiting_.end()) break;
      Job& job = **next;
      waiting_.erase(next);
      RETURN_IF_ERROR(Start(job));
      ++running_;
      ++job.file->running;
    }
    return {};
  }

  int PollTimeoutMs() const {
    if (running_ > 0 || waiting_.empty()) return 200;
    auto next = std::min_element(waiting_.begin(), waiting_.end(),
                                 [](Job* a, Job* b) { return a->not_before < b->not_before; });
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>((*next)->not_before - Clock::now());
    return static_cast<int>(std::clamp<long long>(wait.count(), 0, 1000));
  }

  // Resumes the transfers whose writers have room again. curl delivers the
  // held bytes from within curl_easy_pause; a full writer pauses it again, and
  // a failed one is fatal at once (returned) rather than whenever curl ends it.
  FileJob* ResumeCaughtUp() {
    for (FileJob& file : files_) {
      for (auto& job : file.jobs) {
        if (!job->paused || job->writer->WouldWait(job->paused_bytes)) continue;
        job->paused = false;
        curl_easy_pause(job->easy.get(), CURLPAUSE_CONT);
        if (file.failure) return &file;
      }
    }
    return nullptr;
  }

  base::Result<void> Start(Job& job) {
    FileJob& file = *job.file;
    const Download& d = *file.download;
    if (job.url_index != file.url_index) {  // another transfer of the file gave up on the URL
      job.url_index = file.url_index;
      job.tries_of_url = 0;
    }
    const std::string& url = d.urls[job.url_index];
    job.easy.reset(curl_easy_init());
    if (!job.easy) return base::Fail(ErrorKind::kInternal, "curl_easy_init failed");
    CURL* e = job.easy.get();
    if (!job.writer) {
      // A writer with room again wakes curl_multi_poll, so the loop resumes its transfer.
      auto wake = [multi = multi_.get()] { curl_multi_wakeup(multi); };
      if (job.end) {
        job.segment_sink = std::make_unique<SegmentSink>(d.sink, job.start, file.hasher.get());
        job.writer = std::make_unique<BlockWriter>(job.segment_sink.get(), kWriteBlockBytes, kWriteBlocksQueued, wake,
                                                   Hashing::kOff);
      } else {
        job.writer = std::make_unique<BlockWriter>(d.sink, kWriteBlockBytes, kWriteBlocksQueued, wake);
      }
    }
    job.first_write = true;
    job.oversize = false;
    job.range_total.reset();
    job.offset_at_start = job.offset;  // the writer is flushed: Finish ran after the last try
    ++job.tries_of_url;
    ++file.requests;
    net::Policy policy;
    policy.ca_file = ca_file_;
    policy.follow_redirects = true;
    policy.connect_timeout = std::chrono::seconds(options_.connect_timeout_s);
    net::Configure(e, url, policy);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &job);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &job);
    job.errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, job.errbuf);
    curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, options_.stall_timeout_s);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
    std::string range;  // curl copies it
    if (job.end) {
      range = std::to_string(job.offset) + "-" + std::to_string(*job.end - 1);
      curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
      curl_easy_setopt(e, CURLOPT_HEADERDATA, &job);
    } else if (job.offset > 0) {
      range = std::to_string(job.offset) + "-";
    }
    if (!range.empty()) curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());
    if (curl_multi_add_handle(multi_.get(), e) != CURLM_OK) {
      return base::Fail(ErrorKind::kInternal, "curl_multi_add_handle failed");
    }
    return {};
  }

  // Waits for the writer to catch up with the bytes the try accepted: the
  // size, the hash and the next Range count only those. False: fatal.
  bool Settle(Job& job) {
    FileJob& file = *job.file;
    job.paused = false;  // the try is over: nothing to resume
    if (!file.failure) {
      if (auto r = job.writer->Flush(); !r) file.failure = std::move(r).error();
    }
    observer_.OnProgress(file.index, file.done);
    return !file.failure;
  }

  // Decides what a finished try of a stream means: done, try again, next mirror, or stop.
  Outcome FinishStream(Job& job, CURLcode code, long status) {
    FileJob& file = *job.file;
    const Download& d = *file.download;
    const std::string url = d.urls[job.url_index];
    if (!Settle(job)) return Outcome::kFatal;
    TryEnd t;
    bool start_over = false;
    if (job.oversize) {
      t.why = "the server sent more than the declared " + FormatBytes(d.max_size) + "; cut off";
      t.check_failed = true;
    } else if (code == CURLE_OK) {
      if (d.size && job.offset != *d.size) {
        t.why = "the server sent " + FormatBytes(job.offset) + " but the manifest says " + FormatBytes(*d.size);
        t.check_failed = true;
      } else {
        std::string actual = Sha256::Hex(job.writer->Digest());
        if (d.sha256 && actual != *d.sha256) {
          t.why = "sha256 mismatch: expected " + *d.sha256 + ", got " + actual;
          t.check_failed = true;
        } else {
          job.done = true;
          job.writer.reset();  // its thread and blocks are for running transfers only
          Complete(file, url, actual, job.offset);
          return Outcome::kDone;
        }
      }
    } else if (code == CURLE_HTTP_RETURNED_ERROR) {
      t.why = "HTTP " + std::to_string(status);
      t.retry = IsRetryableStatus(status);
      if (status == 416) {  // our Range is past the end: the file changed; start over
        t.retry = true;
        start_over = true;
      }
    } else {
      t = CurlFailure(job, code);
    }
    // Bytes that failed a check are worthless (the next URL starts from zero),
    // and after a 416 the file has changed.
    if (t.check_failed || start_over) {
      if (auto r = StartOver(job); !r) {
        file.failure = std::move(r).error();
        return Outcome::kFatal;
      }
    }
    return AfterFailedTry(job, std::move(t));
  }

  // Decides what a finished try of a segment means. Anything that says the
  // server's file is not the manifest's, or that it ignores Range, starts the
  // whole file over; other failures retry the segment from where it stopped.
  Outcome FinishSegment(Job& job, CURLcode code, long status) {
    FileJob& file = *job.file;
    const Download& d = *file.download;
    if (!Settle(job)) return Outcome::kFatal;
    if (job.range_ignored) return FallBackToOneStream(file, d.urls[job.url_index], status);
    TryEnd t;
    if (job.oversize) {
      t.why = "the server sent more than the " + RangeText(job) + " asked for; cut off";
      t.check_failed = true;
    } else if (job.range_total && d.size && *job.range_total != *d.size) {
      t.why = "the server's file is " + FormatBytes(*job.range_total) + " (Content-Range) but the manifest says " +
              FormatBytes(*d.size);
      t.check_failed = true;
    } else if (code == CURLE_OK) {
      if (job.offset == *job.end) {
        job.done = true;
        job.writer.reset();  // its thread and blocks are for running transfers only
        job.segment_sink.reset();
        return Outcome::kDone;
      }
      t.why = "the server ended " + RangeText(job) + " after " + FormatBytes(job.offset - job.start);
      t.retry = true;
    } else if (code == CURLE_HTTP_RETURNED_ERROR && status == 416) {
      t.why = "HTTP 416 for " + RangeText(job) + ": the server's file is shorter than the manifest's " +
              FormatBytes(*d.size);
      t.check_failed = true;
    } else if (code == CURLE_HTTP_RETURNED_ERROR) {
      t.why = "HTTP " + std::to_string(status);
      t.retry = IsRetryableStatus(status);
    } else {
      t = CurlFailure(job, code);
    }
    if (t.check_failed) return RejectSplitFile(file, std::move(t.why));
    return AfterFailedTry(job, std::move(t));
  }

  // Retries the try's URL after the backoff, or gives up on it: the file's
  // transfers move to the next mirror, or, after the last, all stop.
  Outcome AfterFailedTry(Job& job, TryEnd t) {
    FileJob& file = *job.file;
    const Download& d = *file.download;
    // What a server or libcurl said may hold a URL (a redirect target): no credentials in messages.
    const std::string why = RedactUrlsInText(t.why);
    const std::string shown_url = RedactUrl(d.urls[job.url_index]);
    if (t.retry && job.tries_of_url < options_.tries) {
      double delay = std::min(30.0, options_.retry_delay_s * std::pow(2.0, job.tries_of_url - 1));
      observer_.OnRetry(file.index, shown_url, why, delay);
      job.not_before = Clock::now() + std::chrono::milliseconds(static_cast<long long>(delay * 1000));
      return Outcome::kRetry;
    }
    job.not_before = Clock::now();
    // Another segment of the file gave up on this URL already and moved on: follow it.
    if (job.url_index != file.url_index) return Outcome::kNextUrl;
    std::string tries = job.tries_of_url > 1 ? " after " + std::to_string(job.tries_of_url) + " tries" : "";
    file.failures.push_back(shown_url + ": " + why + tries);
    file.verification_failed = t.check_failed;
    file.tls_failed = t.tls_failed;
    if (file.url_index + 1 < d.urls.size()) {
      observer_.OnRetry(file.index, shown_url, why + "; trying the next mirror", 0);
      ++file.url_index;
      return Outcome::kNextUrl;
    }
    return Outcome::kFatal;
  }

  // A split file's bytes do not match the manifest (a size, the hash): none of
  // them can be trusted, so the file starts over from the next mirror.
  Outcome RejectSplitFile(FileJob& file, std::string why) {
    const Download& d = *file.download;
    const std::string shown_url = RedactUrl(d.urls[file.url_index]);
    why = RedactUrlsInText(why);
    file.failures.push_back(shown_url + ": " + why);
    file.verification_failed = true;
    file.tls_failed = false;
    if (file.url_index + 1 >= d.urls.size()) return Outcome::kFatal;
    observer_.OnRetry(file.index, shown_url, why + "; trying the next mirror", 0);
    ++file.url_index;
    return Replan(file);
  }

  // The server answered a Range with the whole file: fetch it in one stream
  // from the same URL instead. Nothing it sent is kept, so no byte is written twice.
  Outcome FallBackToOneStream(FileJob& file, const std::string& url, long status) {
    file.one_stream = true;
    observer_.OnRetry(file.index, RedactUrl(url),
                      "the server ignores Range (HTTP " + std::to_string(status) +
                          " to a byte range): fetching the file in one stream",
                      0);
    return Replan(file);
  }

  // Stops every transfer of the file, empties it and plans it again.
  Outcome Replan(FileJob& file) {
    for (auto& job : file.jobs) {
      if (job->easy) {
        curl_multi_remove_handle(multi_.get(), job->easy.get());
        job->easy.reset();
        --running_;
        --file.running;
      }
      job->writer.reset();  // joins its thread: nothing writes the file after this
    }
    std::erase_if(waiting_, [&file](Job* job) { return job->file == &file; });
    file.jobs.clear();
    file.hasher.reset();
    if (auto r = file.download->sink->Truncate(0); !r) {
      file.failure = std::move(r).error();
      return Outcome::kFatal;
    }
    file.done = 0;
    observer_.OnProgress(file.index, 0);
    Plan(file);
    return Outcome::kReplanned;
  }

  // Every segment of a split file is in and its hasher is through: the file is done, or starts over.
  Outcome VerifySplit(FileJob& file) {
    const Download& d = *file.download;
    auto digest = file.hasher->Digest();
    if (!digest) {
      file.failure = std::move(digest).error();
      return Outcome::kFatal;
    }
    std::string actual = Sha256::Hex(*digest);
    if (d.sha256 && actual != *d.sha256) {
      return RejectSplitFile(file, "sha256 mismatch: expected " + *d.sha256 + ", got " + actual);
    }
    file.hasher.reset();
    file.jobs.clear();
    Complete(file, d.urls[file.url_index], actual, *d.size);
    return Outcome::kDone;
  }

  void Complete(FileJob& file, const std::string& url, const std::string& sha256, std::uint64_t bytes) {
    file.complete = true;
    DownloadResult& r = results_[file.index];
    r.url = url;
    r.sha256 = sha256;
    r.bytes = bytes;
    r.requests = file.requests;
    observer_.OnDone(file.index, r);
  }

  base::Error Failure(FileJob& file) {
    const Download& d = *file.download;
    if (file.failure) return std::move(*file.failure).Context("writing " + d.label);
    std::string all;
    for (const auto& f : file.failures) all += (all.empty() ? "" : "; ") + f;
    if (file.verification_failed) {
      return std::move(base::Error(ErrorKind::kVerification, d.label + ": " + all)
                           .Hint("the file on the server is not the one the manifest pins; nothing was "
                                 "staged. Fix the server or the manifest's size/sha256, then run again"));
    }
    if (file.tls_failed) {
      return std::move(base::Error(ErrorKind::kNetwork, d.label + ": " + all)
                           .Hint("the server's certificate is not trusted: if it comes from a private CA, "
                                 "pass --ca-file CA.pem; check the host name in the URL and this machine's "
                                 "clock (expired certificates); nothing was staged"));
    }
    return std::move(base::Error(ErrorKind::kNetwork, d.label + ": " + all)
                         .Hint("check the URL and the network (proxy variables are honoured), add "
                               "mirrors to the manifest, or run again later; nothing was staged"));
  }

  const TransferOptions& options_;
  TransferObserver& observer_;
  std::string ca_file_;
  std::vector<FileJob> files_;
  std::vector<Job*> waiting_;  // transfers to start (StartWaiting picks which first)
  int running_ = 0;            // transfers in the multi handle
  std::vector<DownloadResult> results_;
  CurlMulti multi_;
};

}  // namespace

base::Result<void> MemorySink::Write(std::uint64_t offset, std::span<const char> bytes) {
  std::lock_guard lock(mu_);
  if (data_.size() < offset + bytes.size()) data_.resize(offset + bytes.size());
  data_.replace(offset, bytes.size(), bytes.data(), bytes.size());
  return {};
}

base::Result<void> MemorySink::Truncate(std::uint64_t size) {
  std::lock_guard lock(mu_);
  data_.resize(std::min<std::uint64_t>(size, data_.size()));
  return {};
}

base::Result<void> MemorySink::Read(std::uint64_t offset, std::span<char> bytes) {
  std::lock_guard lock(mu_);
  if (offset > data_.size() || data_.size() - offset < bytes.size()) {
    return base::Fail(ErrorKind::kInternal, "reading " + std::to_string(bytes.size()) + " bytes at " +
                                                std::to_string(offset) + " of a download that has " +
                                                std::to_string(data_.size()));
  }
  std::copy_n(data_.data() + offset, bytes.size(), bytes.data());
  return {};
}

std::string SystemCaBundle() {
  for (const char* path : {"/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Alpine
                           "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // RHEL, Fedora, Amazon Linux
                           "/etc/pki/tls/certs/ca-bundle.crt",                   // older RHEL
                           "/etc/ssl/ca-bundle.pem",                             // SUSE
                           "/etc/ssl/cert.pem"}) {                               // Alpine, BSDs
    if (access(path, R_OK) == 0) return path;
  }
  return "";
}

base::Result<std::vector<DownloadResult>> DownloadAll(const std::vector<Download>& downloads,
                                                      const TransferOptions& options, TransferObserver& observer) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  for (const Download& d : downloads) {
    if (d.urls.empty() || !d.sink) return base::Fail(ErrorKind::kInternal, d.label + ": no URL or no sink");
  }
  if (downloads.empty()) return std::vector<DownloadResult>{};
  Transfers transfers(downloads, options, observer);
  return transfers.Run();
}

}  // namespace fetch

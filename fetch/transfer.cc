#include "fetch/transfer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <thread>

#include <curl/curl.h>
#include <unistd.h>

#include "base/interrupt.h"
#include "fetch/block_writer.h"
#include "fetch/sha256.h"
#include "fetch/url.h"
#include "net/http.h"

namespace fetch {
namespace {

using base::ErrorKind;
using Clock = std::chrono::steady_clock;

struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;

/// How one try of one URL ended.
enum class Outcome { kDone, kRetry, kNextUrl, kFatal };

/// The state of one Download across its tries and mirrors.
struct Job {
  const Download* download = nullptr;
  TransferObserver* observer = nullptr;
  std::size_t index = 0;
  std::size_t url_index = 0;
  int tries_of_url = 0;
  int requests = 0;
  // Bytes accepted. The writer hashes and writes them on its own thread and may
  // be a few blocks behind: whatever reads this as a position in the file (a
  // Range, the size check) or reads the hash must Flush the writer first.
  std::uint64_t offset = 0;
  std::uint64_t offset_at_start = 0; // where the current try started (its Range)
  bool first_write = true;
  std::unique_ptr<BlockWriter> writer;  // from the first Start until the job is done
  bool paused = false;                  // OnBody paused the transfer: the writer had no room
  std::size_t paused_bytes = 0;         // the refused callback's size: curl delivers it again on resume
  CurlEasy easy;
  Clock::time_point not_before{};    // backoff: do not start before this
  // Set by the write callback to say why it stopped the transfer.
  std::optional<base::Error> write_failure;
  bool oversize = false;
  std::vector<std::string> failures;  // one line per URL given up on
  bool verification_failed = false;   // the last URL given up on failed a check
  bool tls_failed = false;            // the last URL given up on had an untrusted certificate
  char errbuf[CURL_ERROR_SIZE] = {};  // curl's detail for the current try
};

std::once_flag curl_init_once;

std::string Detail(const Job& job, CURLcode code) {
  std::string detail = job.errbuf[0] ? std::string(job.errbuf) : std::string(curl_easy_strerror(code));
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  return detail;
}

std::string FormatBytes(std::uint64_t n) { return std::to_string(n) + " bytes"; }

// Drops every byte accepted so far: the next ones go to offset 0 and a fresh hash.
base::Result<void> StartOver(Job& job) {
  RETURN_IF_ERROR(job.writer->Restart());
  job.offset = 0;
  job.offset_at_start = 0;
  return {};
}

// A write callback's refusal must stop the transfer; returning fewer bytes
// than offered makes curl fail it with CURLE_WRITE_ERROR.
size_t OnBody(char* data, size_t one, size_t count, void* user) {
  Job& job = *static_cast<Job*>(user);
  const size_t n = one * count;
  const Download& d = *job.download;
  if (job.first_write) {
    job.first_write = false;
    long status = 0;
    curl_easy_getinfo(job.easy.get(), CURLINFO_RESPONSE_CODE, &status);
    if (job.offset > 0 && status == 200) {
      // The server ignored our Range and sends the whole file: start over.
      if (auto r = StartOver(job); !r) {
        job.write_failure = std::move(r).error();
        return 0;
      }
    }
    curl_off_t length = -1;
    curl_easy_getinfo(job.easy.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    if (length >= 0 && job.offset + static_cast<std::uint64_t>(length) > d.max_size) {
      job.oversize = true;
      return 0;
    }
  }
  if (job.offset + n > d.max_size) {
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
    job.write_failure = std::move(r).error();
    return 0;
  }
  job.offset += n;
  job.observer->OnProgress(job.index, job.offset);
  return n;
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

class Transfers {
 public:
  Transfers(const std::vector<Download>& downloads, const TransferOptions& options, TransferObserver& observer)
      : options_(options), observer_(observer), ca_file_(options.ca_file.empty() ? SystemCaBundle() : options.ca_file) {
    jobs_.resize(downloads.size());
    for (std::size_t i = 0; i < downloads.size(); ++i) {
      jobs_[i].download = &downloads[i];
      jobs_[i].index = i;
      jobs_[i].observer = &observer;
    }
  }
  // Writers first: their threads call curl_multi_wakeup until they are joined.
  // (Run returns early on a fatal error while other transfers are mid-stream.)
  ~Transfers() {
    for (Job& job : jobs_) job.writer.reset();
  }

  base::Result<std::vector<DownloadResult>> Run() {
    multi_.reset(curl_multi_init());
    if (!multi_) return base::Fail(ErrorKind::kInternal, "curl_multi_init failed");
    results_.resize(jobs_.size());
    std::size_t remaining = jobs_.size();
    std::vector<Job*> waiting;
    for (Job& job : jobs_) waiting.push_back(&job);
    int running = 0;
    while (remaining > 0) {
      // A signal asked bootrino to stop: every transfer ends here (the loop wakes at least every second).
      if (int sig = base::InterruptSignal()) {
        return base::Fail(ErrorKind::kNetwork, "transfers aborted: bootrino received " + base::SignalName(sig));
      }
      auto now = Clock::now();
      for (auto it = waiting.begin(); it != waiting.end() && running < options_.parallel;) {
        if ((*it)->not_before > now) {
          ++it;
          continue;
        }
        RETURN_IF_ERROR(Start(**it));
        ++running;
        it = waiting.erase(it);
      }
      if (Job* failed = ResumeCaughtUp()) return base::Fail(Failure(*failed));
      int still_running = 0;
      curl_multi_perform(multi_.get(), &still_running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Job* job = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &job);
        curl_multi_remove_handle(multi_.get(), msg->easy_handle);
        --running;
        Outcome outcome = Finish(*job, msg->data.result);
        job->easy.reset();
        switch (outcome) {
          case Outcome::kDone:
            job->writer.reset();  // its thread and blocks are for running transfers only
            --remaining;
            break;
          case Outcome::kRetry:
          case Outcome::kNextUrl:
            waiting.push_back(job);
            break;
          case Outcome::kFatal:
            return base::Fail(Failure(*job));
        }
      }
      int timeout_ms = 200;
      if (running == 0 && !waiting.empty()) {
        auto next = std::min_element(waiting.begin(), waiting.end(), [](Job* a, Job* b) {
                      return a->not_before < b->not_before;
                    });
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>((*next)->not_before - Clock::now());
        timeout_ms = static_cast<int>(std::clamp<long long>(wait.count(), 0, 1000));
      }
      if (remaining > 0) curl_multi_poll(multi_.get(), nullptr, 0, timeout_ms, nullptr);
    }
    return results_;
  }

 private:
  // Resumes the transfers whose writers have room again. curl delivers the
  // held bytes from within curl_easy_pause; a full writer pauses it again, and
  // a failed one is fatal at once (returned) rather than whenever curl ends it.
  Job* ResumeCaughtUp() {
    for (Job& job : jobs_) {
      if (!job.paused || job.writer->WouldWait(job.paused_bytes)) continue;
      job.paused = false;
      curl_easy_pause(job.easy.get(), CURLPAUSE_CONT);
      if (job.write_failure) return &job;
    }
    return nullptr;
  }

  base::Result<void> Start(Job& job) {
    const Download& d = *job.download;
    const std::string& url = d.urls[job.url_index];
    job.easy.reset(curl_easy_init());
    if (!job.easy) return base::Fail(ErrorKind::kInternal, "curl_easy_init failed");
    CURL* e = job.easy.get();
    if (!job.writer) {
      // A writer with room again wakes curl_multi_poll, so the loop resumes its transfer.
      job.writer = std::make_unique<BlockWriter>(d.sink, kWriteBlockBytes, kWriteBlocksQueued,
                                                 [multi = multi_.get()] { curl_multi_wakeup(multi); });
    }
    job.first_write = true;
    job.offset_at_start = job.offset;  // the writer is flushed: Finish ran after the last try
    ++job.tries_of_url;
    ++job.requests;
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
    std::string range;
    if (job.offset > 0) {
      range = std::to_string(job.offset) + "-";
      curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());
    }
    if (curl_multi_add_handle(multi_.get(), e) != CURLM_OK) {
      return base::Fail(ErrorKind::kInternal, "curl_multi_add_handle failed");
    }
    return {};
  }

  // Decides what a finished try means: done, try again, next mirror, or stop.
  Outcome Finish(Job& job, CURLcode code) {
    const Download& d = *job.download;
    const std::string url = d.urls[job.url_index];
    job.paused = false;  // the try is over: nothing to resume
    // What follows reads job.offset as the file's size and the hash: both count
    // only once the writer has caught up with the bytes accepted.
    if (!job.write_failure) {
      if (auto r = job.writer->Flush(); !r) job.write_failure = std::move(r).error();
    }
    observer_.OnProgress(job.index, job.offset);
    if (job.write_failure) return Outcome::kFatal;
    long status = 0;
    curl_easy_getinfo(job.easy.get(), CURLINFO_RESPONSE_CODE, &status);
    std::string why;
    bool retry = false;
    bool check_failed = false;
    bool tls_failed = false;
    bool start_over = false;
    if (job.oversize) {
      why = "the server sent more than the declared " + FormatBytes(d.max_size) + "; cut off";
      check_failed = true;
    } else if (code == CURLE_OK) {
      if (d.size && job.offset != *d.size) {
        why = "the server sent " + FormatBytes(job.offset) + " but the manifest says " + FormatBytes(*d.size);
        check_failed = true;
      } else {
        std::string actual = Sha256::Hex(job.writer->Digest());
        if (d.sha256 && actual != *d.sha256) {
          why = "sha256 mismatch: expected " + *d.sha256 + ", got " + actual;
          check_failed = true;
        } else {
          DownloadResult& r = results_[job.index];
          r.url = url;
          r.sha256 = actual;
          r.bytes = job.offset;
          r.requests = job.requests;
          observer_.OnDone(job.index, r);
          return Outcome::kDone;
        }
      }
    } else if (code == CURLE_HTTP_RETURNED_ERROR) {
      why = "HTTP " + std::to_string(status);
      retry = IsRetryableStatus(status);
      if (status == 416) {  // our Range is past the end: the file changed; start over
        retry = true;
        start_over = true;
      }
    } else if (code == CURLE_UNSUPPORTED_PROTOCOL) {
      why = "refused a redirect to another protocol (" + Detail(job, code) +
            "); bootrino never follows https to plain http";
    } else if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE) {
      why = "TLS certificate not trusted: " + Detail(job, code);
      tls_failed = true;
    } else {
      why = Detail(job, code);
      retry = IsRetryableCurlCode(code);
      if (job.offset > job.offset_at_start || code == CURLE_PARTIAL_FILE) {
        why += " after " + FormatBytes(job.offset);
      }
    }
    // Bytes that failed a check are worthless (the next URL starts from zero),
    // and after a 416 the file has changed.
    if (check_failed || start_over) {
      if (auto r = StartOver(job); !r) {
        job.write_failure = std::move(r).error();
        return Outcome::kFatal;
      }
    }
    // What a server or libcurl said may hold a URL (a redirect target): no credentials in messages.
    why = RedactUrlsInText(why);
    const std::string shown_url = RedactUrl(url);
    if (retry && job.tries_of_url < options_.tries) {
      double delay = std::min(30.0, options_.retry_delay_s * std::pow(2.0, job.tries_of_url - 1));
      observer_.OnRetry(job.index, shown_url, why, delay);
      job.not_before = Clock::now() + std::chrono::milliseconds(static_cast<long long>(delay * 1000));
      return Outcome::kRetry;
    }
    std::string tries = job.tries_of_url > 1 ? " after " + std::to_string(job.tries_of_url) + " tries" : "";
    job.failures.push_back(shown_url + ": " + why + tries);
    job.verification_failed = check_failed;
    job.tls_failed = tls_failed;
    if (job.url_index + 1 < d.urls.size()) {
      observer_.OnRetry(job.index, shown_url, why + "; trying the next mirror", 0);
      ++job.url_index;
      job.tries_of_url = 0;
      job.not_before = Clock::now();
      return Outcome::kNextUrl;
    }
    return Outcome::kFatal;
  }

  base::Error Failure(Job& job) {
    const Download& d = *job.download;
    if (job.write_failure) return std::move(*job.write_failure).Context("writing " + d.label);
    std::string all;
    for (const auto& f : job.failures) all += (all.empty() ? "" : "; ") + f;
    if (job.verification_failed) {
      return std::move(base::Error(ErrorKind::kVerification, d.label + ": " + all)
                           .Hint("the file on the server is not the one the manifest pins; nothing was "
                                 "staged. Fix the server or the manifest's size/sha256, then run again"));
    }
    if (job.tls_failed) {
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
  std::vector<Job> jobs_;
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

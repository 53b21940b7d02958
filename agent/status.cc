#include "agent/status.h"

#include <memory>

#include <curl/curl.h>

#include "fetch/ca_bundle.h"
#include "fetch/transfer.h"

namespace agent {
namespace {

constexpr std::size_t kMaxQueued = 64;

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

/// One POST with short timeouts; failures are ignored (best effort by design).
void PostOnce(const std::string& url, const std::string& ca_file, const std::string& body) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(headers, curl_slist_free_all);
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 4000L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  // The same trust as the downloads: --ca-file, else the system's bundle, else the built-in one.
  if (!ca_file.empty()) {
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO, ca_file.c_str());
  } else {
    curl_blob blob{const_cast<char*>(fetch::EmbeddedCaBundle().data()), fetch::EmbeddedCaBundle().size(),
                   CURL_BLOB_NOCOPY};
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO_BLOB, &blob);
  }
  curl_easy_setopt(curl.get(), CURLOPT_CAPATH, nullptr);
  (void)curl_easy_perform(curl.get());
}

}  // namespace

void StatusPoster::Post(std::string json) {
  std::lock_guard lock(mu_);
  if (queue_.size() >= kMaxQueued) return;
  queue_.push_back(std::move(json));
  if (!thread_.joinable()) {
    stop_ = false;
    thread_ = std::thread([this] { Send(); });
  }
  cv_.notify_one();
}

void StatusPoster::Send() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_ and nothing left
    std::string body = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    PostOnce(url_, ca_file_, body);
    lock.lock();
  }
}

void StatusPoster::Flush(std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  {
    std::unique_lock lock(mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
    cv_.notify_one();
  }
  // Wait for the queue to drain or the deadline; whatever is left is dropped.
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) break;
      if (std::chrono::steady_clock::now() >= until) {
        queue_.clear();
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  thread_.join();  // at most one request's timeout after the queue emptied
}

}  // namespace agent

#include "observe/status.h"

#include <memory>

#include "net/net.h"

namespace observe {
namespace {

constexpr std::size_t kMaxQueued = 64;

/// One POST with short timeouts; failures are ignored (best effort by design).
void PostOnce(const std::string& url, const std::string& ca_file, const std::string& body) {
  // The same trust as the downloads: --ca-file, else the CA bundle compiled in.
  net::Policy policy;
  policy.ca_file = ca_file;
  policy.connect_timeout = std::chrono::milliseconds(2000);
  policy.total_timeout = std::chrono::milliseconds(4000);
  (void)net::Send({"POST", url, {"Content-Type: application/json"}, 64 * 1024, body}, policy);
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

}  // namespace observe

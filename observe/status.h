// Status reporting to a URL: each phase event is POSTed as JSON, best effort,
// from a thread of its own so a slow or dead endpoint never holds up the
// boot. A fleet operator sees every instance arrive or fail.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace observe {

class StatusPoster {
 public:
  /// `ca_file`: PEM bundle for https (--ca-file); empty: the system's, else
  /// the one compiled in, as for every download.
  StatusPoster(std::string url, std::string ca_file) : url_(std::move(url)), ca_file_(std::move(ca_file)) {}
  ~StatusPoster() { Flush(std::chrono::seconds(3)); }
  StatusPoster(const StatusPoster&) = delete;
  StatusPoster& operator=(const StatusPoster&) = delete;

  /// Queues one JSON event; drops it when the queue is full (a dead endpoint).
  void Post(std::string json);

  /// Sends what is queued within `deadline`, then stops the sender thread
  /// (before a fork or a reboot). A later Post starts it again.
  void Flush(std::chrono::milliseconds deadline);

  const std::string& url() const { return url_; }

 private:
  void Send();

  std::string url_;
  std::string ca_file_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace observe

#include "fetch/segments.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace fetch {

std::vector<ByteRange> PlanSegments(std::optional<std::uint64_t> size, int connections) {
  if (!size) return {};
  const std::uint64_t limit = connections < 2 ? 1 : kSegmentsPerConnection * static_cast<std::uint64_t>(connections);
  const std::uint64_t n = std::max<std::uint64_t>(1, std::min(limit, *size / kMinSegmentBytes));
  std::vector<ByteRange> ranges;
  std::uint64_t start = 0;
  for (std::uint64_t i = 1; i <= n; ++i) {
    // size * i / n without overflow for any size a file can have (< 2^64 / 16).
    const std::uint64_t end = i == n ? *size : (*size / n * i + *size % n * i / n) / kSegmentAlign * kSegmentAlign;
    ranges.push_back({start, end});
    start = end;
  }
  return ranges;
}

OrderedHasher::OrderedHasher(Sink* sink, std::uint64_t size, std::function<void()> on_finished)
    : sink_(sink), size_(size), on_finished_(std::move(on_finished)) {
  try {
    thread_ = std::thread(&OrderedHasher::Run, this);
  } catch (const std::system_error& e) {
    std::lock_guard lock(mu_);
    error_ = base::Error(base::ErrorKind::kInternal, std::string("starting the thread that hashes a file in order: ") +
                                                         e.what(), e.code().value());
    finished_ = true;
  }
}

OrderedHasher::~OrderedHasher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  ready_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void OrderedHasher::Written(std::uint64_t offset, std::span<const char> bytes) {
  const std::uint64_t end = std::min<std::uint64_t>(offset + bytes.size(), size_);
  std::unique_lock lock(mu_);
  if (finished_ || offset >= end) return;
  if (busy_ || offset != hashed_) {
    ReportLocked(offset, end);
    const bool wake = ThreadHasWorkLocked();
    lock.unlock();
    if (wake) ready_.notify_one();
    return;
  }
  // The bytes extend the hashed run: hash them now, while they are in this thread's cache, rather
  // than read them back later. This is the whole file's path when its ranges arrive in order.
  busy_ = true;
  lock.unlock();
  hasher_.Update(std::string_view(bytes.data(), end - offset));
  lock.lock();
  hashed_ = end;
  busy_ = false;
  const bool finished = FinishLocked();
  const bool wake = finished || ThreadHasWorkLocked();  // bytes reported meanwhile may now be next
  lock.unlock();
  if (wake) ready_.notify_one();
  if (finished && on_finished_) on_finished_();
}

void OrderedHasher::ReportLocked(std::uint64_t start, std::uint64_t end) {
  start = std::max(start, hashed_);  // never hash a byte twice, whatever a caller reports
  if (start >= end) return;
  // Merge with the ranges it touches, so the thread reads each run in as few calls as it can.
  auto it = reported_.upper_bound(start);
  if (it != reported_.begin() && std::prev(it)->second >= start) --it;
  while (it != reported_.end() && it->first <= end) {
    start = std::min(start, it->first);
    end = std::max(end, it->second);
    it = reported_.erase(it);
  }
  reported_.emplace(start, end);
}

bool OrderedHasher::ThreadHasWorkLocked() const {
  return !busy_ && !reported_.empty() && reported_.begin()->first <= hashed_;
}

bool OrderedHasher::FinishLocked() {
  if (finished_ || (hashed_ < size_ && !error_)) return false;
  if (!error_) digest_ = hasher_.Final();
  finished_ = true;
  return true;
}

bool OrderedHasher::Finished() const {
  std::lock_guard lock(mu_);
  return finished_;
}

base::Result<Sha256Digest> OrderedHasher::Digest() const {
  std::lock_guard lock(mu_);
  if (error_) return base::Fail(*error_);
  if (!finished_) {
    return base::Fail(base::ErrorKind::kInternal, "the digest was asked for before every byte was hashed");
  }
  return digest_;
}

std::uint64_t OrderedHasher::hashed() const {
  std::lock_guard lock(mu_);
  return hashed_;
}

base::Result<void> OrderedHasher::HashRange(std::uint64_t from, std::uint64_t to, std::vector<char>& buffer) {
  if (buffer.empty()) buffer.resize(kReadBytes);
  while (from < to) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(to - from, buffer.size()));
    RETURN_IF_ERROR(sink_->Read(from, std::span<char>(buffer.data(), n)));
    hasher_.Update(std::string_view(buffer.data(), n));
    from += n;
    std::lock_guard lock(mu_);
    hashed_ = from;
    if (stop_) break;
  }
  return {};
}

void OrderedHasher::Run() {
  std::vector<char> buffer;  // allocated at the first read back, freed when the file is hashed
  std::unique_lock lock(mu_);
  bool finished = FinishLocked();  // an empty file
  while (!finished) {
    ready_.wait(lock, [this] { return stop_ || finished_ || ThreadHasWorkLocked(); });
    if (stop_ || finished_) return;  // a writer finished it, and said so
    auto first = reported_.begin();
    const std::uint64_t from = hashed_, to = first->second;
    reported_.erase(first);
    busy_ = true;
    lock.unlock();
    base::Result<void> hashed = HashRange(from, to, buffer);
    lock.lock();
    busy_ = false;
    if (stop_) return;
    if (!hashed) error_ = std::move(hashed).error().Context("reading back what was written, to hash it");
    finished = FinishLocked();
  }
  lock.unlock();
  if (on_finished_) on_finished_();
}

}  // namespace fetch

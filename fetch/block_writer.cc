#include "fetch/block_writer.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace fetch {

BlockWriter::BlockWriter(Sink* sink, std::size_t block_bytes, int max_queued, std::function<void()> on_room,
                         Hashing hashing)
    : sink_(sink),
      block_bytes_(std::max<std::size_t>(block_bytes, 1)),
      max_queued_(static_cast<std::size_t>(std::max(max_queued, 1))),
      on_room_(std::move(on_room)),
      hashing_(hashing == Hashing::kOn) {}

BlockWriter::~BlockWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_ready_.notify_one();
  if (worker_.joinable()) worker_.join();
}

base::Result<void> BlockWriter::Append(std::span<const char> bytes) {
  while (!bytes.empty()) {
    if (failed_.load(std::memory_order_acquire)) {
      std::lock_guard lock(mu_);
      return ErrorLocked();
    }
    if (!current_.data) {
      // A finished block's buffer if there is one, so at most max_queued + 1 exist.
      std::unique_lock lock(mu_);
      if (!spare_.empty()) {
        current_.data = std::move(spare_.back());
        spare_.pop_back();
      }
      lock.unlock();
      if (!current_.data) current_.data = std::make_unique_for_overwrite<char[]>(block_bytes_);
      current_.size = 0;
      current_.offset = size_;
    }
    const std::size_t n = std::min(bytes.size(), block_bytes_ - current_.size);
    std::memcpy(current_.data.get() + current_.size, bytes.data(), n);
    current_.size += n;
    size_ += n;
    bytes = bytes.subspan(n);
    if (current_.size == block_bytes_) RETURN_IF_ERROR(HandOff());
  }
  return {};
}

bool BlockWriter::WouldWait(std::size_t bytes) {
  // Append hands over a block each time the current one fills. Bytes that fill
  // more than max_queued_ blocks make it wait whatever the caller does; asking
  // for more room than that would say yes forever.
  const std::size_t hand_offs = std::min((current_.size + bytes) / block_bytes_, max_queued_);
  if (hand_offs == 0) return false;
  std::lock_guard lock(mu_);
  if (error_ || queue_.size() + in_hand_ + hand_offs <= max_queued_) return false;
  wants_room_ = true;
  return true;
}

base::Result<void> BlockWriter::Flush() {
  if (current_.size > 0) RETURN_IF_ERROR(HandOff());
  current_ = Block{};
  std::unique_lock lock(mu_);
  WaitIdle(lock);
  spare_.clear();  // an idle writer (a job waiting to retry, a finished one) holds no blocks
  return ErrorLocked();
}

base::Result<void> BlockWriter::Restart() {
  RETURN_IF_ERROR(Flush());
  RETURN_IF_ERROR(sink_->Truncate(0));
  hasher_ = Sha256();  // the worker is idle until the next HandOff, which takes mu_
  size_ = 0;
  return {};
}

Sha256Digest BlockWriter::Digest() const {
  Sha256 copy = hasher_;
  return copy.Final();
}

base::Result<void> BlockWriter::HandOff() {
  std::unique_lock lock(mu_);
  if (!worker_.joinable() && !error_) {
    try {
      worker_ = std::thread(&BlockWriter::Run, this);
    } catch (const std::system_error& e) {
      error_ = base::Error(base::ErrorKind::kInternal,
                           std::string("starting the thread that hashes and writes: ") + e.what(), e.code().value());
      failed_.store(true, std::memory_order_release);
    }
  }
  room_ready_.wait(lock, [this] { return error_ || queue_.size() + in_hand_ < max_queued_; });
  if (error_) {
    current_ = Block{};
    return ErrorLocked();
  }
  queue_.push_back(std::move(current_));
  current_ = Block{};
  lock.unlock();
  work_ready_.notify_one();
  return {};
}

void BlockWriter::WaitIdle(std::unique_lock<std::mutex>& lock) {
  room_ready_.wait(lock, [this] { return queue_.empty() && in_hand_ == 0; });
}

base::Result<void> BlockWriter::ErrorLocked() const {
  if (error_) return base::Fail(*error_);
  return {};
}

void BlockWriter::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_ready_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Block block = std::move(queue_.front());
    queue_.pop_front();
    in_hand_ = 1;
    // After a failed write the rest of the stream is worthless: drain without writing.
    const bool skip = error_.has_value();
    lock.unlock();
    base::Result<void> written;
    if (!skip) {
      if (hashing_) hasher_.Update(std::string_view(block.data.get(), block.size));
      written = sink_->Write(block.offset, std::span<const char>(block.data.get(), block.size));
    }
    lock.lock();
    if (!written && !error_) {
      error_ = std::move(written).error();
      failed_.store(true, std::memory_order_release);
    }
    in_hand_ = 0;
    spare_.push_back(std::move(block.data));
    room_ready_.notify_one();
    if (std::exchange(wants_room_, false) && on_room_) {
      lock.unlock();
      on_room_();
      lock.lock();
    }
  }
}

}  // namespace fetch

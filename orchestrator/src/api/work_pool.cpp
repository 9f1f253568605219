#include "api/work_pool.hpp"

#include <algorithm>

namespace switchyard::orchestrator::api {

WorkPool::WorkPool(int max_threads, std::chrono::milliseconds idle_timeout)
    : max_threads_(std::max(1, max_threads)), idle_timeout_(idle_timeout) {}

WorkPool::~WorkPool() { Shutdown(); }

void WorkPool::Post(std::function<void()> job) {
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      // After Shutdown there is nobody to run it later: run it here.
    } else {
      jobs_.push_back(std::move(job));
      // Reap threads that exited on their idle timeout.
      for (auto it = threads_.begin(); it != threads_.end();) {
        if (std::find(exited_.begin(), exited_.end(), it->get_id()) != exited_.end()) {
          finished.push_back(std::move(*it));
          it = threads_.erase(it);
        } else {
          ++it;
        }
      }
      exited_.clear();
      if (idle_ < static_cast<int>(jobs_.size()) && live_ < max_threads_) {
        ++live_;
        threads_.emplace_back([this] { Loop(); });
      }
      cv_.notify_one();
      job = nullptr;
    }
  }
  for (auto& thread : finished) thread.join();
  if (job) job();
}

void WorkPool::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (jobs_.empty()) {
      if (stopping_) break;
      ++idle_;
      const bool woke =
          cv_.wait_for(lock, idle_timeout_, [&] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (!woke) break;  // idle too long
      continue;
    }
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    job = nullptr;
    lock.lock();
  }
  --live_;
  exited_.push_back(std::this_thread::get_id());
}

void WorkPool::Shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& thread : threads) thread.join();
  // Jobs left when every thread had already exited: run them here.
  std::deque<std::function<void()>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(jobs_);
  }
  for (auto& job : left) job();
}

}  // namespace switchyard::orchestrator::api

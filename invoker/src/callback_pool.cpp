#include "callback_pool.hpp"

#include <algorithm>
#include <utility>

namespace switchyard::invoker {

CallbackPool::CallbackPool(std::chrono::milliseconds idle_timeout) : idle_timeout_(idle_timeout) {}

CallbackPool::~CallbackPool() { Shutdown(); }

void CallbackPool::Post(std::function<void()> job) {
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      jobs_.push_back(std::move(job));
      job = nullptr;
      // Threads that exited on their idle timeout are joined here (outside the lock).
      for (auto it = threads_.begin(); it != threads_.end() && !exited_.empty();) {
        auto exited = std::find(exited_.begin(), exited_.end(), it->get_id());
        if (exited != exited_.end()) {
          exited_.erase(exited);
          finished.push_back(std::move(*it));
          it = threads_.erase(it);
        } else {
          ++it;
        }
      }
      // Each queued job has an idle thread to take it, or a new one: none waits for a busy one.
      if (idle_ < static_cast<int>(jobs_.size())) {
        ++live_;
        threads_.emplace_back([this] { Loop(); });
      } else {
        cv_.notify_one();
      }
    }
  }
  for (auto& thread : finished) thread.join();
  if (job) job();  // after Shutdown: nobody else would run it
}

void CallbackPool::Loop() {
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
    job = nullptr;  // the callback's captures go before the thread waits again
    lock.lock();
  }
  --live_;
  exited_.push_back(std::this_thread::get_id());
}

void CallbackPool::Shutdown() {
  std::list<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
    exited_.clear();
  }
  cv_.notify_all();
  for (auto& thread : threads) thread.join();  // each runs the queue dry before it exits
  std::deque<std::function<void()>> left;
  {
    std::lock_guard lock(mu_);
    left.swap(jobs_);
  }
  for (auto& job : left) job();
}

int CallbackPool::Threads() const {
  std::lock_guard lock(mu_);
  return live_;
}

int CallbackPool::Idle() const {
  std::lock_guard lock(mu_);
  return idle_;
}

}  // namespace switchyard::invoker

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
      if (!idle_.empty()) {
        // The most recently idle thread takes it. Notified under the lock: once the lock is
        // released the worker may run the job and exit, destroying its condition variable.
        Worker* worker = idle_.back();
        idle_.pop_back();
        worker->job = std::move(job);
        worker->handed = true;
        worker->cv.notify_one();
      } else {
        // No idle thread: a new one, so the job never waits behind busy (maybe blocked) ones.
        threads_.emplace_back([this, first = std::move(job)]() mutable { Loop(std::move(first)); });
        ++live_;
      }
      job = nullptr;
    }
  }
  for (auto& thread : finished) thread.join();
  if (job) job();  // after Shutdown: nobody else would run it
}

void CallbackPool::Loop(std::function<void()> job) {
  Worker self;
  std::unique_lock lock(mu_, std::defer_lock);
  for (;;) {
    job();
    job = nullptr;  // the callback's captures go before the thread waits again
    lock.lock();
    if (stopping_) break;
    idle_.push_back(&self);
    self.cv.wait_for(lock, idle_timeout_, [&] { return self.handed || stopping_; });
    if (!self.handed) {
      // Idle too long, or Shutdown: nobody can hand this thread a job once it leaves idle_.
      // Long-idle threads sit at the front, so the search is short.
      idle_.erase(std::find(idle_.begin(), idle_.end(), &self));
      break;
    }
    // A job handed over is run even if the wait also timed out or Shutdown began meanwhile.
    self.handed = false;
    job = std::move(self.job);
    self.job = nullptr;
    lock.unlock();
  }
  --live_;
  exited_.push_back(std::this_thread::get_id());
}

void CallbackPool::Shutdown() {
  std::list<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (Worker* worker : idle_) worker->cv.notify_one();  // under the lock, as in Post
    threads.swap(threads_);
    exited_.clear();
  }
  for (auto& thread : threads) thread.join();  // each finishes the job it was handed first
}

int CallbackPool::Threads() const {
  std::lock_guard lock(mu_);
  return live_;
}

int CallbackPool::Idle() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(idle_.size());
}

}  // namespace switchyard::invoker

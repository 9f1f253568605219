#include "callback_pool.hpp"

#include <algorithm>
#include <utility>

namespace switchyard::invoker {

CallbackPool::CallbackPool(std::chrono::milliseconds idle_timeout) : idle_timeout_(idle_timeout) {}

CallbackPool::~CallbackPool() { Shutdown(); }

void CallbackPool::Post(std::function<void()> job) {
  std::vector<std::thread> finished;
  std::shared_ptr<Worker> worker;
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
        // The most recently idle thread takes it: reserved here, handed below.
        worker = std::move(idle_.back());
        idle_.pop_back();
      } else {
        // No idle thread: a new one, so the job never waits behind busy (maybe blocked) ones.
        threads_.emplace_back([this, first = std::move(job)]() mutable { Loop(std::move(first)); });
        ++live_;
        job = nullptr;
      }
    }
  }
  if (worker) {
    {
      std::lock_guard lock(worker->mu);
      worker->job = std::move(job);
      worker->handed = true;
    }
    worker->cv.notify_one();  // `worker` keeps the condition variable alive
    job = nullptr;
  }
  for (auto& thread : finished) thread.join();
  if (job) job();  // after Shutdown: nobody else would run it
}

void CallbackPool::Loop(std::function<void()> job) {
  auto self = std::make_shared<Worker>();
  for (;;) {
    job();
    job = nullptr;  // the callback's captures go before the thread waits again
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
      idle_.push_back(self);
    }
    std::unique_lock own(self->mu);
    if (!self->cv.wait_for(own, idle_timeout_, [&] { return self->handed || self->stop; })) {
      // Idle too long: leave idle_, unless a Post reserved this thread meanwhile (it is no
      // longer there), whose job then comes. Long-idle threads sit at the front of idle_, so the
      // search is short.
      own.unlock();
      bool reserved = false;
      {
        std::lock_guard lock(mu_);
        auto it = std::find(idle_.begin(), idle_.end(), self);
        if (it != idle_.end()) {
          idle_.erase(it);
        } else {
          reserved = true;
        }
      }
      if (!reserved) break;
      own.lock();
      self->cv.wait(own, [&] { return self->handed || self->stop; });
    }
    if (!self->handed) break;  // Shutdown
    // A job handed over is run even if Shutdown began meanwhile.
    self->handed = false;
    job = std::move(self->job);
    self->job = nullptr;
  }
  std::lock_guard lock(mu_);
  --live_;
  exited_.push_back(std::this_thread::get_id());
}

void CallbackPool::Shutdown() {
  std::list<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (const auto& worker : idle_) {
      {
        std::lock_guard own(worker->mu);
        worker->stop = true;
      }
      worker->cv.notify_one();
    }
    idle_.clear();
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

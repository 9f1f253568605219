#pragma once
// The threads that run InvokeAsync's invocations (each blocks in Invoke until its function
// answers, then calls the caller's callback). A thread that finished a job waits for the next
// one for `idle_timeout` before it exits, so a steady stream of asynchronous invocations reuses
// threads instead of creating one per invocation.
//
// Never a deadlock: a job posted while no thread is idle gets a new thread, so a job never
// waits behind jobs that are blocked (e.g. a native function waiting for another asynchronous
// invocation). The number of threads is therefore the number of jobs running at once, which the
// invoker's concurrency limits bound (an invocation beyond them is throttled at once), plus idle
// threads for at most `idle_timeout`.
// Thread model: thread-safe. Shutdown (and the destructor) waits for every job posted.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace switchyard::invoker {

class CallbackPool {
 public:
  explicit CallbackPool(std::chrono::milliseconds idle_timeout = std::chrono::seconds(10));
  ~CallbackPool();
  CallbackPool(const CallbackPool&) = delete;
  CallbackPool& operator=(const CallbackPool&) = delete;

  void Post(std::function<void()> job);
  // Waits for the jobs posted (queued ones run first) and joins the threads. A Post after
  // Shutdown runs the job on the caller's thread.
  void Shutdown();
  // Threads alive (running a job or idle), and those idle; for tests.
  int Threads() const;
  int Idle() const;

 private:
  void Loop();

  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // Guarded by mu_.
  std::list<std::thread> threads_;          // Guarded by mu_.
  std::vector<std::thread::id> exited_;     // Guarded by mu_: returned from Loop, not joined.
  int live_ = 0;                            // Guarded by mu_.
  int idle_ = 0;                            // Guarded by mu_: waiting for a job.
  bool stopping_ = false;                   // Guarded by mu_.
};

}  // namespace switchyard::invoker

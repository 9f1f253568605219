#pragma once
// The threads that run InvokeAsync's invocations (each blocks in Invoke until its function
// answers, then calls the caller's callback). A thread that finished a job waits for the next
// one for `idle_timeout` before it exits, so a steady stream of asynchronous invocations reuses
// threads instead of creating one per invocation.
//
// A job goes to the thread that became idle most recently (a stack of idle threads, each waiting
// on its own condition variable, the job handed to it directly): in a steady stream of short
// jobs the same few threads run them with warm stacks, caches and allocator caches, and the
// threads at the bottom of the stack, idle longest, are the ones that time out.
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
#include <memory>
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
  // Waits for the jobs posted (each is running on its own thread: none is ever queued) and joins
  // the threads. A Post after Shutdown runs the job on the caller's thread.
  void Shutdown();
  // Threads alive (running a job or idle), and those idle; for tests.
  int Threads() const;
  int Idle() const;

 private:
  // A thread's handoff point, shared by the thread and a Post handing it a job (which may still
  // notify after the thread ran the job and exited). The thread is in idle_ exactly while it
  // waits with no job handed to it; whoever removes it from idle_ (Post reserving it for a job,
  // or the thread itself on its timeout) does so under mu_. The job is handed under the worker's
  // own mutex and the thread woken after it is released: a waking thread contends with nobody.
  struct Worker {
    std::mutex mu;
    std::condition_variable cv;
    std::function<void()> job;  // Guarded by mu.
    bool handed = false;        // Guarded by mu: `job` was handed over, run it.
    bool stop = false;          // Guarded by mu: Shutdown, and no job was handed.
  };

  void Loop(std::function<void()> job);

  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  // Guarded by mu_: the most recently idle at the back.
  std::deque<std::shared_ptr<Worker>> idle_;
  std::list<std::thread> threads_;       // Guarded by mu_.
  std::vector<std::thread::id> exited_;  // Guarded by mu_: returned from Loop, not joined.
  int live_ = 0;                         // Guarded by mu_.
  bool stopping_ = false;                // Guarded by mu_.
};

}  // namespace switchyard::invoker

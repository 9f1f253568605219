#pragma once
// Threads for work that blocks (invocations, file I/O, the database), so that the HTTP I/O
// threads never do. Grows on demand up to max_threads; a thread idle for idle_timeout exits.
// Jobs beyond max_threads wait in FIFO order.
// Thread model: thread-safe. The destructor (and Shutdown) runs every queued job and joins.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace switchyard::orchestrator::api {

class WorkPool {
 public:
  explicit WorkPool(int max_threads,
                    std::chrono::milliseconds idle_timeout = std::chrono::seconds(30));
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void Post(std::function<void()> job);
  // Runs what is queued, waits for running jobs, joins the threads. Later Posts run inline.
  void Shutdown();

 private:
  void Loop();

  const int max_threads_;
  const std::chrono::milliseconds idle_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // Guarded by mu_.
  std::vector<std::thread> threads_;        // Guarded by mu_.
  std::vector<std::thread::id> exited_;     // Guarded by mu_.
  int live_ = 0;                            // Guarded by mu_.
  int idle_ = 0;                            // Guarded by mu_.
  bool stopping_ = false;                   // Guarded by mu_.
};

}  // namespace switchyard::orchestrator::api

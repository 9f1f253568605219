#pragma once
// The work channel: PostgreSQL LISTEN/NOTIFY on store::kWorkChannel, a hint that work is
// runnable (never the only path: the engine also polls). Used on one thread.
#include <functional>
#include <memory>
#include <string>

namespace switchyard::orchestrator::store {

class WorkChannel {
 public:
  // Opens its own connection to `url` and LISTENs; `wake` runs (on the caller's thread, inside
  // Await) for each notification. Throws on a connection failure (pqxx's exceptions).
  WorkChannel(const std::string& url, std::function<void()> wake);
  ~WorkChannel();
  WorkChannel(const WorkChannel&) = delete;
  WorkChannel& operator=(const WorkChannel&) = delete;

  // Waits up to `microseconds` for notifications, running `wake` for each one that arrived.
  void Await(long microseconds);
  // Sends NOTIFY on the channel (outside any transaction: delivered at once).
  void Notify();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::orchestrator::store

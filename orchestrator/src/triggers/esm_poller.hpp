#pragma once
// Delivers queue messages to functions through the event-source mappings of the QueueStore, as
// Lambda's SQS poller does: batches of up to BatchSize (waiting up to
// MaximumBatchingWindowInSeconds to fill one), the SQS event ({"Records":[...]}), messages
// deleted only after the function succeeded (with ReportBatchItemFailures: all but the reported
// ones), failures left to come back after the queue's visibility timeout and to be
// dead-lettered by its redrive policy. Every node runs a poller; receiving claims messages in
// the database (SKIP LOCKED + visibility), so no message is delivered twice while its
// visibility timeout runs, and a FIFO group is never in two batches at once.
// Each enabled mapping gets ScalingConfig.MaximumConcurrency polling threads per node (5 when
// unset, at most 64). With MaximumConcurrency set, the cap holds across all nodes: a thread
// receives and invokes only while it holds one of the mapping's MaximumConcurrency slots
// (store::MappingSlot, a PostgreSQL advisory lock), so at most MaximumConcurrency batches run at
// once in the cluster (and at most 64 on one node).
// Thread model: Start and Stop from one controlling thread; the poller's own threads do the rest.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace switchyard::invoker {
class Invoker;
}
namespace switchyard::orchestrator::store {
class QueueStore;
}

namespace switchyard::orchestrator::triggers {

class EsmPoller {
 public:
  EsmPoller(store::QueueStore& queues, invoker::Invoker& invoker, std::string region,
            std::string account_id);
  ~EsmPoller();  // Stop()
  EsmPoller(const EsmPoller&) = delete;
  EsmPoller& operator=(const EsmPoller&) = delete;

  void Start();
  // Stops polling; batches being invoked finish first (their messages are deleted or left).
  void Stop();

  struct Mapping;

 private:
  void Supervise();

  store::QueueStore& queues_;
  invoker::Invoker& invoker_;
  const std::string region_;
  const std::string account_id_;
  std::thread supervisor_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                         // Guarded by mu_.
  std::map<std::string, std::unique_ptr<Mapping>> mappings_;  // by UUID; supervisor thread only
};

}  // namespace switchyard::orchestrator::triggers

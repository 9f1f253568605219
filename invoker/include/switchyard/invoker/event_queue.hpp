#pragma once
// The queue behind asynchronous (Event) invocations. The invoker pushes accepted events and
// retries onto it and pops them when due; an embedder may supply a durable implementation
// (e.g. a database table) through InvokerOptions::event_queue.
//
// Thread model: implementations must be thread-safe; the invoker calls Push from invoking
// threads and PopDue/Size from its async thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace switchyard::invoker {

using AsyncClock = std::chrono::system_clock;

struct QueuedEvent {
  std::string request_id;
  std::string function_name;
  std::string qualifier;  // "" = $LATEST
  std::string payload;
  int attempts = 0;        // invocations made so far (approximateInvokeCount)
  int throttle_count = 0;  // throttles / environment errors so far (backoff exponent)
  AsyncClock::time_point enqueued_at;
  AsyncClock::time_point due;  // not to be popped before this time
  // Set by a durable queue when it hands the event out under a lease (its claim's generation);
  // Push and Done with a stale claim change nothing. 0 = not claimed (a new event).
  int64_t claim = 0;
};

class EventQueue {
 public:
  virtual ~EventQueue() = default;
  virtual void Push(QueuedEvent event) = 0;
  // Removes and returns the event with the earliest `due` if it is due at `now`. Otherwise
  // returns nullopt and sets `next_due` to the earliest due time (nullopt when empty).
  virtual std::optional<QueuedEvent> PopDue(AsyncClock::time_point now,
                                            std::optional<AsyncClock::time_point>* next_due) = 0;
  virtual std::size_t Size() const = 0;
  // The invoker is done with a popped event (it succeeded or failed for good; its record went
  // to its destinations). A queue that leases events instead of removing them at PopDue (a
  // durable one: a node that dies mid-invocation must not lose the event) deletes it here; a
  // retry is a Push of the popped event instead. The default does nothing.
  virtual void Done(const QueuedEvent& event) { (void)event; }
};

// The default: events live in memory and are lost when the process ends.
class InMemoryEventQueue : public EventQueue {
 public:
  void Push(QueuedEvent event) override;
  std::optional<QueuedEvent> PopDue(AsyncClock::time_point now,
                                    std::optional<AsyncClock::time_point>* next_due) override;
  std::size_t Size() const override;

 private:
  mutable std::mutex mu_;
  std::deque<QueuedEvent> events_;  // Guarded by mu_.
};

}  // namespace switchyard::invoker

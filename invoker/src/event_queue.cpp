#include "switchyard/invoker/event_queue.hpp"

#include <algorithm>

namespace switchyard::invoker {

void InMemoryEventQueue::Push(QueuedEvent event) {
  std::lock_guard lock(mu_);
  events_.push_back(std::move(event));
}

std::optional<QueuedEvent> InMemoryEventQueue::PopDue(
    AsyncClock::time_point now, std::optional<AsyncClock::time_point>* next_due) {
  std::lock_guard lock(mu_);
  next_due->reset();
  if (events_.empty()) return std::nullopt;
  // Earliest due first; among equals, the oldest push (min_element keeps the first).
  auto next =
      std::min_element(events_.begin(), events_.end(),
                       [](const QueuedEvent& a, const QueuedEvent& b) { return a.due < b.due; });
  if (next->due > now) {
    *next_due = next->due;
    return std::nullopt;
  }
  QueuedEvent event = std::move(*next);
  events_.erase(next);
  return event;
}

std::size_t InMemoryEventQueue::Size() const {
  std::lock_guard lock(mu_);
  return events_.size();
}

}  // namespace switchyard::invoker

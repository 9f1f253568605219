#include "switchyard/invoker/event_queue.hpp"

#include <gtest/gtest.h>

namespace switchyard::invoker {
namespace {

QueuedEvent At(const std::string& id, int64_t due_seconds) {
  QueuedEvent event;
  event.request_id = id;
  event.due = AsyncClock::time_point(std::chrono::seconds(due_seconds));
  return event;
}

TEST(InMemoryEventQueueTest, PopsTheEarliestDueEventOnlyWhenDue) {
  InMemoryEventQueue queue;
  queue.Push(At("later", 20));
  queue.Push(At("sooner", 10));
  queue.Push(At("also-sooner", 10));
  std::optional<AsyncClock::time_point> next_due;

  EXPECT_FALSE(queue.PopDue(AsyncClock::time_point(std::chrono::seconds(9)), &next_due));
  ASSERT_TRUE(next_due);
  EXPECT_EQ(*next_due, AsyncClock::time_point(std::chrono::seconds(10)));

  const auto t20 = AsyncClock::time_point(std::chrono::seconds(20));
  std::string order;
  while (auto event = queue.PopDue(t20, &next_due)) order += event->request_id + ",";
  EXPECT_EQ(order, "sooner,also-sooner,later,");
  EXPECT_FALSE(next_due);
  EXPECT_EQ(queue.Size(), 0u);
}

}  // namespace
}  // namespace switchyard::invoker

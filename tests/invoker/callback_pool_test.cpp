// CallbackPool (invoker/src/callback_pool.hpp): the threads of InvokeAsync.
#include "callback_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

namespace switchyard::invoker {
namespace {

// Polls `done` for up to 30 s (a loaded machine); the assertion is on the state, not the time.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 3000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

TEST(CallbackPoolTest, ReusesAnIdleThread) {
  CallbackPool pool;
  for (int i = 0; i < 5; ++i) {
    std::promise<std::thread::id> ran;
    pool.Post([&] { ran.set_value(std::this_thread::get_id()); });
    ran.get_future().get();
    ASSERT_TRUE(Eventually([&] { return pool.Idle() == 1; }));
  }
  EXPECT_EQ(pool.Threads(), 1);
}

TEST(CallbackPoolTest, JobsThatWaitForEachOtherDoNotDeadlock) {
  // Every job blocks until all have started: a pool that queued a job behind busy threads
  // would never finish.
  CallbackPool pool;
  constexpr int kJobs = 64;
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  std::atomic<int> finished{0};
  for (int i = 0; i < kJobs; ++i) {
    pool.Post([&] {
      std::unique_lock lock(mu);
      ++started;
      cv.notify_all();
      cv.wait(lock, [&] { return started == kJobs; });
      ++finished;
    });
  }
  pool.Shutdown();
  EXPECT_EQ(finished.load(), kJobs);
}

TEST(CallbackPoolTest, AJobMayPostAnotherAndWaitForIt) {
  CallbackPool pool;
  std::promise<int> outer;
  pool.Post([&] {
    std::promise<int> inner;
    pool.Post([&] { inner.set_value(7); });
    outer.set_value(inner.get_future().get());
  });
  EXPECT_EQ(outer.get_future().get(), 7);
}

TEST(CallbackPoolTest, IdleThreadsExitAndAreReplaced) {
  CallbackPool pool(std::chrono::milliseconds(1));
  std::promise<void> first;
  pool.Post([&] { first.set_value(); });
  first.get_future().get();
  ASSERT_TRUE(Eventually([&] { return pool.Threads() == 0; }));
  std::promise<void> second;
  pool.Post([&] { second.set_value(); });
  second.get_future().get();
}

TEST(CallbackPoolTest, ShutdownRunsWhatWasPostedAndLaterPostsRunInline) {
  std::atomic<int> ran{0};
  CallbackPool pool;
  for (int i = 0; i < 10; ++i) pool.Post([&] { ++ran; });
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 10);
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id where;
  pool.Post([&] { where = std::this_thread::get_id(); });
  EXPECT_EQ(where, caller);
}

}  // namespace
}  // namespace switchyard::invoker

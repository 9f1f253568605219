// CallbackPool (invoker/src/callback_pool.hpp): the threads of InvokeAsync.
#include "callback_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

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

// Posts `n` jobs that each block until released, so the pool has `n` threads; releases them one
// at a time and returns the thread ids in the order they were released. With `in_order`, each is
// idle before the next is released (so the pool's idle timeout must outlast the setup).
std::vector<std::thread::id> MakeIdleThreads(CallbackPool& pool, int n, bool in_order = true) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    int started = 0;
    int released = 0;
    std::vector<std::thread::id> ids;
  };
  // Shared with the jobs: without `in_order` they may still be leaving when this returns.
  auto state = std::make_shared<State>();
  state->ids.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    pool.Post([state, i] {
      std::unique_lock lock(state->mu);
      state->ids[static_cast<size_t>(i)] = std::this_thread::get_id();
      ++state->started;
      state->cv.notify_all();
      state->cv.wait(lock, [&] { return state->released > i; });
    });
  }
  std::unique_lock lock(state->mu);
  state->cv.wait(lock, [&] { return state->started == n; });
  for (int i = 0; i < n; ++i) {
    state->released = i + 1;
    state->cv.notify_all();
    if (in_order) {
      lock.unlock();
      EXPECT_TRUE(Eventually([&] { return pool.Idle() == i + 1; }));
      lock.lock();
    }
  }
  return state->ids;
}

TEST(CallbackPoolTest, AJobGoesToTheMostRecentlyIdleThread) {
  CallbackPool pool;
  const std::vector<std::thread::id> ids = MakeIdleThreads(pool, 6);
  ASSERT_EQ(pool.Threads(), 6);
  for (int i = 0; i < 20; ++i) {
    std::promise<std::thread::id> ran;
    pool.Post([&] { ran.set_value(std::this_thread::get_id()); });
    EXPECT_EQ(ran.get_future().get(), ids.back()) << "job " << i;
    ASSERT_TRUE(Eventually([&] { return pool.Idle() == 6; }));
  }
  EXPECT_EQ(pool.Threads(), 6);
  // Two jobs at once: the two most recently idle threads.
  std::mutex mu;
  std::condition_variable cv;
  int started = 0;
  std::vector<std::thread::id> two;
  for (int i = 0; i < 2; ++i) {
    pool.Post([&] {
      std::unique_lock lock(mu);
      two.push_back(std::this_thread::get_id());
      ++started;
      cv.notify_all();
      cv.wait(lock, [&] { return started == 2; });
    });
  }
  pool.Shutdown();
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NE(std::find(two.begin(), two.end(), ids[5]), two.end());
  EXPECT_NE(std::find(two.begin(), two.end(), ids[4]), two.end());
}

TEST(CallbackPoolTest, LongIdleThreadsExitWhileOthersStayBusy) {
  // One job at a time keeps the top thread busy; the 7 others, below it on the stack, time out.
  // (Strictly round-robin hand-out would keep all 8 alive; the former pool, one condition variable
  // whose waiters glibc wakes roughly in FIFO order, got there too, but after ~6 s here.)
  CallbackPool pool(std::chrono::milliseconds(200));
  MakeIdleThreads(pool, 8, /*in_order=*/false);
  bool fell = false;
  for (int i = 0; i < 30000 && !fell; ++i) {
    std::promise<void> ran;
    pool.Post([&] { ran.set_value(); });
    ran.get_future().get();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    fell = pool.Threads() <= 2;
  }
  EXPECT_TRUE(fell) << pool.Threads() << " threads";
  pool.Shutdown();
  EXPECT_EQ(pool.Threads(), 0);
}

TEST(CallbackPoolTest, ShutdownWakesIdleThreadsAndJoinsThem) {
  CallbackPool pool;
  MakeIdleThreads(pool, 4);
  pool.Shutdown();
  EXPECT_EQ(pool.Threads(), 0);
  EXPECT_EQ(pool.Idle(), 0);
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

// Posters racing idle timeouts (1 ms) and each other: every job runs exactly once, and the
// threads a reserved-then-timed-out handoff leaves are joined.
TEST(CallbackPoolTest, EveryJobRunsOnceWhilePostsRaceIdleTimeouts) {
  std::atomic<int> ran{0};
  {
    CallbackPool pool(std::chrono::milliseconds(1));
    std::vector<std::thread> posters;
    for (int p = 0; p < 4; ++p) {
      posters.emplace_back([&pool, &ran, p] {
        for (int i = 0; i < 2000; ++i) {
          pool.Post([&ran] { ran.fetch_add(1); });
          if ((i + p) % 97 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      });
    }
    for (auto& poster : posters) poster.join();
    pool.Shutdown();
    EXPECT_EQ(pool.Threads(), 0);
  }
  EXPECT_EQ(ran.load(), 8000);
}

}  // namespace
}  // namespace switchyard::invoker

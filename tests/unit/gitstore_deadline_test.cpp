// NetworkDeadline: a blocked recv() is interrupted once the idle time passes without
// progress, progress keeps a slow peer alive, and nothing fires after it is gone.

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include <cairn/gitstore/deadline.hpp>

namespace {

using namespace std::chrono_literals;
using cairn::gitstore::NetworkDeadline;
using Clock = std::chrono::steady_clock;

struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0); }
  ~SocketPair() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
};

TEST(NetworkDeadline, InterruptsABlockedReceiveAfterTheIdleTime) {
  SocketPair s;
  const auto start = Clock::now();
  NetworkDeadline deadline(200ms);
  char c = 0;
  const ssize_t n = ::recv(s.fd[0], &c, 1, 0);
  const int err = errno;
  const auto waited = Clock::now() - start;
  EXPECT_EQ(n, -1);
  EXPECT_EQ(err, EINTR);
  EXPECT_TRUE(deadline.expired());
  EXPECT_GE(waited, 190ms);
  EXPECT_LT(waited, 5s);
  EXPECT_EQ(deadline.reason(), "no answer for 0.2 s (timed out; CAIRN_NETWORK_TIMEOUT)");
}

TEST(NetworkDeadline, KeepsInterruptingUntilTheCallGivesUp) {
  // A call that retries after EINTR (as a library might) is interrupted again.
  SocketPair s;
  NetworkDeadline deadline(100ms);
  int interrupted = 0;
  char c = 0;
  while (interrupted < 3) {
    if (::recv(s.fd[0], &c, 1, 0) == -1 && errno == EINTR) ++interrupted;
  }
  EXPECT_EQ(interrupted, 3);
}

TEST(NetworkDeadline, ProgressKeepsASlowPeerAlive) {
  SocketPair s;
  std::atomic<bool> stop{false};
  std::thread peer([&] {
    // One byte every 100 ms for 2.5 s: longer in all than the idle time, never idle that long.
    for (int i = 0; i < 25 && !stop; ++i) {
      std::this_thread::sleep_for(100ms);
      char c = 'x';
      (void)::send(s.fd[1], &c, 1, 0);
    }
  });
  NetworkDeadline deadline(1500ms);
  int got = 0;
  while (got < 25) {
    char c = 0;
    const ssize_t n = ::recv(s.fd[0], &c, 1, 0);
    if (n != 1) break;
    ++got;
    deadline.touch();
  }
  stop = true;
  peer.join();
  EXPECT_EQ(got, 25);
  EXPECT_FALSE(deadline.expired());
}

TEST(NetworkDeadline, NothingFiresOnceItIsGone) {
  { NetworkDeadline deadline(50ms); }
  // Would be interrupted (or killed by SIGALRM's default action) if a timer survived.
  SocketPair s;
  char c = 'x';
  std::thread peer([&] {
    std::this_thread::sleep_for(300ms);
    (void)::send(s.fd[1], &c, 1, 0);
  });
  char got = 0;
  EXPECT_EQ(::recv(s.fd[0], &got, 1, 0), 1);
  peer.join();
}

TEST(NetworkDeadline, TimeoutComesFromTheEnvironment) {
  ::setenv("CAIRN_NETWORK_TIMEOUT", "2.5", 1);
  EXPECT_EQ(cairn::gitstore::network_timeout(), 2500ms);
  ::setenv("CAIRN_NETWORK_TIMEOUT", "junk", 1);
  EXPECT_EQ(cairn::gitstore::network_timeout(), 60s);
  ::setenv("CAIRN_NETWORK_TIMEOUT", "0", 1);
  EXPECT_EQ(cairn::gitstore::network_timeout(), 60s);
  ::unsetenv("CAIRN_NETWORK_TIMEOUT");
  EXPECT_EQ(cairn::gitstore::network_timeout(), 60s);
  NetworkDeadline whole(std::chrono::seconds(60));
  EXPECT_EQ(whole.reason(), "no answer for 60 s (timed out; CAIRN_NETWORK_TIMEOUT)");
}

}  // namespace

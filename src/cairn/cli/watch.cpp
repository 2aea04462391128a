// `cairn tick --watch`: signals reach the loop through a self-pipe, never by blocking
// them: a blocked mask would be inherited by every process a tick starts (local jobs
// among them, which then could not be stopped at their time limit).

#include <cairn/cli/watch.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cairn/cli/verbs.hpp>
#include <cairn/util/expected.hpp>
#include <cairn/util/time.hpp>

namespace cairn::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_wake = 0;
int g_pipe[2] = {-1, -1};

void on_signal(int sig) {
  if (sig == SIGHUP) {
    g_wake = 1;
  } else {
    g_stop = 1;
  }
  const int saved = errno;
  const char byte = 0;
  [[maybe_unused]] auto n = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

// Installs the handlers for the loop; restores the previous ones on destruction.
class SignalScope {
 public:
  SignalScope() {
    if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_pipe[0] = g_pipe[1] = -1;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // a tick's reads and waits go on as if nothing happened
    for (std::size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &sa, &m_old[i]);
  }
  ~SignalScope() {
    for (std::size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &m_old[i], nullptr);
    for (int& fd : g_pipe) {
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  static constexpr std::array<int, 3> kSignals = {SIGTERM, SIGINT, SIGHUP};
  std::array<struct sigaction, 3> m_old{};
};

void drain() {
  char buf[64];
  while (g_pipe[0] >= 0 && ::read(g_pipe[0], buf, sizeof buf) > 0) {
  }
}

// Sleeps up to `seconds`, returning early when a signal arrives or the remote moved
// (asked every `poll_seconds`).
void sleep_or_signal(std::int64_t seconds, const std::function<bool()>& remote_moved,
                     std::int64_t poll_seconds) {
  std::int64_t next_poll_ms = poll_seconds * 1000;
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    if (g_stop || g_wake) return;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const std::int64_t elapsed_ms =
        (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    const std::int64_t left_ms = seconds * 1000 - elapsed_ms;
    if (left_ms <= 0) return;
    if (remote_moved && elapsed_ms >= next_poll_ms) {
      next_poll_ms = elapsed_ms + poll_seconds * 1000;
      if (remote_moved()) {
        std::printf("watch: the remote branch moved; ticking now\n");
        return;
      }
    }
    pollfd p{g_pipe[0], POLLIN, 0};
    // Without the pipe (pipe2 failed) poll just sleeps; the flags are seen at the next pass.
    ::poll(&p, g_pipe[0] >= 0 ? 1 : 0, static_cast<int>(std::min<std::int64_t>(left_ms, 1000)));
    drain();
  }
}

}  // namespace

Outcome watch_loop(const WatchedTick& tick, std::int64_t max_sleep_seconds,
                   const std::function<bool()>& remote_moved, std::int64_t poll_seconds) {
  g_stop = 0;
  g_wake = 0;
  SignalScope signals;
  for (;;) {
    g_wake = 0;
    std::int64_t next = -1;
    const Outcome ticked = tick(next);
    const int rc = finish("tick", ticked);  // prints what went wrong
    std::fflush(stdout);
    if (!ticked && ticked.error().exit == ExitCode::usage) return fail("", ExitCode::usage);
    if (g_stop) break;
    std::int64_t sleep_for = next >= 0 ? next : 60;
    if (max_sleep_seconds > 0) sleep_for = std::min(sleep_for, max_sleep_seconds);
    if (rc != 0) std::fprintf(stderr, "cairn tick --watch: that tick exited %d; trying again\n", rc);
    std::printf("watch: sleeping %s (SIGHUP ticks now, SIGTERM stops)\n",
                util::human_duration(sleep_for).c_str());
    std::fflush(stdout);
    sleep_or_signal(sleep_for, remote_moved, std::max<std::int64_t>(1, poll_seconds));
    if (g_stop) break;
  }
  std::printf("watch: stopped by signal after a complete tick\n");
  return {};
}

}  // namespace cairn::cli

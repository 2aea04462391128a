#pragma once

// A bound on network calls that libgit2 (1.5) cannot bound itself: it has no connect or
// read timeout, so a remote that accepts the connection and never answers (a wedged
// proxy, a half-dead server) would hold a tick — and the CI runner — forever.
// NetworkDeadline interrupts the blocking system calls of the thread that made it once
// `idle` passes without progress: libgit2's connect()/recv() then fail with EINTR, the
// call returns an error, and the caller reports a timeout (exit 3).

#include <time.h>

#include <chrono>
#include <string>

namespace cairn::gitstore {

// How long a network call may go without progress: $CAIRN_NETWORK_TIMEOUT seconds
// (fractions allowed, e.g. "0.5"), default 60.
std::chrono::milliseconds network_timeout();

// While alive, a POSIX timer aimed at the constructing thread raises SIGALRM (caught by
// a no-op handler installed without SA_RESTART) `idle` after construction or the last
// touch(), and every 100 ms after that, until destroyed. Call touch() from libgit2's
// progress callbacks; return an error from them once expired(). Not nestable on one thread.
class NetworkDeadline {
 public:
  explicit NetworkDeadline(std::chrono::milliseconds idle = network_timeout());
  ~NetworkDeadline();
  NetworkDeadline(const NetworkDeadline&) = delete;
  NetworkDeadline& operator=(const NetworkDeadline&) = delete;

  // Progress was made: the idle clock starts again.
  void touch();
  // Whether `idle` passed without progress.
  bool expired() const;
  // "no answer for 60 s (CAIRN_NETWORK_TIMEOUT)".
  std::string reason() const;

 private:
  void arm();

  std::chrono::milliseconds m_idle;
  std::chrono::steady_clock::time_point m_last;
  timer_t m_timer{};
  bool m_armed = false;
};

}  // namespace cairn::gitstore

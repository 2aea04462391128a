#include <cairn/gitstore/deadline.hpp>

#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

namespace cairn::gitstore {

namespace {

// Does nothing: its only job is to make the interrupted system call return EINTR.
extern "C" void on_deadline(int /*signo*/) {}

void install_handler() {
  static std::once_flag once;
  // Installed once and never removed: a signal still in flight after a timer is deleted
  // must not find SIGALRM's default action (terminate).
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = on_deadline;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: blocked calls must fail with EINTR
    ::sigaction(SIGALRM, &sa, nullptr);
  });
}

timespec to_timespec(std::chrono::milliseconds ms) {
  timespec t{};
  t.tv_sec = static_cast<time_t>(ms.count() / 1000);
  t.tv_nsec = static_cast<long>((ms.count() % 1000) * 1000000);
  return t;
}

}  // namespace

std::chrono::milliseconds network_timeout() {
  const char* v = std::getenv("CAIRN_NETWORK_TIMEOUT");
  if (v != nullptr && *v != '\0') {
    char* end = nullptr;
    const double seconds = std::strtod(v, &end);
    if (end != v && std::isfinite(seconds) && seconds > 0) {
      return std::chrono::milliseconds(std::max<long long>(1, std::llround(seconds * 1000)));
    }
  }
  return std::chrono::seconds(60);
}

NetworkDeadline::NetworkDeadline(std::chrono::milliseconds idle)
    : m_idle(idle), m_last(std::chrono::steady_clock::now()) {
  install_handler();
  sigevent sev{};
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = SIGALRM;
  sev._sigev_un._tid = ::gettid();
  // Without a timer there is no bound, as before: the call still works.
  m_armed = ::timer_create(CLOCK_MONOTONIC, &sev, &m_timer) == 0;
  arm();
}

NetworkDeadline::~NetworkDeadline() {
  if (m_armed) ::timer_delete(m_timer);
}

void NetworkDeadline::arm() {
  if (!m_armed) return;
  itimerspec spec{};
  spec.it_value = to_timespec(m_idle);
  spec.it_interval = to_timespec(std::chrono::milliseconds(100));  // until the call gives up
  ::timer_settime(m_timer, 0, &spec, nullptr);
}

void NetworkDeadline::touch() {
  if (expired()) return;  // too late: the call is being interrupted already
  m_last = std::chrono::steady_clock::now();
  arm();
}

bool NetworkDeadline::expired() const {
  return std::chrono::steady_clock::now() - m_last >= m_idle;
}

std::string NetworkDeadline::reason() const {
  const auto ms = m_idle.count();
  return ms % 1000 == 0
             ? fmt::format("no answer for {} s (timed out; CAIRN_NETWORK_TIMEOUT)", ms / 1000)
             : fmt::format("no answer for {:.1f} s (timed out; CAIRN_NETWORK_TIMEOUT)", ms / 1000.0);
}

}  // namespace cairn::gitstore

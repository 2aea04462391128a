#include <cairn/engine/ports.hpp>

#include <algorithm>
#include <array>
#include <charconv>

namespace cairn::engine {

std::string_view to_string(JobState s) {
  static constexpr std::array<std::string_view, 11> kNames = {
      "pending",   "running",   "completed", "failed",    "timeout", "out_of_memory",
      "node_fail", "preempted", "cancelled", "boot_fail", "unknown"};
  return kNames[static_cast<std::size_t>(s)];
}

bool is_final(JobState s) {
  return s != JobState::pending && s != JobState::running && s != JobState::unknown;
}

namespace {

// Badness of a final state, for "worst task wins".
int severity(JobState s) {
  switch (s) {
    case JobState::completed: return 0;
    case JobState::preempted: return 1;
    case JobState::cancelled: return 2;
    case JobState::failed: return 3;
    case JobState::timeout: return 4;
    case JobState::out_of_memory: return 5;
    case JobState::node_fail: return 6;
    case JobState::boot_fail: return 7;
    default: return -1;
  }
}

std::optional<long> index_number(const std::string& text) {
  long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace

void summarize_tasks(JobStatus& job) {
  std::sort(job.tasks.begin(), job.tasks.end(), [](const TaskStatus& a, const TaskStatus& b) {
    auto na = index_number(a.index), nb = index_number(b.index);
    if (na && nb) return *na < *nb;
    if (na.has_value() != nb.has_value()) return na.has_value();
    return a.index < b.index;
  });
  bool any_running = false, any_pending = false, any_unknown = false;
  int worst = -1;
  std::string bad;
  job.exit_code.reset();
  for (const auto& t : job.tasks) {
    any_running |= t.state == JobState::running;
    any_pending |= t.state == JobState::pending;
    any_unknown |= t.state == JobState::unknown;
    if (severity(t.state) > worst) {
      worst = severity(t.state);
      job.state = t.state;
    }
    if (severity(t.state) > 0)
      bad += (bad.empty() ? "" : ", ") + t.index + " " + std::string(to_string(t.state));
    if (!job.exit_code && t.exit_code && *t.exit_code != 0) job.exit_code = t.exit_code;
  }
  if (any_running) {
    job.state = JobState::running;
  } else if (any_pending) {
    job.state = JobState::pending;
  } else if (any_unknown) {
    job.state = JobState::unknown;
  }
  if (!job.exit_code && job.state == JobState::completed) job.exit_code = 0;
  job.reason = bad.empty() ? std::to_string(job.tasks.size()) + " task(s)" : "tasks " + bad;
}

}  // namespace cairn::engine

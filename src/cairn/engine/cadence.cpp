#include <cairn/engine/cadence.hpp>

#include <algorithm>

#include <cairn/util/time.hpp>

namespace cairn::engine {

std::int64_t cadence_for_expect(std::int64_t expect) {
  if (expect < 3600) return 5 * 60;
  if (expect <= 4 * 3600) return 45 * 60;
  if (expect <= 24 * 3600) return 3 * 3600;
  return 10 * 3600;
}

std::int64_t campaign_cadence(const doc::Workflow& wf) {
  if (wf.escalation_required) return kIdleCadence;
  const doc::Stage* stage = wf.first_open_stage();
  if (stage == nullptr) return kIdleCadence;
  if (wf.status == doc::Status::escalated) return 0;  // cleared by hand: resume now
  switch (stage->status) {
    case doc::Status::running: {
      const doc::StageSpec* spec = wf.spec(stage->name);
      if (spec != nullptr && spec->expect_seconds) return cadence_for_expect(*spec->expect_seconds);
      if (spec != nullptr && spec->resources.time_seconds) {
        return cadence_for_expect(*spec->resources.time_seconds);
      }
      return cadence_for_expect(0);
    }
    case doc::Status::ready:
    case doc::Status::failed:
    case doc::Status::pending:    // an entry condition (approval, a file) is checked every tick
    case doc::Status::escalated:  // a stage still escalated once the flag was cleared
      return 0;                   // work waiting: due now
    case doc::Status::done: break;
  }
  return kIdleCadence;
}

std::int64_t seconds_until_due(const doc::Workflow& wf, std::chrono::system_clock::time_point now) {
  const auto last = util::parse_time(wf.last_tick);
  if (!last) return 0;
  const auto due = *last + std::chrono::seconds(campaign_cadence(wf));
  return std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::seconds>(due - now).count());
}

std::int64_t schedule_cadence(const parse::Schedule& s) {
  if (s.escalation_required) return kIdleCadence;
  switch (s.status) {
    case doc::Status::running: return cadence_for_expect(s.expect_seconds.value_or(0));
    case doc::Status::ready:
    case doc::Status::failed:
    case doc::Status::pending:
    case doc::Status::escalated: return 0;  // as campaign_cadence
    case doc::Status::done: break;
  }
  return kIdleCadence;
}

}  // namespace cairn::engine

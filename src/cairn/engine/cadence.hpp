#pragma once

// The cadence table of docs/tick.md "When a campaign is due": how soon a campaign wants
// its next tick.

#include <chrono>
#include <cstdint>

#include <cairn/doc/workflow.hpp>
#include <cairn/parse/workflow_file.hpp>

namespace cairn::engine {

inline constexpr std::int64_t kIdleCadence = 12 * 3600;

// Seconds until the next tick for a job expected to run `expect_seconds`:
// < 1 h: 5 min; 1-4 h: 45 min; 4-24 h: 3 h; > 24 h: 10 h.
std::int64_t cadence_for_expect(std::int64_t expect_seconds);

// The cadence of a whole campaign: from its running stage's `expect` (else its
// walltime, else "short"); 0 (due now) when work waits without a job: a stage ready,
// failed or pending (its entry condition is checked every tick, without a commit while
// it does not hold), or an escalation a human cleared; 12 h when done or escalated.
std::int64_t campaign_cadence(const doc::Workflow& wf);

// Seconds from `now` until the campaign is due by its cadence: its `last_tick` plus
// campaign_cadence(), 0 when that has passed or `last_tick` is unreadable. (A campaign a
// human changed since cairn last wrote it is due at once besides; see engine/tick.)
std::int64_t seconds_until_due(const doc::Workflow& wf, std::chrono::system_clock::time_point now);

// The same from the frontmatter alone (status, escalation_required and the current
// stage's expect), for deciding without a full parse that a campaign is not due.
std::int64_t schedule_cadence(const parse::Schedule& s);

}  // namespace cairn::engine

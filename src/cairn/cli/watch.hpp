#pragma once

// `cairn tick --watch`: a self-paced loop. Tick, sleep until the computed next
// tick, tick again, until stopped.

#include <cstdint>
#include <functional>

#include <cairn/cli/exit_policy.hpp>

namespace cairn::cli {

// One tick: returns its Outcome and sets `next_seconds` to the cadence it computed
// (left alone when the tick failed before computing one).
using WatchedTick = std::function<Outcome(std::int64_t& next_seconds)>;

// Runs `tick` until SIGTERM or SIGINT. Between ticks sleeps for the tick's next_seconds
// (capped at `max_sleep_seconds` when > 0; 60 s after a tick that computed none), woken
// early by SIGHUP or a push to the remote. A stop signal during a tick lets it finish (its commits and push
// complete) and then succeeds; during the sleep it succeeds at once. Each failed tick's
// error is printed (`cairn tick: ...`); the loop fails only on a usage error (exit 2),
// which no later tick can mend; other failures (findings 1, unreachable 3) are retried
// at the next wake-up.
// The signal handlers are installed for the loop's duration and restored after.
// `remote_moved`, when set, is asked every `poll_seconds` during a sleep: true (someone
// pushed: a merged pull request, a hand edit) ends the sleep early; a failure is ignored
// until the next poll.
Outcome watch_loop(const WatchedTick& tick, std::int64_t max_sleep_seconds,
                   const std::function<bool()>& remote_moved = {}, std::int64_t poll_seconds = 60);

}  // namespace cairn::cli

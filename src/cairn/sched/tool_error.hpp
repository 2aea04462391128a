#pragma once

// The CLI-driven backends (slurm, osmo, command) run a scheduler's own tools: sbatch,
// squeue, osmo, qsub, bjobs, kubectl, vastai... When one fails, this says what it said
// and whose fault it is: the service's (unreachable: the tick tries again later) or the
// request's (a finding the engine records).

#include <string>
#include <string_view>

#include <cairn/sched/command_runner.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::sched {

// What a failed tool said, for a message: the lines of its stderr (its stdout when
// stderr is empty) from the first that mentions an error, each with its white space
// collapsed, joined by " / " and cut to 600 characters ("..." then); "exit N" when it
// printed nothing. Never fails.
std::string tool_error_text(const CommandResult& result);

// Whether `text` says the service could not be reached, in any case: connection refused,
// reset or timed out, name resolution, no route, HTTP 502/503/504, Slurm's controller or
// LSF's daemons not answering, a server the client cannot connect to. Never fails.
bool says_unreachable(std::string_view text);

// The Error for a tool that failed: "WHAT: tool_error_text(result)", ExitCode::unreachable
// when its stderr or stdout says_unreachable, ExitCode::findings otherwise (a bad
// partition, queue or pool, a QOS limit, a forbidden request, a validation error).
Error classify_tool_error(std::string_view what, const CommandResult& result);

}  // namespace cairn::sched

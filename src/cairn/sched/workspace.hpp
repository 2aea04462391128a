#pragma once

// The engine's Workspace on this machine: what exit conditions look at after a job.

#include <chrono>
#include <optional>
#include <string>

#include <cairn/engine/ports.hpp>

namespace cairn::sched {

// Filesystem probes for exit conditions, on this machine: glob(3) for `` `GLOB` exists ``
// and `/bin/sh -c` (60 s limit) for `` `CMD` exits 0 ``.
class LocalWorkspace : public engine::Workspace {
 public:
  // Paths matching `glob` relative to `dir` (absolute globs as they are). Never fails
  // for "no match" (0); fails when glob(3) reports a read error.
  Expected<int> count_matches(const std::string& dir, const std::string& glob) override;
  // The newest modification time among the paths matching `glob` (stat(2)).
  Expected<std::optional<engine::TimePoint>> newest_match(const std::string& dir, const std::string& glob) override;
  // The exit status of `/bin/sh -c command` run in `dir`; fails when it cannot be
  // started or runs past the limit.
  Expected<int> run_check(const std::string& dir, const std::string& command) override;

  std::chrono::milliseconds check_timeout{60000};
};

}  // namespace cairn::sched

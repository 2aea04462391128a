#pragma once

// The engine's Workspace on this machine: what conditions look at in a job's directory.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <cairn/engine/ports.hpp>

namespace cairn::sched {

// Probes of a directory on this machine: glob(3) and stat(2) for counts and newest
// modification times, `/bin/sh -c` (60 s limit) in the directory for commands.
class LocalWorkspace : public engine::Workspace {
 public:
  // Fails (findings) when `dir` is not a directory, naming it; fails when glob(3)
  // reports a read error or a command cannot be started or runs past the limit.
  Expected<std::vector<engine::ProbeAnswer>> probe(const std::string& dir,
                                                   const std::vector<engine::Probe>& probes) override;

  std::chrono::milliseconds check_timeout{60000};
};

}  // namespace cairn::sched

#pragma once

// The engine's Workspace, on this machine or on the machine a backend runs its jobs on:
// what conditions look at in a job's directory.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <cairn/engine/ports.hpp>
#include <cairn/sched/command_runner.hpp>

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

// Probes of a directory where a CommandRunner runs its commands (an SshRunner: the
// cluster's login node), all probes of one call answered by ONE command: `sh -c SCRIPT
// cairn-probe DIR TIMEOUT KIND ARG...` (remote_probe_argv), a one-line POSIX sh script
// (no newline and no `!`, so a csh login shell passes it on unchanged) that checks DIR,
// enters it and prints one `cairn-probe ...` line per probe: the count of a glob's
// matches (the shell's own pathname expansion: `*` skips dot files, as glob(3) does),
// the newest match's mtime in epoch seconds (`stat -c %Y`: GNU coreutils), the exit
// status of `sh -c CMD` in DIR under `timeout` (stdin, stdout and stderr /dev/null).
// Lines without the `cairn-probe ` prefix (a login banner) are ignored.
class RemoteWorkspace : public engine::Workspace {
 public:
  // `runner` is not owned and must outlive this. `where` names the machine in messages
  // ("alpine-login"); `timeout` bounds the call on top of every command's check_timeout.
  RemoteWorkspace(CommandRunner& runner, std::string where, std::chrono::milliseconds timeout);

  // Fails with ExitCode::findings and a message starting "directory DIR does not exist"
  // when DIR is not a directory there (also when it cannot be entered, said so), or when
  // a check command runs past check_timeout; with ExitCode::unreachable when the runner
  // fails (no connection: SshRunner's exit 255, a timeout) or the answer is cut short.
  Expected<std::vector<engine::ProbeAnswer>> probe(const std::string& dir,
                                                   const std::vector<engine::Probe>& probes) override;

  std::chrono::seconds check_timeout{60};

 private:
  CommandRunner& m_runner;
  std::string m_where;
  std::chrono::milliseconds m_timeout;
};

// The argv RemoteWorkspace runs for `probes` about `dir` (through its runner, which for
// ssh quotes each element with shell_quote). Never fails.
std::vector<std::string> remote_probe_argv(const std::string& dir, const std::vector<engine::Probe>& probes,
                                           std::chrono::seconds check_timeout);

// The answers in the output of remote_probe_argv's command, in the order of `probes`.
// Fails as RemoteWorkspace::probe does: findings for a missing dir (named with `where`)
// or a check command past `check_timeout`, unreachable for a result that holds no
// complete answer (its exit status and first error line named).
Expected<std::vector<engine::ProbeAnswer>> parse_remote_probe(const std::string& dir,
                                                              const std::vector<engine::Probe>& probes,
                                                              const CommandResult& result,
                                                              const std::string& where,
                                                              std::chrono::seconds check_timeout);

}  // namespace cairn::sched

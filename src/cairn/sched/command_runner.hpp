#pragma once

// How scheduler backends run their command-line clients (sbatch, squeue, sacct, tail,
// ...): a small interface so tests can substitute a recording fake with canned output,
// and so the same backend can run every command on a remote login node through ssh.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cairn/util/expected.hpp>

namespace cairn::sched {

// What a finished command left behind. `exit` is the exit status, or 128 + N when the
// command was killed by signal N.
struct CommandResult {
  int exit = 0;
  std::string out;
  std::string err;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // Runs argv[0] (looked up on PATH) with the arguments argv[1..] (no shell), feeding
  // `input` on stdin, and waits at most `timeout`. Returns the exit status and output
  // also when it is non-zero. Fails with ExitCode::unreachable when the program cannot
  // be started or does not finish in time (it is killed then).
  virtual Expected<CommandResult> run(const std::vector<std::string>& argv, std::string_view input,
                                      std::chrono::milliseconds timeout) = 0;
};

// The real runner: a child process per call, on util/subprocess. The clients it runs
// (sbatch, the OSMO CLI, a preset's commands, ssh) serve workloads: they get
// util::workload_environment(), never the tick's credentials; with `only` non-empty just
// a client's basics plus the variables named there (e.g. {"OSMO_*"}).
class ProcessRunner : public CommandRunner {
 public:
  explicit ProcessRunner(std::vector<std::string> only = {}) : m_only(std::move(only)) {}
  Expected<CommandResult> run(const std::vector<std::string>& argv, std::string_view input,
                              std::chrono::milliseconds timeout) override;

 private:
  std::vector<std::string> m_only;
};

// `text` as one word for a POSIX shell: unchanged when it consists only of characters
// no shell treats specially ([A-Za-z0-9_@%+=:,./-], non-empty), otherwise in single
// quotes with each ' written as '\''. Never fails.
std::string shell_quote(std::string_view text);

struct SshOptions {
  std::string host;  // as for `ssh HOST`: a name from ~/.ssh/config or user@host
  int connect_timeout_seconds = 10;
  // ControlPath for connection sharing (ControlMaster=auto, ControlPersist); empty
  // turns sharing off. ssh expands %C to a hash of the connection.
  std::string control_path;
  int control_persist_seconds = 60;
  // An ssh client configuration file used instead of ~/.ssh/config (`ssh -F`), e.g. one
  // that names the login node's port, user and key; empty = ssh's default.
  std::string config_file;
  std::string ssh_program = "ssh";
};

// The local ssh invocation up to the host: `ssh [-F CONFIG] -o BatchMode=yes -o
// ConnectTimeout=N [sharing options]`, for SshRunner and for tools that take a remote
// shell command (rsync -e). Never fails.
std::vector<std::string> ssh_command(const SshOptions& options);

// Runs every command on `options.host` through the system ssh client:
// `ssh [-F CONFIG] -o BatchMode=yes -o ConnectTimeout=10 [sharing options] HOST -- 'arg0' ...`,
// each argument shell-quoted so the remote shell sees exactly the original argv.
class SshRunner : public CommandRunner {
 public:
  SshRunner(std::unique_ptr<CommandRunner> inner, SshOptions options);
  // Returns the remote command's result. Fails with ExitCode::unreachable when the inner
  // runner fails or ssh itself fails (exit 255: no connection, authentication refused).
  Expected<CommandResult> run(const std::vector<std::string>& argv, std::string_view input,
                              std::chrono::milliseconds timeout) override;
  // The local argv that runs `argv` remotely (exposed for tests). Never fails.
  std::vector<std::string> wrap(const std::vector<std::string>& argv) const;

 private:
  std::unique_ptr<CommandRunner> m_inner;
  SshOptions m_options;
};

}  // namespace cairn::sched

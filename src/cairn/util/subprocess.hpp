#pragma once

// Running a child process and collecting what it printed. The child gets its own
// process group so a timeout kills everything it started, not only the first process.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/util/expected.hpp>

namespace cairn::util {

struct Captured {
  int exit = 0;  // exit status, or 128 + N when killed by signal N
  std::string out;
  std::string err;
};

struct SpawnOptions {
  std::string cwd;               // empty = the caller's
  std::vector<std::string> env;  // "NAME=value" entries added to (or replacing in) the caller's
  // A workload's process (a check command, a scheduler client): the caller's environment
  // goes through workload_environment() first, so no credential reaches it.
  bool workload = false;
  std::vector<std::string> only;  // with `workload`: workload_environment's `only`
};

// Runs argv[0] (looked up on PATH, no shell) with argv[1..], writes `input` to its stdin
// and waits at most `timeout`. Returns the exit status and output also when non-zero.
// Fails when the program cannot be started, or does not finish in time (its process
// group is killed with SIGKILL then).
Expected<Captured> run_capture(const std::vector<std::string>& argv, const std::string& input,
                               std::chrono::milliseconds timeout, const SpawnOptions& options = {});

// `environ` with `extra` ("NAME=value") added, replacing entries of the same name.
std::vector<std::string> environment_with(const std::vector<std::string>& extra);

// ---- what a workload may see ------------------------------------------------------------
// Every process cairn starts to run or check user work (local jobs, check commands,
// sbatch/squeue, the OSMO CLI, command presets) gets its environment from
// workload_environment(); only git itself (fetch, push) keeps the tick's credentials.

// Whether the entry "NAME=value" holds a credential: the forge and CI tokens
// (CAIRN_TOKEN, CAIRN_FORGE_TOKEN, GITHUB_TOKEN, GH_TOKEN, GITLAB_TOKEN, CI_JOB_TOKEN,
// GITEA_TOKEN, ACTIONS_*), a name passed to add_secret_variable(), or anything redact()
// would mask in the entry (a `*TOKEN=`, `*PASSWORD=` or `*SECRET=` name, a ghp_/glpat-
// value...). Never fails.
bool is_secret_variable(std::string_view entry);

// Also treats the variable `name` as a credential (cairn.yaml's `forge.token_env`), for
// the rest of the process: the environment is process-wide, so is this. Never fails.
void add_secret_variable(std::string name);

// Removes the credentials (is_secret_variable) from this process's own environment, for a
// process that outlives the tick next to its jobs (the local backend's supervisor): their
// bytes are overwritten in place first, since /proc/PID/environ, which a job of the same
// user can read, shows the original block. Never fails.
void scrub_own_environment();

// The caller's environment without credentials (is_secret_variable), with `extra`
// ("NAME=value") added, replacing entries of the same name. With `only` non-empty, just
// the variables a command-line client needs (PATH, HOME, USER, LANG, LC_*, TZ, TMPDIR,
// XDG_*, proxies and CA bundles) and those named in `only` (`PREFIX*` for a prefix)
// survive, still without credentials. Never fails.
std::vector<std::string> workload_environment(const std::vector<std::string>& extra = {},
                                              const std::vector<std::string>& only = {});

}  // namespace cairn::util

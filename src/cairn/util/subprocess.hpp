#pragma once

// Running a child process and collecting what it printed. The child gets its own
// process group so a timeout kills everything it started, not only the first process.

#include <chrono>
#include <string>
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
};

// Runs argv[0] (looked up on PATH, no shell) with argv[1..], writes `input` to its stdin
// and waits at most `timeout`. Returns the exit status and output also when non-zero.
// Fails when the program cannot be started, or does not finish in time (its process
// group is killed with SIGKILL then).
Expected<Captured> run_capture(const std::vector<std::string>& argv, const std::string& input,
                               std::chrono::milliseconds timeout, const SpawnOptions& options = {});

// `environ` with `extra` ("NAME=value") added, replacing entries of the same name.
std::vector<std::string> environment_with(const std::vector<std::string>& extra);

}  // namespace cairn::util

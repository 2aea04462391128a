#pragma once

namespace cairn::cli {

// Runs the command line; returns the process exit code (docs/cli.md "Exit codes").
// Catches every exception: this is the one place they stop.
int run(int argc, char** argv);

}  // namespace cairn::cli

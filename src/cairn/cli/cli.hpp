#pragma once

namespace cairn::cli {

// Runs the command line; returns the process exit code (DESIGN.md §8). Catches every
// exception: this is the one place they stop.
int run(int argc, char** argv);

}  // namespace cairn::cli

#pragma once

// The subcommands, as a table (ninja's Tool list): each verb defines its options on its
// CLI11 subcommand and sets `run` to the function that does the work and returns its
// Outcome; cli::run turns that into the exit code (cli/exit_policy.hpp).

#include <functional>
#include <string_view>

#include <CLI/CLI.hpp>

#include <cairn/cli/exit_policy.hpp>

namespace cairn::cli {

using Runner = std::function<Outcome()>;
using DefineVerb = void (*)(CLI::App& sub, Runner& run);

struct Verb {
  std::string_view name;
  std::string_view help;  // empty: a hidden verb (not in --help, completions or the man page)
  DefineVerb define;
  // What exits 1, 2 and 3 mean for this verb ("1 ...; 2 ...; 3 ..."), for its --help
  // footer; README's table says the same. Bad flags are 2 for every verb.
  std::string_view exits = "";
};

void define_init(CLI::App& sub, Runner& run);
void define_new(CLI::App& sub, Runner& run);
void define_validate(CLI::App& sub, Runner& run);
void define_tick(CLI::App& sub, Runner& run);
void define_status(CLI::App& sub, Runner& run);
void define_show(CLI::App& sub, Runner& run);
void define_logs(CLI::App& sub, Runner& run);
void define_cancel(CLI::App& sub, Runner& run);
void define_log(CLI::App& sub, Runner& run);
void define_report(CLI::App& sub, Runner& run);
void define_classify(CLI::App& sub, Runner& run);
void define_clear(CLI::App& sub, Runner& run);
void define_diagnose(CLI::App& sub, Runner& run);
void define_doctor(CLI::App& sub, Runner& run);
void define_catalog(CLI::App& sub, Runner& run);
void define_forge(CLI::App& sub, Runner& run);
void define_generate(CLI::App& sub, Runner& run);

}  // namespace cairn::cli

#pragma once

// The subcommands, as a table (ninja's Tool list): each verb defines its options on its
// CLI11 subcommand and sets `run` to the function that does the work and returns its
// Outcome; cli::run prepares what the verb's Setup asks for, runs it, and turns the
// Outcome into the exit code (cli/exit_policy.hpp).

#include <functional>
#include <optional>
#include <string_view>

#include <CLI/CLI.hpp>

#include <cairn/cli/context.hpp>
#include <cairn/cli/exit_policy.hpp>
#include <cairn/gitstore/repo.hpp>

namespace cairn::cli {

// What cli::run prepares before a verb runs (ninja's RUN_AFTER_LOAD phases). A failed
// phase is the verb's outcome: outside a work tree (usage), an invalid cairn.yaml
// (findings, its diagnostics printed).
enum class Setup {
  none,        // the verb prepares what it needs itself (init, classify, doctor, tick --watch)
  context,     // the enclosing work tree and its cairn.yaml (load_context)
  repository,  // that, and the git repository opened on it
};

// What cli::run prepared for a verb, by its Setup. libgit2 is initialised for the whole
// run (cli::run holds the one gitstore::LibGit2 guard) whatever the Setup.
struct Session {
  RepoContext ctx;                     // Setup::context and Setup::repository
  std::optional<gitstore::Repo> repo;  // Setup::repository
};

using Runner = std::function<Outcome(Session&)>;
using DefineVerb = void (*)(CLI::App& sub, Runner& run);

struct Verb {
  std::string_view name;
  std::string_view help;  // empty: a hidden verb (not in --help, completions or the man page)
  DefineVerb define;
  Setup setup;
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

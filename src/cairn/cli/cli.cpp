#include <cairn/cli/cli.hpp>

#include <array>
#include <cstdio>
#include <exception>

#include <fmt/format.h>

#include <cairn/cli/exit_policy.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/gitstore/handles.hpp>
#include <cairn/util/expected.hpp>
#include <cairn/util/suggest.hpp>

namespace cairn::cli {

namespace {

constexpr std::array<Verb, 17> kVerbs = {{
    {"init", "Scaffold a campaign repository here: cairn.yaml, catalog, pre-commit hook, CI template",
     define_init, Setup::none,
     "1 a file could not be written; 2 outside a git work tree; 3 --cron --install: crontab refused"},
    {"new", "Create campaigns/NAME/WORKFLOW.md from a template", define_new, Setup::context,
     "1 the campaign exists or the result does not validate; 2 outside a git work tree, a bad name or an "
     "unknown "
     "template"},
    {"validate", "Check WORKFLOW.md files; prints path:line:col diagnostics", define_validate,
     Setup::repository,
     "1 a file has errors; 2 outside a git work tree; 3 --staged: the index cannot be read"},
    {"tick", "Advance every due campaign one step and commit each transition", define_tick, Setup::none,
     "1 invalid files, cairn.yaml or catalogs, a dirty tree; 2 outside a git work tree, --only names no "
     "campaign; "
     "3 remote, scheduler or forge unreachable. A tick that escalates a campaign exits 0 and says so on "
     "stderr and "
     "as escalated=N in $GITHUB_OUTPUT"},
    {"status", "One row per campaign: status, stage, job, retries, escalation", define_status, Setup::context,
     "1 a WORKFLOW.md does not parse; 2 outside a git work tree"},
    {"show",
     "One campaign in detail: stages, attempts, its job's live state, escalation, failures, next tick",
     define_show, Setup::repository,
     "1 its WORKFLOW.md does not parse, or its backend is not configured; 2 outside a git work tree, no "
     "campaign by that name; 3 the backend could not be asked for its job (the rest is still printed)"},
    {"logs", "What a stage's job printed, through its backend; --follow until it ends", define_logs,
     Setup::repository,
     "1 the stage has no job, or its backend is not configured; 2 outside a git work tree, no campaign or "
     "stage by that name; 3 the backend could not be asked"},
    {"cancel", "Cancel a stage's running job and escalate the campaign to a human, as one commit",
     define_cancel, Setup::repository,
     "1 the stage has no running job (or it already ended), or its WORKFLOW.md has uncommitted changes; 2 "
     "outside a git work tree, no campaign or stage by that name; 3 the backend could not cancel, or the "
     "commit failed"},
    {"log", "A campaign's timeline, read from commit trailers", define_log, Setup::repository,
     "2 outside a git work tree, no campaign by that name (in the tree or its history); 3 history "
     "unreadable"},
    {"report", "A dashboard of every campaign: summary table and Mermaid timelines (Markdown or --html)",
     define_report, Setup::repository,
     "1 a WORKFLOW.md does not parse (its row says so), --out cannot be written; 2 outside a git "
     "work tree; 3 history unreadable"},
    {"classify", "Classify a job log against the failure catalogs", define_classify, Setup::none,
     "1 unclassified (a tick would escalate); 2 the log cannot be read (works outside a repository: the "
     "built-in catalog)"},
    {"clear", "Clear a campaign's escalation (stage back to ready) as your commit", define_clear,
     Setup::repository,
     "1 not escalated, or its WORKFLOW.md has uncommitted changes; 2 outside a git work tree, no campaign by "
     "that name; 3 commit failed"},
    {"diagnose",
     "Run the configured agent on an escalation: the clear and its proposed fix on a local branch",
     define_diagnose, Setup::repository,
     "1 not escalated, no `diagnose.command`, or its WORKFLOW.md has uncommitted changes; 2 outside a git "
     "work tree, no campaign by that name; 3 the branch could not be made"},
    {"doctor", "Check the repository, configuration, catalogs and backends", define_doctor, Setup::none,
     "1 a check found an error; 2 outside a git work tree"},
    {"catalog", "Work on the failure catalogs: promote a fix that resolved a failure", define_catalog,
     Setup::repository,
     "1 nothing to promote, or the catalog has uncommitted changes; 2 outside a git work tree, no campaign "
     "by "
     "that name; 3 commit failed"},
    {"forge",
     "Open or close escalation issues and clear-escalation pull requests now (ticks do it after their push)",
     define_forge, Setup::repository,
     "1 invalid `forge:` settings; 2 outside a git work tree, no remote; 3 forge or remote unreachable, or "
     "no token"},
    // The build writes the shell completions and the man page with it (CMakeLists.txt).
    {"generate-docs", "", define_generate, Setup::none, "1 a file cannot be written"},
}};

// A did-you-mean for the first word of the command line CLI11 refused: a verb (or a
// verb's subcommand) or a long flag that is not one, but close to one. "" when none.
std::string suggest_for(const CLI::App& app, int argc, char** argv) {
  const CLI::App* at = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--") break;
    if (word.rfind("--", 0) == 0) {
      const std::string flag(word.substr(2, word.find('=') - 2));
      std::vector<std::string> known;
      bool found = false;
      for (const CLI::Option* opt : at->get_options()) {
        for (const auto& name : opt->get_lnames()) {
          found = found || name == flag;
          known.push_back(name);
        }
      }
      if (found) continue;
      if (const auto close = util::closest(flag, known)) return fmt::format("did you mean `--{}`?", *close);
      return "";
    }
    if (word.front() == '-') continue;
    const std::vector<const CLI::App*> subs = at->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) continue;  // a positional argument of the verb
    std::vector<std::string> names;
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : subs) {
      names.push_back(sub->get_name());
      if (sub->get_name() == word) next = sub;
    }
    if (next == nullptr) {
      if (const auto close = util::closest(word, names)) return fmt::format("did you mean `{}`?", *close);
      return "";
    }
    at = next;
  }
  return "";
}

// Runs `run` after the setup phases its verb asks for; a failed phase is the outcome.
Outcome prepare_and_run(Setup setup, const Runner& run) {
  Session s;
  if (setup != Setup::none) s.ctx = CAIRN_TRY(load_context(fs::current_path()));
  if (setup == Setup::repository) {
    auto repo = gitstore::Repo::discover(s.ctx.top.string());
    if (!repo) return fail(repo.error().message, ExitCode::unreachable);
    s.repo.emplace(std::move(*repo));
  }
  return run(s);
}

}  // namespace

int run(int argc, char** argv) {
  gitstore::LibGit2 git;  // the one guard: every gitstore object of any verb lives inside it
  try {
    CLI::App app{"cairn: git-native orchestration of long-running compute campaigns"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "cairn 0.1.0");
    app.footer("Exit codes: 0 ok, 1 findings, 2 usage, 3 infrastructure unreachable.");
    std::array<Runner, kVerbs.size()> runners;
    for (std::size_t i = 0; i < kVerbs.size(); ++i) {
      CLI::App* sub = app.add_subcommand(std::string(kVerbs[i].name), std::string(kVerbs[i].help));
      if (kVerbs[i].help.empty()) sub->group("");
      kVerbs[i].define(*sub, runners[i]);
      sub->footer(fmt::format("Exit codes: 0 ok; {}. Bad flags: 2.",
                              kVerbs[i].exits.empty()
                                  ? std::string_view("1 findings; 2 usage; 3 infrastructure unreachable")
                                  : kVerbs[i].exits));
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      // --help and --version end here too, successfully.
      if (app.exit(e) == 0) return 0;
      if (const std::string hint = suggest_for(app, argc, argv); !hint.empty()) {
        std::fprintf(stderr, "cairn: %s\n", hint.c_str());
      }
      return exit_code(fail("", ExitCode::usage));
    }
    for (std::size_t i = 0; i < kVerbs.size(); ++i) {
      const std::string name(kVerbs[i].name);
      if (!app.got_subcommand(name)) continue;
      // Messages name the command as typed: `cairn catalog promote: ...`.
      std::string verb = name;
      for (const CLI::App* nested : app.get_subcommand(name)->get_subcommands())
        verb += " " + nested->get_name();
      return finish(verb, prepare_and_run(kVerbs[i].setup, runners[i]));
    }
    return exit_code(fail("", ExitCode::usage));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn: internal error: %s\n", e.what());
    return exit_code(fail("", ExitCode::unreachable));
  }
}

}  // namespace cairn::cli

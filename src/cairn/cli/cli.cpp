#include <cairn/cli/cli.hpp>

#include <array>
#include <cstdio>
#include <exception>

#include <cairn/cli/verbs.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::cli {

namespace {

constexpr std::array<Verb, 11> kVerbs = {{
    {"init", "Scaffold a campaign repository here: cairn.yaml, catalog, pre-commit hook, CI template", define_init},
    {"new", "Create campaigns/NAME/WORKFLOW.md from a template", define_new},
    {"validate", "Check WORKFLOW.md files; prints path:line:col diagnostics", define_validate},
    {"tick", "Advance every due campaign one step and commit each transition", define_tick},
    {"status", "One row per campaign: status, stage, job, retries, escalation", define_status},
    {"log", "A campaign's timeline, read from commit trailers", define_log},
    {"classify", "Classify a job log against the failure catalogs", define_classify},
    {"clear", "Clear a campaign's escalation (stage back to ready) as your commit", define_clear},
    {"doctor", "Check the repository, configuration, catalogs and backends", define_doctor},
    {"catalog", "Work on the failure catalogs: promote a fix that resolved a failure", define_catalog},
    {"forge", "Open or close escalation issues and clear-escalation pull requests now (ticks do it after their push)",
     define_forge},
}};

}  // namespace

int run(int argc, char** argv) {
  try {
    CLI::App app{"cairn: git-native orchestration of long-running compute campaigns"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "cairn 0.1.0");
    app.footer("Exit codes: 0 ok, 1 findings, 2 usage, 3 infrastructure unreachable.");
    std::array<Runner, kVerbs.size()> runners;
    for (std::size_t i = 0; i < kVerbs.size(); ++i) {
      CLI::App* sub = app.add_subcommand(std::string(kVerbs[i].name), std::string(kVerbs[i].help));
      kVerbs[i].define(*sub, runners[i]);
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      const int rc = app.exit(e);
      return rc == 0 ? 0 : static_cast<int>(ExitCode::usage);
    }
    for (std::size_t i = 0; i < kVerbs.size(); ++i) {
      if (app.got_subcommand(std::string(kVerbs[i].name))) return runners[i]();
    }
    return static_cast<int>(ExitCode::usage);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cairn: internal error: %s\n", e.what());
    return static_cast<int>(ExitCode::unreachable);
  }
}

}  // namespace cairn::cli

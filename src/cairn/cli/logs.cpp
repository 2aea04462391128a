// `cairn logs CAMPAIGN [STAGE] [-n N] [--follow]`: what the stage's job printed, read
// through its backend (Scheduler::output: the local run directory, Slurm's output file
// over ssh when remote, `osmo workflow logs`, a command preset's log template), redacted.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include <cairn/cli/backends.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/util/fs.hpp>
#include <cairn/util/redact.hpp>
#include <cairn/util/text.hpp>

namespace cairn::cli {

namespace {

struct LogsOptions {
  std::string campaign;
  std::string stage;
  int lines = 50;
  bool follow = false;
  double poll = 2.0;  // --follow: seconds between looks
};

// --follow fetches this many lines each time and prints what is new in them: more than
// a job prints between two looks.
constexpr int kFollowWindow = 5000;
// --follow gives up on a job its backend stops reporting after this many looks.
constexpr int kMaxUnreported = 10;

void print(std::string_view text) {
  if (text.empty()) return;
  std::fputs(util::redact(text).c_str(), stdout);
  std::fflush(stdout);
}

Outcome run_logs(Session& session, const LogsOptions& o) {
  const RepoContext& ctx = session.ctx;
  auto found = CAIRN_TRY(open_campaign(ctx, o.campaign));
  gitstore::Repo* repo = &*session.repo;
  const doc::Workflow& wf = found.workflow();
  const doc::Stage& stage = *CAIRN_TRY(pick_stage(wf, o.stage));
  if (stage.job_id.empty()) {
    return fail(fmt::format("stage `{}` of `{}` has no job (status {}): nothing ran yet", stage.name,
                            wf.campaign, doc::to_string(stage.status)));
  }
  const std::string job = stage.job_id;
  const std::string backend = engine::backend_of(wf, stage.name);
  ConfiguredBackends backends(ctx.config, repo_qualifier(*repo, ctx));
  auto found_backend = backends.require(backend);
  if (!found_backend) return fail(fmt::format("stage `{}`: {}", stage.name, found_backend.error().message));
  engine::Scheduler* sched = *found_backend;
  const int lines = std::max(o.lines, 0);
  auto text = sched->output(job, o.follow ? std::max(lines, kFollowWindow) : lines);
  if (!text) return std::move(text).error();
  print(util::tail_lines(*text, lines));
  if (!o.follow) return {};

  std::string shown = std::move(*text);
  int unreported = 0;  // looks in a row at which the backend did not report the job
  const auto pause = std::chrono::milliseconds(static_cast<long long>(std::max(o.poll, 0.05) * 1000));
  for (;;) {
    // Whether the job has ended is asked before its output: output written before the
    // end is then all in the last fetch.
    auto answer = sched->status({job});
    if (!answer) return fail(answer.error().message, ExitCode::unreachable);
    auto it = answer->find(job);
    const bool ended = it != answer->end() && engine::is_final(it->second.state);
    auto now = sched->output(job, kFollowWindow);
    if (!now) return std::move(now).error();
    print(util::appended(shown, *now));
    shown = std::move(*now);
    if (ended) {
      const engine::JobStatus& s = it->second;
      std::fprintf(stderr, "cairn logs: job %s ended %s%s\n", job.c_str(),
                   std::string(engine::to_string(s.state)).c_str(),
                   s.exit_code ? fmt::format(" (exit {})", *s.exit_code).c_str() : "");
      return {};
    }
    unreported = it == answer->end() ? unreported + 1 : 0;
    if (unreported >= kMaxUnreported) {
      return fail(fmt::format("{} stopped reporting job {}; stopped following", backend, job),
                  ExitCode::unreachable);
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace

void define_logs(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<LogsOptions>();
  sub.add_option("campaign", o->campaign, "Campaign name")->required();
  sub.add_option("stage", o->stage, "Stage name (default: the campaign's current stage)");
  sub.add_option("-n,--lines", o->lines, "Show the last N lines (default 50)")->check(CLI::NonNegativeNumber);
  sub.add_flag("-f,--follow", o->follow, "Keep printing new output until the job ends");
  sub.add_option("--poll", o->poll, "With --follow: seconds between looks at the job (default 2)")
      ->check(CLI::PositiveNumber);
  run = [o](Session& session) { return run_logs(session, *o); };
}

}  // namespace cairn::cli

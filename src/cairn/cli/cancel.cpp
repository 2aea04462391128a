// `cairn cancel CAMPAIGN [STAGE] --reason TEXT`: cancels the stage's one job through its
// backend and records it as one transition, committed as the local git user:
// `running -> failed [cancelled]`, a Failure-log row, the campaign escalated so that the
// next step is a human's (`cairn clear` then runs the stage anew as a new attempt).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include <cairn/cli/backends.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/engine/apply.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/engine/plan.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/gitstore/store.hpp>

namespace cairn::cli {

namespace {

struct CancelOptions {
  std::string campaign;
  std::string stage;
  std::string reason;
};

// How long cancel waits for the scheduler to report the job ended, so that "cancelled"
// means the job is gone when the command returns (the local backend's kill grace is 10 s).
constexpr auto kSettle = std::chrono::seconds(20);

// Waits until `job` is reported in a final state; false when it is not within kSettle.
bool settled(engine::Scheduler& sched, const std::string& job) {
  const auto until = std::chrono::steady_clock::now() + kSettle;
  while (std::chrono::steady_clock::now() < until) {
    auto answer = sched.status({job});
    if (answer) {
      auto it = answer->find(job);
      if (it != answer->end() && engine::is_final(it->second.state)) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

Outcome run_cancel(Session& session, const CancelOptions& o) {
  const RepoContext& ctx = session.ctx;
  auto found = CAIRN_TRY(open_campaign(ctx, o.campaign));
  gitstore::Repo* repo = &*session.repo;
  const doc::Workflow& wf = found.workflow();
  const doc::Stage& stage = *CAIRN_TRY(pick_stage(wf, o.stage));
  if (stage.status != doc::Status::running || stage.job_id.empty()) {
    return fail(fmt::format("stage `{}` of `{}` has no running job to cancel (status {}{})", stage.name,
                            wf.campaign, doc::to_string(stage.status),
                            stage.job_id.empty() ? "" : ", JobID " + stage.job_id));
  }
  // The transition rewrites the file: never over a human's uncommitted edit of it.
  CAIRN_TRY(refuse_dirty(*repo, {found.input.path}, "cancel " + wf.campaign));
  const std::string backend = engine::backend_of(wf, stage.name);
  ConfiguredBackends backends(ctx.config, repo_qualifier(*repo, ctx));
  auto found_backend = backends.require(backend);
  if (!found_backend) return fail(fmt::format("stage `{}`: {}", stage.name, found_backend.error().message));
  engine::Scheduler* sched = *found_backend;
  // One status query first: a job that already ended is the next tick's to record.
  auto answer = sched->status({stage.job_id});
  if (!answer) return fail(answer.error().message, ExitCode::unreachable);
  if (auto it = answer->find(stage.job_id); it != answer->end() && engine::is_final(it->second.state)) {
    return fail(fmt::format("job {} already ended ({}); the next tick records it", stage.job_id,
                            engine::to_string(it->second.state)));
  }
  CAIRN_TRY(sched->cancel(stage.job_id));
  if (!settled(*sched, stage.job_id)) {
    std::fprintf(stderr,
                 "cairn cancel: warning: %s still reports job %s as not ended; recording the cancel anyway\n",
                 backend.c_str(), stage.job_id.c_str());
  }

  const engine::Identity me = repo->default_identity();
  const auto now = std::chrono::system_clock::now();
  engine::Move move = engine::cancelled_by_human(wf, stage, me.name, o.reason, now);
  const int attempt = move.transition.attempt;
  auto store = gitstore::GitStore::open(ctx.top.string());
  if (!store) return fail(store.error().message, ExitCode::unreachable);
  engine::CommitContext context;
  context.identity = me;
  // `stage` points into the file, which the edits below re-parse.
  const std::string job = stage.job_id;
  const std::string stage_name = stage.name;
  engine::Applied done =
      engine::apply_move(std::move(move), found.file, found.input.path, **store, context, now);
  if (!done.diagnostic.empty()) return fail(found.input.path + ": " + done.diagnostic);
  if (!done.ok) return fail(done.error, ExitCode::unreachable);
  if (auto flushed = (*store)->flush(); !flushed) return fail(flushed.error().message, ExitCode::unreachable);
  const doc::Workflow& after = found.workflow();
  const doc::Stage* cancelled = after.stage(stage_name);
  const int next = cancelled != nullptr ? engine::next_attempt(after, *cancelled, {}) : attempt + 1;
  std::printf(
      "cancelled job %s (%s, stage %s, attempt %d) on %s\n%s\nescalated: nothing runs until a human "
      "clears it (`cairn clear %s --reason TEXT`; the next tick then submits attempt %d)\n",
      job.c_str(), after.campaign.c_str(), stage_name.c_str(), attempt, backend.c_str(),
      engine::subject(done.transition).c_str(), after.campaign.c_str(), next);
  return {};
}

}  // namespace

void define_cancel(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<CancelOptions>();
  sub.add_option("campaign", o->campaign, "Campaign name")->required();
  sub.add_option("stage", o->stage, "Stage name (default: the campaign's current stage)");
  sub.add_option("--reason", o->reason,
                 "Why the job is cancelled (recorded in the Failure log and the commit)")
      ->required();
  run = [o](Session& session) { return run_cancel(session, *o); };
}

}  // namespace cairn::cli

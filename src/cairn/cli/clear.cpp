// `cairn clear CAMPAIGN --reason TEXT`: the local equivalent of merging a
// clear-escalation PR, committed as the local git user.

#include <chrono>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include <cairn/cli/context.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/engine/commit_message.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/gitstore/store.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/time.hpp>

namespace cairn::cli {

namespace {

struct ClearOptions {
  std::string campaign;
  std::string reason;
};

Outcome run_clear(Session& session, const ClearOptions& o) {
  const RepoContext& ctx = session.ctx;
  const auto c = CAIRN_TRY(find_campaign(ctx, o.campaign));
  gitstore::Repo* repo = &*session.repo;
  CAIRN_TRY(refuse_dirty(*repo, {c.path}, "clear " + o.campaign));
  auto file = parse::WorkflowFile::parse(c.path, c.text);
  if (!file) {
    print_diagnostics(file.error());
    return fail(fmt::format("{} does not parse; fix it first (`cairn validate {}`)", c.path, c.path),
                ExitCode::findings);
  }
  const auto now = std::chrono::system_clock::now();
  auto cleared = engine::clear_escalation(*file, now, o.reason);
  if (!cleared) return std::move(cleared).error();
  engine::Transition t;
  t.campaign = o.campaign;
  t.stage = cleared->stage;
  t.from = "escalated";
  t.to = std::string(doc::to_string(engine::implied_status(file->workflow())));
  t.tick = util::iso8601(now);
  t.body.push_back(fmt::format("Escalation cleared by hand: {}", o.reason));
  t.body.push_back(
      fmt::format("Was: {}", cleared->reason.empty() ? "(no reason recorded)" : cleared->reason));
  auto store = gitstore::GitStore::open(ctx.top.string());
  if (!store) return fail(store.error().message, ExitCode::unreachable);
  const engine::Identity me = repo->default_identity();
  auto id = (*store)->commit({c.path, file->text(), engine::render_commit_message(t)}, me);
  if (id) id = (*store)->flush().has_value() ? id : Expected<std::string>(fail("flush failed"));
  if (!id) return fail(id.error().message, ExitCode::unreachable);
  const std::string what = cleared->stage_reset ? "back to ready" : "stays " + t.to;
  std::printf("cleared %s (stage %s %s) as %s <%s>: %s\n", o.campaign.c_str(), t.stage.c_str(), what.c_str(),
              me.name.c_str(), me.email.c_str(), id->substr(0, 8).c_str());
  // Ticks work from the remote: one run here refuses an unpushed human commit.
  if (auto remotes = repo->remote_urls(); remotes && !remotes->empty()) {
    std::printf("push it (git push) so that the next tick resumes %s\n", o.campaign.c_str());
  }
  return {};
}

}  // namespace

void define_clear(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<ClearOptions>();
  sub.add_option("campaign", o->campaign, "Campaign name")->required();
  sub.add_option("--reason", o->reason, "Why it is safe to resume (recorded in the commit and lessons)")
      ->required();
  run = [o](Session& session) { return run_clear(session, *o); };
}

}  // namespace cairn::cli

#pragma once

// An agent of the user's choice diagnoses an escalated failure (cairn.yaml `diagnose:`,
// docs/escalation.md "Diagnose"): cairn writes a context file, runs the command in a scratch
// copy of the repository at the clear-escalation branch's state, keeps the changes it
// made inside `may_edit`, and turns them into one commit on that branch. Nothing the
// agent writes reaches the base branch until a human merges the branch.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/cli/context.hpp>
#include <cairn/engine/anomaly.hpp>
#include <cairn/forge/sync.hpp>
#include <cairn/gitstore/repo.hpp>

namespace cairn::cli {

// Whether `pattern` (`*` within a path segment, `**` across segments, `?` one
// character) matches the '/'-separated relative `path`.
bool glob_match(std::string_view pattern, std::string_view path);

// Whether cairn.yaml's `diagnose.when` asks for the escalation of `stage` in `wf`: the
// stage failed (not a running job an anomaly escalated) and, for `unclassified`, its
// last Failure-log row names no class the catalogs know.
bool wants_diagnosis(const parse::DiagnoseConfig& config, const doc::Workflow& wf, const std::string& stage);

// Runs the agent for `view`'s escalation at `stage` over HEAD's files with the
// campaign's WORKFLOW.md replaced by `cleared` (what the branch's first commit writes).
// The agent's failures (cannot start, non-zero exit, timeout, nothing changed) are in
// the outcome, never an error: the escalation goes on without it.
forge::Diagnosis run_diagnosis(const RepoContext& ctx, gitstore::Repo& repo, const forge::CampaignView& view,
                               const std::string& stage, const std::string& cleared);

// forge::Diagnoser over run_diagnosis, for the forge step.
class AgentDiagnoser : public forge::Diagnoser {
 public:
  AgentDiagnoser(const RepoContext& ctx, gitstore::Repo& repo) : m_ctx(ctx), m_repo(repo) {}
  std::optional<forge::Diagnosis> diagnose(const forge::CampaignView& view, const std::string& stage,
                                           const std::string& cleared) override;

 private:
  const RepoContext& m_ctx;
  gitstore::Repo& m_repo;
};

// engine::AnomalyExplainer over the same runner (cairn.yaml `diagnose.when: anomaly`): the
// agent reads the anomalies in a scratch copy of HEAD, read-only (every change it makes is
// discarded with the copy), without credentials, bounded by `diagnose.timeout`; its
// `{out}/DIAGNOSIS.md` is the reading. Its failures (cannot start, non-zero exit, timeout,
// no DIAGNOSIS.md) are AgentReading::failure.
class AgentExplainer : public engine::AnomalyExplainer {
 public:
  AgentExplainer(const RepoContext& ctx, gitstore::Repo& repo) : m_ctx(ctx), m_repo(repo) {}
  engine::AgentReading explain(const std::string& path, const std::vector<engine::Anomaly>& anomalies,
                               const std::string& findings) override;

 private:
  const RepoContext& m_ctx;
  gitstore::Repo& m_repo;
};

}  // namespace cairn::cli

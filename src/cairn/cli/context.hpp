#pragma once

// What every verb needs: the repository it runs in, its cairn.yaml, its campaigns, and
// how to print. Built once per invocation; the only place real backends are made is
// cli/backends.cpp.

#include <filesystem>
#include <string>
#include <vector>

#include <cairn/doc/diagnostic.hpp>
#include <cairn/engine/tick.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/parse/config.hpp>
#include <cairn/parse/priors.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::cli {

namespace fs = std::filesystem;

struct RepoContext {
  fs::path top;  // the work tree root; the start directory when not in a git repo
  bool is_git = false;
  parse::RepoConfig config;
  std::vector<doc::Diagnostic> config_warnings;
  // `.priors.yaml`'s orchestration patterns (parse/priors.hpp), for the anomaly scan. A
  // bad file leaves `priors` empty and says why in `priors_errors`: `validate` fails on
  // it, a tick warns and scans with the built-in patterns.
  std::vector<parse::Prior> priors;
  std::vector<doc::Diagnostic> priors_errors;

  // The campaign search root (`root:` of cairn.yaml, relative to top).
  fs::path root() const { return top / config.root; }
};

// Whether a verb needs a git work tree (most do) or also runs outside one.
enum class Needs { repository, anywhere };

// Finds the enclosing git work tree of `start` and reads its cairn.yaml. Fails with
// not_a_repository() (usage) outside a work tree unless `needs` is anywhere (then `top`
// is `start`); fails (findings) when cairn.yaml is invalid, after printing its
// diagnostics to stderr.
Expected<RepoContext> load_context(const fs::path& start, Needs needs = Needs::repository);

// The campaign directory names under ctx.root(), sorted: what a campaign name is looked
// up among.
std::vector<std::string> campaign_names(const RepoContext& ctx);

// The campaign called `name` (its directory name, which validate holds equal to its
// `campaign:`). Fails with unknown_campaign() (usage, did-you-mean) when there is none,
// or (findings) when its file cannot be read.
Expected<engine::CampaignInput> find_campaign(const RepoContext& ctx, std::string_view name);

// Every `WORKFLOW.md` under `dir`, sorted, not entering hidden directories or
// following symlinked directories.
std::vector<fs::path> find_workflows(const fs::path& dir);

// Reads a WORKFLOW.md, refusing files over parse::kMaxWorkflowBytes before reading them.
Expected<std::string> read_workflow(const fs::path& path);

// `path` relative to `base` when inside it, else as given (for messages and commits).
std::string display_path(const fs::path& path, const fs::path& base);

// The campaigns of the repo: one CampaignInput per WORKFLOW.md under root().
// Files that cannot be read become diagnostics in `errors`.
std::vector<engine::CampaignInput> load_campaigns(const RepoContext& ctx,
                                                  std::vector<doc::Diagnostic>& errors);

// Refuses to `doing` (dirty_tree(): findings, the files listed) when tracked files have
// uncommitted changes: any tracked file when `only` is empty, else any of the paths in
// `only` (repo-relative). Fails (unreachable) when the status cannot be read.
Expected<void> refuse_dirty(gitstore::Repo& repo, const std::vector<std::string>& only,
                            std::string_view doing);

// One campaign of the repo, read and parsed.
struct Campaign {
  engine::CampaignInput input;
  parse::WorkflowFile file;
  const doc::Workflow& workflow() const { return file.workflow(); }
};

// find_campaign(), parsed. Fails as find_campaign() does, or (findings, its diagnostics
// printed to stderr) when the file does not parse.
Expected<Campaign> open_campaign(const RepoContext& ctx, std::string_view name);

// The stage a verb about one stage acts on: the one named `name`, else (empty) the first
// open stage, else the last stage. Fails with ExitCode::usage and a did-you-mean over the
// stage names for a name the table lacks, ExitCode::findings for a table without stages.
Expected<const doc::Stage*> pick_stage(const doc::Workflow& wf, std::string_view name);

// Prints diagnostics to stderr, one per line.
void print_diagnostics(const std::vector<doc::Diagnostic>& ds);

// True when stdout is a terminal.
bool stdout_is_tty();

}  // namespace cairn::cli

// `diagnose:` in cairn.yaml and `cairn diagnose CAMPAIGN`: an agent proposes a fix for an
// escalated failure on the clear-escalation branch (cli/diagnose.hpp).

#include <cairn/cli/diagnose.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cairn/catalog/catalog.hpp>
#include <cairn/cli/catalog_edit.hpp>
#include <cairn/cli/forge_step.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/engine/commit_message.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/gitstore/branch.hpp>
#include <cairn/util/redact.hpp>
#include <cairn/util/strings.hpp>
#include <cairn/util/subprocess.hpp>
#include <cairn/util/time.hpp>

namespace cairn::cli {

namespace {

constexpr std::size_t kMaxFileBytes = 8 << 20;     // an agent's file larger than this is refused
constexpr std::size_t kMaxExplanation = 64 << 10;  // of DIAGNOSIS.md kept
constexpr std::size_t kMaxListed = 200;            // campaign files named in the context

// The files of the scratch tree, each as a fingerprint (size and hash of its bytes, a
// symlink's target, or "too large"): what changed is read back from disk, so a large
// repository is never held in memory.
struct Snapshot {
  std::map<std::string, std::string> files;  // '/'-separated path -> fingerprint
};

constexpr char kOdd = '\x01';  // starts the fingerprint of a file an agent may not leave

std::string read_all(const fs::path& p, std::size_t limit) {
  std::ifstream in(p, std::ios::binary);
  std::string out;
  if (!in) return out;
  out.resize(limit);
  in.read(out.data(), static_cast<std::streamsize>(limit));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

Snapshot snapshot(const fs::path& root) {
  Snapshot s;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    const auto st = it->symlink_status(ec);
    if (ec) break;
    const std::string rel = it->path().lexically_relative(root).generic_string();
    if (fs::is_symlink(st)) {
      s.files[rel] = kOdd + std::string("symlink:") + fs::read_symlink(it->path(), ec).generic_string();
      if (fs::is_directory(it->status(ec))) it.disable_recursion_pending();
    } else if (fs::is_regular_file(st)) {
      const auto size = fs::file_size(it->path(), ec);
      if (size > kMaxFileBytes) {
        s.files[rel] = kOdd + std::string("too large");
      } else {
        const std::string bytes = read_all(it->path(), kMaxFileBytes);
        s.files[rel] = fmt::format("{}:{:x}", bytes.size(), std::hash<std::string>{}(bytes));
      }
    }
  }
  return s;
}

// The last Failure-log row of `stage`, or nullptr.
const doc::FailureRow* last_failure(const doc::Workflow& wf, const std::string& stage) {
  for (auto it = wf.failures.rbegin(); it != wf.failures.rend(); ++it) {
    if (it->stage == stage) return &*it;
  }
  return nullptr;
}

std::string error_class_of(const doc::Workflow& wf, const std::string& stage) {
  const doc::FailureRow* row = last_failure(wf, stage);
  return row == nullptr || row->error_class.empty() ? "unclassified" : row->error_class;
}

std::string last_lines(const std::string& text, std::size_t n) {
  std::size_t pos = text.size();
  for (std::size_t seen = 0; pos > 0 && seen <= n; --pos) {
    if (text[pos - 1] == '\n' && ++seen > n) break;
  }
  return text.substr(pos);
}

std::string duration_text(std::int64_t seconds) {
  if (seconds % 3600 == 0) return fmt::format("{}h", seconds / 3600);
  if (seconds % 60 == 0) return fmt::format("{}m", seconds / 60);
  return fmt::format("{}s", seconds);
}

// The context file: the failure, the rules of a diagnosis (find the root cause, fix what
// else would break, change no resources or state), and what the agent may read and change.
std::string context_markdown(const RepoContext& ctx, const forge::CampaignView& view, const doc::Workflow& wf,
                             const std::string& stage, const std::string& campaign_dir, const Snapshot& files,
                             const fs::path& out, const std::string& cleared) {
  const parse::DiagnoseConfig& cfg = ctx.config.diagnose;
  const doc::FailureRow* row = last_failure(wf, stage);
  const doc::Stage* s = wf.stage(stage);
  const doc::StageSpec* spec = wf.spec(stage);
  std::string m = fmt::format("# Diagnose {} at stage {}\n\n", wf.campaign, stage);
  m += fmt::format(
      "A stage of the cairn campaign `{}` failed in a way its failure catalogs do not fix, and the campaign "
      "is waiting for a human. Find out why and fix the campaign's files so that the stage succeeds when "
      "it runs again. A human reviews your changes before anything runs.\n\n",
      wf.campaign);
  m += "## The failure\n\n";
  m += fmt::format("- Campaign file: `{}` (your working directory is `{}`)\n", view.path, campaign_dir);
  m += fmt::format("- Stage: `{}`{}\n", stage,
                   s != nullptr && !s->job_id.empty() ? fmt::format(", job `{}`", s->job_id) : "");
  m += fmt::format("- Error class: `{}`\n", error_class_of(wf, stage));
  if (row != nullptr && !row->message.empty()) m += fmt::format("- Error message: {}\n", row->message);
  if (!wf.escalation_reason.empty()) m += fmt::format("- Escalation reason: {}\n", wf.escalation_reason);
  if (!view.suggested_fix.empty()) m += fmt::format("- What the catalogs say: {}\n", view.suggested_fix);
  if (spec != nullptr && !spec->run.empty()) m += fmt::format("- The stage runs `{}`\n", spec->run);
  m += "\n## Rules\n\n";
  m += "1. Read the log below first. Find the root cause, not the last symptom: a wrong template variable, a "
       "missing command or module, a bad path, a syntax error, a wrong argument.\n";
  m += "2. Then read the whole job script and the files it uses, and fix everything else that would stop it "
       "from running, in the same pass: one review, not one failure per attempt.\n";
  m += "3. Change nothing you were not asked to: never the resources (time, memory, CPUs, GPUs, nodes, pool "
       "or "
       "partition), never the task structure (stages, arrays, dependencies), never the campaign's state.\n";
  m += fmt::format(
      "4. Only changes to files matching {} (relative to your working directory) are kept. "
      "Everything else, `WORKFLOW.md`, `cairn.yaml`, the catalogs and `.github/` included, is "
      "discarded and listed as refused.\n",
      fmt::format("`{}`", fmt::join(cfg.may_edit, "`, `")));
  m += fmt::format(
      "5. Explain in plain language, in `{}/DIAGNOSIS.md`: what failed and why, what you changed, and what "
      "else "
      "you caught. A person reads it on the pull request.\n",
      out.string());
  m += fmt::format(
      "6. If this failure will happen again to others, propose a catalog row in `{}/catalog-row.md`: a "
      "Markdown table with the header `| Class | Log signature | Hint | Auto-fix |` and one row (a short "
      "kebab-case class, a regular expression that matches the log, a hint for a human, and an auto-fix that "
      "is empty or one of the catalog's fixes, e.g. `resubmit`).\n",
      out.string());
  m += fmt::format("7. Exit 0 when done. A non-zero exit, or running past {}, discards your changes.\n\n",
                   duration_text(cfg.timeout_seconds));
  m += "## Files in the campaign directory\n\n";
  std::size_t listed = 0;
  const std::string prefix = campaign_dir + "/";
  for (const auto& [path, _] : files.files) {
    if (path.rfind(prefix, 0) != 0) continue;
    if (++listed > kMaxListed) {
      m += "- ...\n";
      break;
    }
    m += fmt::format("- `{}`\n", path.substr(prefix.size()));
  }
  if (!view.log_tail.empty()) {
    m += fmt::format("\n## The job's last log lines (redacted)\n\n```text\n{}\n```\n",
                     util::redact(last_lines(view.log_tail, 200)));
  } else {
    m += "\n## The job's log\n\nThe backend returned no log for this job.\n";
  }
  m +=
      fmt::format("\n## WORKFLOW.md as the branch has it (read it; do not edit it)\n\n```markdown\n{}\n```\n",
                  util::redact(cleared));
  return m;
}

// The proposed catalog row, validated by the catalog loader and written into the
// project catalog: `catalog`, its path and text as HEAD has them (read before the agent
// ran: its own edits of the catalog are refused), nullopt when there is none. Sets
// `d.catalog_row` or `d.catalog_note`.
std::optional<engine::FileWrite> catalog_write(const fs::path& out,
                                               const std::optional<engine::FileWrite>& catalog,
                                               forge::Diagnosis& d) {
  const fs::path proposed = out / "catalog-row.md";
  std::error_code ec;
  if (!fs::is_regular_file(proposed, ec)) return std::nullopt;
  const std::string text = read_all(proposed, 64 << 10);
  auto loaded = catalog::load_catalogs({{"catalog-row.md", text, ""}});
  if (!loaded) {
    d.catalog_note = fmt::format("it does not load: {}", doc::format(loaded.error().front()));
    return std::nullopt;
  }
  if (!loaded->diagnostics().empty()) {
    d.catalog_note = fmt::format("it does not load cleanly: {}", doc::format(loaded->diagnostics().front()));
    return std::nullopt;
  }
  if (loaded->entries().size() != 1) {
    d.catalog_note = fmt::format("it has {} rows, not one", loaded->entries().size());
    return std::nullopt;
  }
  const catalog::Entry& entry = loaded->entries().front();
  if (!catalog) {
    d.catalog_note = "there is no project catalog to append it to (`catalogs:` in cairn.yaml)";
    return std::nullopt;
  }
  std::string row;
  auto text_with = with_catalog_row(catalog->path, catalog->content, entry, entry.fix,
                                    fmt::format("{} (proposed by {})", entry.hint, d.agent), 0, &row);
  if (!text_with) {
    d.catalog_note = text_with.error().message;
    return std::nullopt;
  }
  d.catalog_row = row;
  return engine::FileWrite{catalog->path, std::move(*text_with)};
}

std::string plural(std::size_t n, std::string_view one) {
  return fmt::format("{} {}{}", n, one, n == 1 ? "" : "s");
}

std::string agent_name(const parse::DiagnoseConfig& cfg) {
  return fs::path(cfg.command.front()).filename().string();
}

// Where an agent runs, for both uses of `diagnose:` (a fix for an escalation, a reading of
// anomalies): a scratch directory with HEAD's files under tree/ (never the tick's
// checkout), its out/ directory and the context file. Removed, with everything the agent
// changed in it, when this goes.
class AgentScratch {
 public:
  explicit AgentScratch(gitstore::Repo& repo) {
    std::string tmpl = (fs::temp_directory_path() / "cairn-diagnose-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      m_error = "no scratch directory could be made";
      return;
    }
    m_root = tmpl;
    std::error_code ec;
    fs::create_directories(out(), ec);
    if (auto r = gitstore::export_head(repo, tree().string()); !r) m_error = r.error().message;
  }
  ~AgentScratch() {
    std::error_code ec;
    if (!m_root.empty()) fs::remove_all(m_root, ec);
  }
  AgentScratch(const AgentScratch&) = delete;
  AgentScratch& operator=(const AgentScratch&) = delete;

  // Why the scratch copy could not be made; "" when it is ready.
  const std::string& error() const { return m_error; }
  fs::path tree() const { return m_root / "tree"; }
  fs::path out() const { return m_root / "out"; }
  fs::path context() const { return m_root / "context.md"; }

  // Writes `context_text` to context(), then runs the configured command (`{context}`
  // and `{out}` replaced) in tree()/`cwd`, with the workload environment (no
  // credentials) and the configured timeout. Fails when it cannot start or runs out of
  // time.
  Expected<util::Captured> run(const parse::DiagnoseConfig& cfg, const std::string& cwd,
                               const std::string& context_text) const {
    {
      std::ofstream w(context(), std::ios::binary);
      w << context_text;
    }
    std::vector<std::string> argv;
    for (std::string a : cfg.command) {
      for (const auto& [name, value] : {std::pair<std::string, std::string>{"{context}", context().string()},
                                        std::pair<std::string, std::string>{"{out}", out().string()}}) {
        for (auto p = a.find(name); p != std::string::npos; p = a.find(name, p + value.size())) {
          a.replace(p, name.size(), value);
        }
      }
      argv.push_back(std::move(a));
    }
    util::SpawnOptions o;
    o.cwd = (tree() / cwd).string();
    o.workload = true;  // no token reaches the agent
    o.env = {"CAIRN_DIAGNOSE_CONTEXT=" + context().string(), "CAIRN_DIAGNOSE_OUT=" + out().string()};
    return util::run_capture(argv, "", std::chrono::seconds(cfg.timeout_seconds), o);
  }

 private:
  fs::path m_root;
  std::string m_error;
};

// The context file of an anomaly reading: what cairn saw (its own ORCHESTRATION_CHECK.md
// text), the rules of a read-only reading, and the campaign's WORKFLOW.md.
std::string anomaly_context(const parse::DiagnoseConfig& cfg, const std::string& path,
                            const std::vector<engine::Anomaly>& anomalies, const std::string& findings,
                            const std::string& workflow, const fs::path& out) {
  const std::string campaign = anomalies.front().campaigns.front();
  std::string m = fmt::format("# Explain an anomaly in {}\n\n", campaign);
  m += fmt::format(
      "cairn's anomaly scan found something in the campaign `{}` that no single stage's state shows, and "
      "stopped it for a human to look. Read the campaign's files and explain what is going on. A human "
      "reads your explanation next to cairn's own findings, in the campaign's ORCHESTRATION_CHECK.md.\n\n",
      campaign);
  m += "New this tick:\n\n";
  for (const auto& a : anomalies) {
    m += fmt::format("- `{}` ({} confidence): {}\n", engine::to_string(a.pattern),
                     engine::to_string(a.confidence), a.message);
  }
  m += "\n## Rules\n\n";
  m += "1. This is read-only: every change you make to a file is discarded. Do not submit, cancel or change "
       "jobs.\n";
  m += fmt::format(
      "2. Explain in plain language, in `{}/DIAGNOSIS.md`: what you think causes it, how sure you are and "
      "why, and what a human should check or do.\n",
      out.string());
  m += fmt::format("3. Exit 0 when done. A non-zero exit, or running past {}, is reported as a failure.\n\n",
                   duration_text(cfg.timeout_seconds));
  m += fmt::format("## The campaign\n\n- Campaign file: `{}` (your working directory is its directory)\n\n",
                   path);
  m += "## What cairn saw\n\n" + findings + "\n";
  m += fmt::format("\n## WORKFLOW.md (read it; do not edit it)\n\n```markdown\n{}\n```\n",
                   util::redact(workflow));
  return m;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return path.empty();
  if (pattern.substr(0, 2) == "**") {
    std::string_view rest = pattern.substr(2);
    if (rest.empty()) return true;
    if (rest.front() == '/') rest.remove_prefix(1);
    if (glob_match(rest, path)) return true;
    for (std::size_t i = 0; i < path.size(); ++i) {
      if (path[i] == '/' && glob_match(rest, path.substr(i + 1))) return true;
    }
    return false;
  }
  if (pattern.front() == '*') {
    for (std::size_t i = 0; i <= path.size(); ++i) {
      if (glob_match(pattern.substr(1), path.substr(i))) return true;
      if (i < path.size() && path[i] == '/') break;
    }
    return false;
  }
  if (path.empty()) return false;
  if (pattern.front() == '?' ? path.front() == '/' : pattern.front() != path.front()) return false;
  return glob_match(pattern.substr(1), path.substr(1));
}

bool wants_diagnosis(const parse::DiagnoseConfig& config, const doc::Workflow& wf, const std::string& stage) {
  if (!config.enabled()) return false;
  const doc::Stage* s = wf.stage(stage);
  if (s == nullptr || (s->status != doc::Status::failed && s->status != doc::Status::escalated)) return false;
  if (config.when == parse::DiagnoseConfig::When::escalated) return true;
  return error_class_of(wf, stage) == "unclassified";
}

forge::Diagnosis run_diagnosis(const RepoContext& ctx, gitstore::Repo& repo, const forge::CampaignView& view,
                               const std::string& stage, const std::string& cleared) {
  const parse::DiagnoseConfig& cfg = ctx.config.diagnose;
  forge::Diagnosis d;
  d.agent = agent_name(cfg);
  auto file = parse::WorkflowFile::parse(view.path, view.text);
  if (!file) {
    d.outcome = "not run: the campaign's WORKFLOW.md does not parse";
    return d;
  }
  const doc::Workflow& wf = file->workflow();

  const AgentScratch scratch(repo);
  if (!scratch.error().empty()) {
    d.outcome = fmt::format("not run: {}", scratch.error());
    return d;
  }
  const fs::path tree = scratch.tree();
  const fs::path out = scratch.out();
  {
    std::ofstream w(tree / view.path, std::ios::binary | std::ios::trunc);
    w << cleared;
  }
  const std::string campaign_dir = fs::path(view.path).parent_path().generic_string();
  const Snapshot before = snapshot(tree);
  std::optional<engine::FileWrite> catalog;
  if (auto target = target_catalog(ctx, "");
      target && before.files.count(*target) != 0 && before.files.at(*target).front() != kOdd) {
    catalog = engine::FileWrite{*target, read_all(tree / *target, kMaxFileBytes)};
  }
  const auto ran = scratch.run(cfg, campaign_dir,
                               context_markdown(ctx, view, wf, stage, campaign_dir, before, out, cleared));
  if (!ran) {
    d.outcome = fmt::format("failed: {}; nothing it changed is kept", util::redact(ran.error().message));
    return d;
  }
  d.explanation = util::redact(read_all(out / "DIAGNOSIS.md", kMaxExplanation));
  if (ran->exit != 0) {
    d.outcome = fmt::format("exited {}; nothing it changed is kept", ran->exit);
    return d;
  }

  const Snapshot after = snapshot(tree);
  engine::BranchCommit commit;
  auto judge = [&](const std::string& path, bool removed) {
    const std::string prefix = campaign_dir + "/";
    const std::string rel = path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : "";
    const auto now = after.files.find(path);
    const bool odd = now != after.files.end() && !now->second.empty() && now->second.front() == kOdd;
    const bool allowed = !rel.empty() && rel != "WORKFLOW.md" && !odd &&
                         std::any_of(cfg.may_edit.begin(), cfg.may_edit.end(),
                                     [&](const std::string& g) { return glob_match(g, rel); });
    if (!allowed) {
      d.refused.push_back(path);
    } else if (removed) {
      d.kept.push_back(path);
      commit.removes.push_back(path);
    } else {
      d.kept.push_back(path);
      commit.writes.push_back({path, read_all(tree / path, kMaxFileBytes)});
    }
  };
  for (const auto& [path, content] : after.files) {
    const auto was = before.files.find(path);
    if (was == before.files.end() || was->second != content) judge(path, false);
  }
  for (const auto& [path, _] : before.files) {
    if (after.files.count(path) == 0) judge(path, true);
  }
  std::sort(d.kept.begin(), d.kept.end());
  std::sort(d.refused.begin(), d.refused.end());
  if (auto row = catalog_write(out, catalog, d)) commit.writes.push_back(std::move(*row));

  if (commit.writes.empty() && commit.removes.empty()) {
    d.outcome = d.refused.empty()
                    ? "changed nothing"
                    : fmt::format("changed only files outside `diagnose.may_edit` ({}, refused)",
                                  plural(d.refused.size(), "file"));
    return d;
  }
  d.outcome =
      fmt::format("proposed changes to {}{}{}", plural(d.kept.size(), "file"),
                  d.catalog_row.empty() ? "" : " and a catalog row",
                  d.refused.empty() ? "" : fmt::format("; refused {}", plural(d.refused.size(), "file")));
  std::string message =
      fmt::format("{}: diagnosis for {} [{}]\n\n", wf.campaign, stage, error_class_of(wf, stage));
  const std::string summary = d.explanation.substr(0, 4000);
  if (!summary.empty()) message += summary + (summary.back() == '\n' ? "\n" : "\n\n");
  if (!d.kept.empty()) message += fmt::format("Changed: {}\n", fmt::join(d.kept, ", "));
  if (!d.refused.empty()) message += fmt::format("Refused: {}\n", fmt::join(d.refused, ", "));
  if (!d.catalog_row.empty()) message += fmt::format("Catalog row: {}\n", d.catalog_row);
  message += fmt::format("\nCairn-Campaign: {}\nCairn-Stage: {}\nCairn-Diagnosis: {}\n", wf.campaign, stage,
                         d.agent);
  commit.message = util::redact(message);
  d.commit = std::move(commit);
  return d;
}

std::optional<forge::Diagnosis> AgentDiagnoser::diagnose(const forge::CampaignView& view,
                                                         const std::string& stage,
                                                         const std::string& cleared) {
  auto file = parse::WorkflowFile::parse(view.path, view.text);
  if (!file || !wants_diagnosis(m_ctx.config.diagnose, file->workflow(), stage)) return std::nullopt;
  return run_diagnosis(m_ctx, m_repo, view, stage, cleared);
}

engine::AgentReading AgentExplainer::explain(const std::string& path,
                                             const std::vector<engine::Anomaly>& anomalies,
                                             const std::string& findings) {
  const parse::DiagnoseConfig& cfg = m_ctx.config.diagnose;
  engine::AgentReading r;
  r.agent = agent_name(cfg);
  if (anomalies.empty() || anomalies.front().campaigns.empty()) return r;
  // A scratch copy, never the tick's checkout: whatever the agent changes goes with it.
  const AgentScratch scratch(m_repo);
  if (!scratch.error().empty()) {
    r.failure = fmt::format("not run: {}", util::one_line(scratch.error()));
    return r;
  }
  const std::string workflow = read_all(scratch.tree() / path, kMaxFileBytes);
  const auto ran = scratch.run(cfg, fs::path(path).parent_path().generic_string(),
                               anomaly_context(cfg, path, anomalies, findings, workflow, scratch.out()));
  if (!ran) {
    r.failure = fmt::format("failed: {}", util::redact(util::one_line(ran.error().message)));
    return r;
  }
  r.explanation = util::redact(read_all(scratch.out() / "DIAGNOSIS.md", kMaxExplanation));
  if (ran->exit != 0) {
    r.failure = fmt::format("it exited {}", ran->exit);
  } else if (util::is_blank(r.explanation)) {
    r.failure = "it wrote no DIAGNOSIS.md";
  }
  return r;
}

// ---- `cairn diagnose CAMPAIGN` --------------------------------------------------------

namespace {

struct DiagnoseOptions {
  std::string campaign;
};

Outcome run_diagnose_verb(Session& session, const DiagnoseOptions& o) {
  const RepoContext& ctx = session.ctx;
  const auto c = CAIRN_TRY(open_campaign(ctx, o.campaign));
  const doc::Workflow& wf = c.workflow();
  if (!wf.escalation_required) {
    return fail(fmt::format("{} is not escalated: nothing to diagnose", o.campaign), ExitCode::findings);
  }
  if (ctx.config.diagnose.command.empty()) {
    return fail("no agent configured: set `diagnose.command` in cairn.yaml (and `when:` for ticks to run it)",
                ExitCode::findings);
  }
  gitstore::Repo* repo = &*session.repo;
  CAIRN_TRY(refuse_dirty(*repo, {c.input.path}, "diagnose " + o.campaign));
  const std::string stage = engine::escalated_stage(wf);
  forge::CampaignView view;
  for (auto& v : campaign_views(ctx, ctx.top.string())) {
    if (v.path == c.input.path) view = std::move(v);
  }
  if (view.path.empty()) view = {c.input.path, c.input.text, "", "", std::nullopt};

  const auto now = std::chrono::system_clock::now();
  int attempt = 1;
  const std::string why = "the agent's diagnosis on this branch was reviewed and merged";
  const std::string cleared = CAIRN_TRY(forge::cleared_text(
      view.path, view.text, now, why, view.fix ? view.fix->edits : std::vector<engine::SpecEdit>{}));
  engine::Transition t;
  t.campaign = wf.campaign;
  t.stage = stage;
  t.from = "escalated";
  t.to = "ready";
  t.tick = util::iso8601(now);
  t.body.push_back(
      fmt::format("Clear the escalation of {} at {}: {}", wf.campaign, stage, wf.escalation_reason));
  t.body.push_back("Merging this is the approval: the next tick resumes the campaign.");
  std::vector<engine::BranchCommit> commits{{{{view.path, cleared}}, {}, engine::render_commit_message(t)}};
  const forge::Diagnosis d = run_diagnosis(ctx, *repo, view, stage, cleared);
  if (d.commit) commits.push_back(*d.commit);

  const engine::Identity me = repo->default_identity();  // the person who asked, as `cairn clear`
  std::string branch;
  for (;; ++attempt) {
    branch = forge::clear_branch(wf.campaign, attempt);
    auto made = gitstore::create_local_branch(*repo, branch, commits, me);
    if (made) break;
    if (made.error().exit != ExitCode::findings || attempt >= 1000) return std::move(made).error();
  }
  std::printf("diagnosis by %s: %s\n", d.agent.c_str(), d.outcome.c_str());
  for (const auto& p : d.kept) std::printf("  changed  %s\n", p.c_str());
  for (const auto& p : d.refused) std::printf("  refused  %s\n", p.c_str());
  if (!d.catalog_row.empty()) std::printf("  catalog  %s\n", d.catalog_row.c_str());
  if (!d.catalog_note.empty()) std::printf("  catalog row not appended: %s\n", d.catalog_note.c_str());
  if (!d.explanation.empty()) std::printf("\n%s\n", d.explanation.c_str());
  std::printf(
      "\nbranch %s holds the clear%s. Review it, then resume by merging it:\n"
      "  git diff %s...%s\n  git merge %s\n",
      branch.c_str(), d.commit ? " and the agent's changes" : " only", ctx.config.branch.c_str(),
      branch.c_str(), branch.c_str());
  return {};
}

}  // namespace

void define_diagnose(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<DiagnoseOptions>();
  sub.add_option("campaign", o->campaign, "Campaign name (escalated)")->required();
  run = [o](Session& session) { return run_diagnose_verb(session, *o); };
}

}  // namespace cairn::cli

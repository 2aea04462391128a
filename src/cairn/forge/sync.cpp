#include <cairn/forge/sync.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include <cairn/engine/commit_message.hpp>
#include <cairn/engine/facts.hpp>
#include <cairn/parse/markdown.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/redact.hpp>
#include <cairn/util/time.hpp>

namespace cairn::forge {

namespace {

const std::vector<std::string> kLabels{"cairn", "escalation"};
const std::vector<std::string> kProgressLabels{"cairn", "progress"};
constexpr std::string_view kMarkerOpen = "<!-- cairn:escalation ";
constexpr const char* kNoFixKnown =
    "No catalogued fix applies: look at the log, fix the cause (input deck, resources, code), and resume.";

// The hidden marker that makes a comment of cairn's findable, so it is made once:
// `<!-- cairn:pull 2 -->`.
std::string comment_marker(std::string_view what) {
  return fmt::format("<!-- cairn:{} -->", what);
}

std::string scrub(std::string text, const std::string& secret) {
  if (!secret.empty()) {
    for (auto p = text.find(secret); p != std::string::npos; p = text.find(secret, p)) {
      text.replace(p, secret.size(), "[REDACTED]");
    }
  }
  return util::redact(text);
}

// The last `n` lines of `text`.
std::string last_lines(const std::string& text, int n) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  const std::size_t from = lines.size() > static_cast<std::size_t>(n) ? lines.size() - n : 0;
  std::string out;
  for (std::size_t i = from; i < lines.size(); ++i) out += (i == from ? "" : "\n") + lines[i];
  return out;
}

// How the clear-escalation branch `branch` clears, for the lesson it writes: "merged
// `cairn/clear/c1/1`, applying the catalogued fix walltime x2 (resources.time 00:30:00 ->
// 01:00:00)". The line reaches the base branch only with the merge.
std::string clear_why(const std::string& branch, const CampaignView& view) {
  if (!view.fix) return fmt::format("merged `{}`", branch);
  return fmt::format("merged `{}`, applying the catalogued fix {}{}", branch, view.fix->name,
                     view.fix->summary.empty() ? "" : fmt::format(" ({})", view.fix->summary));
}

// The attempt number of a `cairn/clear/<campaign>/<n>` branch, or 0.
int branch_attempt(const std::string& branch, const std::string& campaign) {
  const std::string prefix = "cairn/clear/" + campaign + "/";
  if (branch.rfind(prefix, 0) != 0) return 0;
  const std::string rest = branch.substr(prefix.size());
  if (rest.empty() ||
      !std::all_of(rest.begin(), rest.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    return 0;
  }
  return std::atoi(rest.c_str());
}

std::string issue_body(const doc::Workflow& wf, const CampaignView& v, const std::string& stage,
                       const Marker& m, const std::string& branch, const SyncOptions& o) {
  std::string error_class;
  std::vector<const doc::FailureRow*> rows;
  for (const auto& r : wf.failures) rows.push_back(&r);
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    if ((*it)->stage == stage && !(*it)->error_class.empty()) {
      error_class = (*it)->error_class;
      break;
    }
  }
  if (rows.size() > 10) rows.erase(rows.begin(), rows.end() - 10);
  std::string b = m.str() + "\n";
  b += fmt::format("Campaign **{}** (`{}`) escalated at stage **{}**: {}\n\n", wf.campaign, v.path, stage,
                   wf.escalation_reason.empty() ? "(no reason recorded)" : wf.escalation_reason);
  b += fmt::format("**Error class:** `{}`\n\n", error_class.empty() ? "unclassified" : error_class);
  b += "### Failure log\n\n";
  if (rows.empty()) {
    b += "(no rows)\n\n";
  } else {
    b += "| Date | Stage | Error class | Error msg | Action taken | Result |\n|---|---|---|---|---|---|\n";
    for (const auto* r : rows) {
      b += parse::md::table_row({r->date, r->stage, r->error_class, r->message, r->action, r->result}) + "\n";
    }
    b += "\n";
  }
  if (!v.log_tail.empty()) {
    b += fmt::format("### Last log lines (redacted)\n\n```text\n{}\n```\n\n",
                     last_lines(v.log_tail, o.log_lines));
  }
  b += fmt::format("### Suggested fix\n\n{}\n\n", v.suggested_fix.empty() ? kNoFixKnown : v.suggested_fix);
  if (v.fix) {
    b += fmt::format("The clear-escalation pull request applies the catalogued fix `{}`{}.\n\n", v.fix->name,
                     v.fix->summary.empty() ? "" : fmt::format(" ({})", v.fix->summary));
  }
  b += fmt::format(
      "### To resume\n\nReview and merge the clear-escalation pull request from `{}` (it sets "
      "`escalation_required: false` and puts `{}` back to `ready`{}), or run "
      "`cairn clear {} --reason \"...\"`. The next tick resumes the campaign and closes this issue.\n",
      branch, stage,
      v.fix ? fmt::format(" with `{}` applied; push further changes to that branch first if needed",
                          v.fix->name)
            : "; push your fix to that branch first",
      wf.campaign);
  if (!o.run_url.empty()) b += fmt::format("\nEscalated by {}\n", o.run_url);
  return scrub(b, o.secret);
}

class Syncer {
 public:
  Syncer(Forge& forge, BranchPublisher& branches, const SyncOptions& o, Diagnoser* diagnoser)
      : m_forge(forge), m_git(branches), m_o(o), m_diagnoser(diagnoser) {}

  SyncReport run(const std::vector<CampaignView>& campaigns) {
    auto issues = m_forge.list_issues(kLabels);
    if (!issues) {
      m_report.errors.push_back(issues.error().message);
      return std::move(m_report);
    }
    m_issues = std::move(*issues);
    for (const auto& v : campaigns) {
      auto file = parse::WorkflowFile::parse(v.path, v.text);
      if (!file) continue;  // the tick reports unparsable files
      const doc::Workflow& wf = file->workflow();
      auto done = wf.escalation_required ? escalated(wf, v) : resumed(wf);
      if (!done) m_report.errors.push_back(fmt::format("{}: {}", wf.campaign, done.error().message));
      if (wf.notify.on_advance) {
        auto told = advanced(wf, v);
        if (!told) m_report.errors.push_back(fmt::format("{}: {}", wf.campaign, told.error().message));
      }
    }
    return std::move(m_report);
  }

 private:
  // The newest open issue whose marker names `campaign`, or nullptr.
  Issue* open_issue(const std::string& campaign) {
    for (auto& i : m_issues) {
      auto m = find_marker(i.body);
      if (i.open && m && m->campaign == campaign) return &i;
    }
    return nullptr;
  }

  Expected<void> escalated(const doc::Workflow& wf, const CampaignView& v) {
    const std::string stage = engine::escalated_stage(wf);
    const std::string c = wf.campaign;
    if (!m_branches_listed) {
      m_branches = CAIRN_TRY(m_git.list_branches("cairn/clear/"));
      m_branches_listed = true;
    }
    // Which escalation this is: an open issue for this stage is this one; otherwise it
    // is a new one, numbered past every earlier issue and branch of the campaign.
    Issue* issue = open_issue(c);
    int attempt = 0;
    if (issue != nullptr) {
      auto m = find_marker(issue->body);
      if (m->stage == stage) {
        attempt = m->attempt;
      } else {
        CAIRN_TRY(comment_once(issue->number, "superseded",
                               fmt::format("Superseded: {} escalated again, at stage `{}`.", c, stage),
                               true));
        CAIRN_TRY(m_forge.close_issue(issue->number));
        issue->open = false;
        m_report.actions.push_back(fmt::format("{}: closed superseded issue #{}", c, issue->number));
        issue = nullptr;
      }
    }
    if (attempt == 0) {
      int highest = 0;
      for (const auto& i : m_issues) {
        auto m = find_marker(i.body);
        if (m && m->campaign == c) highest = std::max(highest, m->attempt);
      }
      int highest_branch = 0;
      for (const auto& b : m_branches) highest_branch = std::max(highest_branch, branch_attempt(b, c));
      attempt = std::max(highest, highest_branch) + 1;
      // Without issues (notify.on_escalate: false) the branch's open pull request, or a
      // branch whose pull request was never opened, is this escalation's.
      if (!wf.notify.on_escalate && highest_branch > highest) {
        auto pulls = CAIRN_TRY(m_forge.list_pulls(clear_branch(c, highest_branch)));
        if (pulls.empty() || pulls.front().state == PullState::open) attempt = highest_branch;
      }
    }
    const Marker marker{c, stage, attempt};
    const std::string branch = clear_branch(c, attempt);

    if (issue == nullptr && wf.notify.on_escalate) {
      const std::string title =
          scrub(fmt::format("cairn: {} escalated at {} — {}", c, stage,
                            wf.escalation_reason.empty() ? "needs a human" : wf.escalation_reason),
                m_o.secret);
      Issue made =
          CAIRN_TRY(m_forge.create_issue(title, issue_body(wf, v, stage, marker, branch, m_o), kLabels));
      m_report.actions.push_back(fmt::format("{}: opened issue #{}", c, made.number));
      m_issues.insert(m_issues.begin(), made);
      issue = &m_issues.front();
    }

    if (std::find(m_branches.begin(), m_branches.end(), branch) == m_branches.end()) {
      const auto now = std::chrono::system_clock::now();
      const std::string content = CAIRN_TRY(cleared_text(
          v.path, v.text, now, clear_why(branch, v), v.fix ? v.fix->edits : std::vector<engine::SpecEdit>{}));
      engine::Transition t;
      t.campaign = c;
      t.stage = stage;
      t.from = "escalated";
      t.to = "ready";
      t.tick = util::iso8601(now);
      t.run_url = m_o.run_url;
      t.body.push_back(fmt::format("Clear the escalation of {} at {}: {}", c, stage, wf.escalation_reason));
      if (v.fix) {
        t.body.push_back(fmt::format("Apply the catalogued fix \"{}\"{}.", v.fix->name,
                                     v.fix->summary.empty() ? "" : fmt::format(": {}", v.fix->summary)));
      }
      t.body.push_back("Merging this is the approval: the next tick resumes the campaign.");
      std::vector<engine::BranchCommit> commits{{{{v.path, content}}, {}, engine::render_commit_message(t)}};
      std::optional<Diagnosis> diagnosis =
          m_diagnoser != nullptr ? m_diagnoser->diagnose(v, stage, content) : std::nullopt;
      if (diagnosis && diagnosis->commit) commits.push_back(*diagnosis->commit);
      CAIRN_TRY(m_git.publish(branch, commits));
      m_branches.push_back(branch);
      m_report.actions.push_back(fmt::format("{}: pushed branch {}", c, branch));
      if (diagnosis) {
        m_report.actions.push_back(
            fmt::format("{}: diagnosis by {}: {}", c, diagnosis->agent, diagnosis->outcome));
        if (issue != nullptr) {
          CAIRN_TRY(comment_once(
              issue->number, fmt::format("diagnosis {}", attempt),
              fmt::format("Diagnosis on `{}`:\n\n{}", branch, diagnosis_markdown(*diagnosis)), true));
        }
        m_diagnoses[c] = std::move(*diagnosis);
      }
    }

    auto pulls = CAIRN_TRY(m_forge.list_pulls(branch));
    bool opened = false;
    if (pulls.empty()) {
      std::string body = pull_body(wf, v, stage);
      if (auto d = m_diagnoses.find(c); d != m_diagnoses.end()) body += "\n" + diagnosis_markdown(d->second);
      if (issue != nullptr) body += fmt::format("\nEscalation issue: #{}\n", issue->number);
      body += "\n" + marker.str() + "\n";
      PullRequest pr = CAIRN_TRY(m_forge.create_pull(
          branch, m_o.base_branch, scrub(fmt::format("cairn: resume {} ({})", c, stage), m_o.secret),
          scrub(body, m_o.secret)));
      m_report.actions.push_back(fmt::format("{}: opened pull request {}", c, m_forge.pull_ref(pr.number)));
      pulls.insert(pulls.begin(), std::move(pr));
      opened = true;
    }
    const PullRequest& pr = pulls.front();
    const std::string ref = m_forge.pull_ref(pr.number);
    engine::EscalationLinks& links = m_report.links[c];
    if (issue != nullptr) links = {fmt::format("#{}", issue->number), issue->url, "", ""};
    if (pr.state == PullState::open) {
      links.pull_ref = ref;
      links.pull_url = pr.url;
    }
    if (pr.state == PullState::closed) {
      m_report.notes.push_back(fmt::format(
          "{}: pull request {} was closed without merging; the campaign stays escalated", c, ref));
      if (issue != nullptr) {
        const std::string text = fmt::format(
            "{} {} was closed without merging, so **{}** stays escalated. To resume, reopen and merge it, or "
            "set "
            "`escalation_required: false` on `{}` yourself (with the fix), or run `cairn clear {} --reason "
            "\"...\"`.",
            m_forge.kind() == "gitlab" ? "Merge request" : "Pull request", ref, c, m_o.base_branch, c);
        if (CAIRN_TRY(comment_once(issue->number, fmt::format("pull-closed {}", pr.number), text, !opened))) {
          m_report.actions.push_back(
              fmt::format("{}: said on issue #{} that {} was closed unmerged", c, issue->number, ref));
        }
      }
    } else if (pr.state == PullState::open && issue != nullptr) {
      // A run that opened the pull request but failed before this comment left it out;
      // the next one makes it.
      CAIRN_TRY(comment_once(
          issue->number, fmt::format("pull {}", pr.number),
          fmt::format("Clear-escalation {}: {} (from `{}`). Merging it resumes the campaign.",
                      m_forge.kind() == "gitlab" ? "merge request" : "pull request", ref, branch),
          !opened));
    }
    return {};
  }

  // Comments `text` on `issue` with the hidden marker `<!-- cairn:<what> -->`, unless a
  // comment there already carries it (looked up when `look` is set; the issue's comments
  // are listed once a run). True when it commented.
  Expected<bool> comment_once(std::int64_t issue, const std::string& what, const std::string& text,
                              bool look) {
    const std::string marker = comment_marker(what);
    if (look) {
      auto seen = m_comments.find(issue);
      if (seen == m_comments.end())
        seen = m_comments.emplace(issue, CAIRN_TRY(m_forge.list_comments(issue))).first;
      for (const auto& body : seen->second) {
        if (body.find(marker) != std::string::npos) return false;
      }
    }
    const std::string body = scrub(text, m_o.secret) + "\n\n" + marker;
    CAIRN_TRY(m_forge.comment(issue, body));
    if (auto seen = m_comments.find(issue); seen != m_comments.end()) seen->second.push_back(body);
    return true;
  }

  // `notify.on_advance: true`: one comment per done stage on the campaign's progress
  // issue (found by its marker among the `cairn` + `progress` issues, opened at the first
  // advance), then a last one and the issue closed when the campaign is done. A closed
  // issue of a done campaign has been told everything, so costs no request.
  Expected<void> advanced(const doc::Workflow& wf, const CampaignView& v) {
    const std::string c = wf.campaign;
    const bool finished = wf.status == doc::Status::done;
    const bool any_done = std::any_of(wf.stages.begin(), wf.stages.end(),
                                      [](const doc::Stage& s) { return s.status == doc::Status::done; });
    if (!any_done && !finished) return {};
    if (!m_progress_listed) {
      m_progress = CAIRN_TRY(m_forge.list_issues(kProgressLabels));
      m_progress_listed = true;
    }
    const std::string marker = comment_marker("progress " + c);
    Issue* issue = nullptr;
    for (auto& i : m_progress) {
      if (i.body.find(marker) != std::string::npos) {
        issue = &i;
        break;
      }
    }
    if (issue != nullptr && !issue->open && finished) return {};
    if (issue == nullptr) {
      const std::string body = fmt::format(
          "{}\nStage advances of campaign **{}** (`{}`), one comment each "
          "(`notify.on_advance: true`). Closed when the campaign is done.\n",
          marker, c, v.path);
      Issue made = CAIRN_TRY(m_forge.create_issue(scrub(fmt::format("cairn: {} progress", c), m_o.secret),
                                                  scrub(body, m_o.secret), kProgressLabels));
      m_report.actions.push_back(fmt::format("{}: opened progress issue #{}", c, made.number));
      m_comments[made.number] = {};  // new: nothing to list
      m_progress.insert(m_progress.begin(), made);
      issue = &m_progress.front();
    }
    for (const auto& s : wf.stages) {
      if (s.status != doc::Status::done) continue;
      std::string text = s.completed.empty() ? fmt::format("{} done", s.name)
                                             : fmt::format("{} done at {}", s.name, s.completed);
      if (!s.job_id.empty()) text += fmt::format(" (job {})", s.job_id);
      if (CAIRN_TRY(comment_once(issue->number, fmt::format("advance {} {}", c, s.name), text + ".", true))) {
        m_report.actions.push_back(
            fmt::format("{}: said on issue #{} that {} is done", c, issue->number, s.name));
      }
    }
    if (finished) {
      std::string text = fmt::format("{} is done: all {} stages complete.", c, wf.stages.size());
      if (!m_o.run_url.empty()) text += fmt::format(" ({})", m_o.run_url);
      CAIRN_TRY(comment_once(issue->number, fmt::format("done {}", c), text, true));
      if (issue->open) {
        CAIRN_TRY(m_forge.close_issue(issue->number));
        issue->open = false;
        m_report.actions.push_back(fmt::format("{}: closed progress issue #{}", c, issue->number));
      }
    }
    return {};
  }

  std::string pull_body(const doc::Workflow& wf, const CampaignView& v, const std::string& stage) const {
    std::string body = fmt::format(
        "Merge to resume **{}**.\n\nThis sets `escalation_required: false` and puts stage `{}` "
        "back to `ready` in `{}`",
        wf.campaign, stage, v.path);
    if (v.fix) {
      body += fmt::format(
          ", and applies the catalogued fix `{}`{}.\n\nPush further changes to this branch before "
          "merging if you want to adjust it.\n",
          v.fix->name, v.fix->summary.empty() ? "" : fmt::format(": {}", v.fix->summary));
    } else {
      body += fmt::format(
          ". It changes nothing else: no catalogued fix can be applied automatically, so push the change "
          "that fixes "
          "the cause to this branch before merging.\n\n**What to change:** {}\n",
          v.suggested_fix.empty()
              ? fmt::format(
                    "look at the job log, then change what made `{}` fail: its spec (`stages.{}` in the "
                    "frontmatter: `resources`, `run`, `backend`), the job script, or its inputs.",
                    stage, stage)
              : v.suggested_fix);
    }
    return body;
  }

  Expected<void> resumed(const doc::Workflow& wf) {
    const std::string c = wf.campaign;
    for (Issue* issue = open_issue(c); issue != nullptr; issue = open_issue(c)) {
      const Marker m = *find_marker(issue->body);
      auto pulls = CAIRN_TRY(m_forge.list_pulls(clear_branch(c, m.attempt)));
      std::string text;
      if (!pulls.empty() && pulls.front().state == PullState::merged) {
        PullRequest pr = CAIRN_TRY(m_forge.get_pull(pulls.front().number));
        text = pr.merged_by.empty()
                   ? fmt::format("Resumed by {}.", m_forge.pull_ref(pr.number))
                   : fmt::format("Resumed by {}, merged by @{}.", m_forge.pull_ref(pr.number), pr.merged_by);
      } else {
        text = fmt::format(
            "Resumed: `escalation_required` is false on `{}` (cleared without the pull request{}).",
            m_o.base_branch,
            pulls.empty()
                ? ""
                : fmt::format(" {}, which is no longer needed", m_forge.pull_ref(pulls.front().number)));
      }
      CAIRN_TRY(comment_once(issue->number, "resumed", text, true));
      CAIRN_TRY(m_forge.close_issue(issue->number));
      issue->open = false;
      m_report.actions.push_back(fmt::format("{}: closed issue #{} ({})", c, issue->number, text));
    }
    return {};
  }

  Forge& m_forge;
  BranchPublisher& m_git;
  const SyncOptions& m_o;
  Diagnoser* m_diagnoser = nullptr;
  std::map<std::string, Diagnosis> m_diagnoses;  // campaign -> what its agent did this run
  SyncReport m_report;
  std::vector<Issue> m_issues;
  std::vector<Issue> m_progress;  // the `cairn` + `progress` issues, listed when first needed
  bool m_progress_listed = false;
  std::map<std::int64_t, std::vector<std::string>> m_comments;  // bodies per issue, listed once
  std::vector<std::string> m_branches;
  bool m_branches_listed = false;
};

}  // namespace

std::string Marker::str() const {
  return fmt::format("<!-- cairn:escalation {} {} {} -->", campaign, stage, attempt);
}

std::optional<Marker> find_marker(const std::string& body) {
  const auto at = body.find(kMarkerOpen);
  if (at == std::string::npos) return std::nullopt;
  const auto end = body.find("-->", at);
  if (end == std::string::npos) return std::nullopt;
  std::istringstream in(body.substr(at + kMarkerOpen.size(), end - at - kMarkerOpen.size()));
  Marker m;
  std::string extra;
  if (!(in >> m.campaign >> m.stage >> m.attempt) || (in >> extra) || m.attempt <= 0) return std::nullopt;
  return m;
}

std::string clear_branch(const std::string& campaign, int attempt) {
  return fmt::format("cairn/clear/{}/{}", campaign, attempt);
}

Expected<std::string> cleared_text(const std::string& path, const std::string& text, engine::TimePoint now,
                                   std::string_view why, const std::vector<engine::SpecEdit>& edits) {
  auto file = parse::WorkflowFile::parse(path, text);
  if (!file) {
    return fail(fmt::format("{}: does not parse ({})", path,
                            file.error().empty() ? std::string("?") : doc::format(file.error().front())));
  }
  CAIRN_TRY(engine::clear_escalation(*file, now, why));
  for (const auto& e : edits) CAIRN_TRY(file->set_scalar(e.key, e.value));
  return file->text();
}

std::string diagnosis_markdown(const Diagnosis& d) {
  std::string b = fmt::format("### Diagnosis by `{}`\n\n{}\n\n", d.agent, d.outcome);
  if (!d.explanation.empty()) b += d.explanation + (d.explanation.back() == '\n' ? "\n" : "\n\n");
  if (!d.kept.empty()) {
    b += "**Changed** (review them before merging):\n\n";
    for (const auto& p : d.kept) b += fmt::format("- `{}`\n", p);
    b += "\n";
  }
  if (!d.refused.empty()) {
    b += "**Refused** (outside `diagnose.may_edit`, discarded):\n\n";
    for (const auto& p : d.refused) b += fmt::format("- `{}`\n", p);
    b += "\n";
  }
  if (!d.catalog_row.empty()) {
    b += fmt::format("**Proposed catalog row** (appended on this branch):\n\n```text\n{}\n```\n\n",
                     d.catalog_row);
  }
  if (!d.catalog_note.empty())
    b += fmt::format("The proposed catalog row was not appended: {}\n\n", d.catalog_note);
  return b;
}

SyncReport sync(Forge& forge, BranchPublisher& branches, const std::vector<CampaignView>& campaigns,
                const SyncOptions& options, Diagnoser* diagnoser) {
  return Syncer(forge, branches, options, diagnoser).run(campaigns);
}

namespace {

// Forges normalise what they store (line endings, trailing blanks): compare what a
// reader sees, so an unchanged dashboard is never sent again.
std::string normalised(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r') out += c;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

Expected<std::string> sync_dashboard(Forge& forge, const std::string& markdown, const std::string& secret) {
  const std::string body = fmt::format("{}\n\n{}\n", scrub(markdown, secret), kDashboardMarker);
  const std::vector<std::string> labels{"cairn", "dashboard"};
  const auto issues = CAIRN_TRY(forge.list_issues(labels));
  for (const auto& i : issues) {
    if (!i.open || i.body.find(kDashboardMarker) == std::string::npos) continue;
    if (normalised(i.body) == normalised(body)) return std::string();
    CAIRN_TRY(forge.update_issue(i.number, body));
    return fmt::format("updated dashboard issue #{}", i.number);
  }
  const Issue made = CAIRN_TRY(forge.create_issue("cairn dashboard", body, labels));
  return fmt::format("opened dashboard issue #{}", made.number);
}

}  // namespace cairn::forge

#include <cairn/engine/report.hpp>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include <cairn/util/time.hpp>

namespace cairn::engine {

namespace {

std::string dash(const std::string& s) {
  return s.empty() ? "—" : s;
}

// A GFM table cell: one line, pipes escaped, no raw HTML.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (c == '<') {
      out += "&lt;";
    } else {
      out += c;
    }
  }
  return out;
}

// Text inside a Mermaid gantt line: the grammar ends a task name at ':' and data at '#'
// or ';', and '%%' starts a comment.
std::string mermaid_text(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == ':' || c == ';' || c == '#' || c == '%' || c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

// Mermaid's dateFormat `YYYY-MM-DD HH:mm:ss`, in UTC (the viewer's browser reads it as
// its local time, so the axis shows UTC wherever it is viewed).
std::string gantt_time(TimePoint t) {
  std::string iso = util::iso8601(t);  // 2026-05-05T20:10:00Z
  iso[10] = ' ';
  iso.pop_back();
  return iso;
}

const doc::Stage* current_stage(const doc::Workflow& wf) {
  const doc::Stage* s = wf.stage(wf.current_stage);
  return s != nullptr ? s : wf.first_open_stage();
}

}  // namespace

std::vector<StageAttempt> stage_attempts(const std::vector<HistoryEvent>& history,
                                         const std::string& campaign) {
  std::vector<StageAttempt> out;
  std::map<std::string, std::size_t> open;  // stage -> index of its running attempt in `out`
  for (const auto& e : history) {
    if (e.campaign != campaign) continue;
    if (e.from != "running" && e.to == "running") {  // a submit (or an adoption) starts an attempt
      // ... unless it is the stage's last attempt taken up again (a stuck job's
      // escalation cleared: the same job is polled again).
      auto same =
          std::find_if(out.rbegin(), out.rend(), [&](const StageAttempt& a) { return a.stage == e.stage; });
      if (same != out.rend() && same->attempt == e.attempt && !e.job.empty() && same->job == e.job) {
        same->outcome = AttemptOutcome::running;
        same->ended_as.clear();
        same->error_class.clear();
        same->end = std::max(same->end, e.time);
        open[e.stage] = static_cast<std::size_t>(std::distance(same, out.rend()) - 1);
        continue;
      }
      StageAttempt a;
      a.stage = e.stage;
      a.attempt = e.attempt;
      a.job = e.job;
      a.start = a.end = e.time;
      open[e.stage] = out.size();
      out.push_back(std::move(a));
      continue;
    }
    if (e.from != "running") continue;
    auto it = open.find(e.stage);
    if (it == open.end()) {  // its start is out of sight (a shallow clone's boundary)
      StageAttempt a;
      a.stage = e.stage;
      a.attempt = e.attempt;
      a.job = e.job;
      a.start = a.end = e.time;
      it = open.emplace(e.stage, out.size()).first;
      out.push_back(std::move(a));
    }
    StageAttempt& a = out[it->second];
    a.end = std::max(a.end, e.time);
    if (a.job.empty()) a.job = e.job;
    if (e.to == "running") continue;  // a poll: still running
    a.ended_as = e.to;
    a.error_class = e.error_class;
    a.outcome = e.to == "done" ? AttemptOutcome::done : AttemptOutcome::failed;
    open.erase(it);
  }
  return out;
}

std::string render_summary_table(const std::vector<DashboardCampaign>& campaigns,
                                 const DashboardOptions& options) {
  std::string out =
      "| Campaign | Status | Stage | Job | Since | Retries | Escalation |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto& c : campaigns) {
    if (!c.workflow) {
      out += fmt::format("| `{}` | invalid | — | — | — | — | {} |\n", cell(c.path), cell(c.error));
      continue;
    }
    const doc::Workflow& wf = *c.workflow;
    const doc::Stage* stage = current_stage(wf);
    std::string since = "—";
    if (c.since) {
      since = util::table_time(*c.since);
      if (options.generated_at && *options.generated_at >= *c.since) {
        const auto age =
            std::chrono::duration_cast<std::chrono::seconds>(*options.generated_at - *c.since).count();
        since += fmt::format(" ({} ago)", util::human_duration(age));
      }
    }
    std::string escalation = "—";
    if (wf.escalation_required) {
      escalation = cell(wf.escalation_reason.empty() ? "needs a human" : wf.escalation_reason);
      if (!c.links.issue_url.empty()) {
        escalation += fmt::format(" · issue [{}]({})", c.links.issue_ref, c.links.issue_url);
      }
      if (!c.links.pull_url.empty()) {
        escalation += fmt::format(" · resume: [{}]({})", c.links.pull_ref, c.links.pull_url);
      }
    }
    const std::string job =
        stage != nullptr && !stage->job_id.empty() ? "`" + cell(stage->job_id) + "`" : "—";
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", cell(wf.campaign), doc::to_string(wf.status),
                       cell(dash(stage != nullptr ? stage->name : wf.current_stage)), job, since,
                       stage != nullptr ? stage->retries : 0, escalation);
  }
  return out;
}

std::string render_gantt(const DashboardCampaign& c) {
  if (c.attempts.empty()) return "";
  std::string out = "```mermaid\ngantt\n";
  out += fmt::format("    title {} (UTC)\n", mermaid_text(c.workflow ? c.workflow->campaign : c.path));
  out += "    dateFormat YYYY-MM-DD HH:mm:ss\n";
  const auto first = std::min_element(c.attempts.begin(), c.attempts.end(), [](const auto& a, const auto& b) {
                       return a.start < b.start;
                     })->start;
  const auto last = std::max_element(c.attempts.begin(), c.attempts.end(), [](const auto& a, const auto& b) {
                      return a.end < b.end;
                    })->end;
  const auto span = last - first;
  out += span > std::chrono::hours(36)     ? "    axisFormat %m-%d %H:%M\n"
         : span > std::chrono::minutes(10) ? "    axisFormat %H:%M\n"
                                           : "    axisFormat %H:%M:%S\n";
  // Sections in stage-table order; stages the table no longer has come after.
  std::vector<std::string> order;
  if (c.workflow) {
    for (const auto& s : c.workflow->stages) order.push_back(s.name);
  }
  for (const auto& a : c.attempts) {
    if (std::find(order.begin(), order.end(), a.stage) == order.end()) order.push_back(a.stage);
  }
  for (const auto& stage : order) {
    out += fmt::format("    section {}\n", mermaid_text(stage));
    for (const auto& a : c.attempts) {
      if (a.stage != stage) continue;
      std::string what;
      const char* tag = "active";
      switch (a.outcome) {
        case AttemptOutcome::running: what = "running"; break;
        case AttemptOutcome::done:
          what = "done";
          tag = "done";
          break;
        case AttemptOutcome::failed:
          what = a.error_class.empty() ? a.ended_as : fmt::format("{} {}", a.ended_as, a.error_class);
          tag = "crit";
          break;
      }
      out += fmt::format("    attempt {} {} :{}, {}, {}\n", a.attempt, mermaid_text(what), tag,
                         gantt_time(a.start), gantt_time(a.end));
    }
  }
  out += "```\n";
  return out;
}

std::string render_dashboard(const std::vector<DashboardCampaign>& campaigns,
                             const DashboardOptions& options) {
  std::string out = fmt::format("# {}\n\n", options.title);
  std::map<std::string, int> counts;
  for (const auto& c : campaigns)
    ++counts[c.workflow ? std::string(doc::to_string(c.workflow->status)) : "invalid"];
  std::string summary;
  for (const auto& [status, n] : counts)
    summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", n, status);
  out += fmt::format("{} campaign{}{}{}", campaigns.size(), campaigns.size() == 1 ? "" : "s",
                     summary.empty() ? "" : ": ", summary);
  if (options.generated_at) out += fmt::format(" · generated at {}", util::iso8601(*options.generated_at));
  out += ".\n\n";
  if (campaigns.empty()) return out;
  out += render_summary_table(campaigns, options);
  if (!options.timelines) return out;
  bool heading = false;
  for (const auto& c : campaigns) {
    const std::string gantt = render_gantt(c);
    if (gantt.empty()) continue;
    if (!heading) {
      out +=
          "\n## Timelines\n\nOne bar per stage attempt, from the commit trailers (`Cairn-Attempt`): done, "
          "failed (red), running.\n";
      heading = true;
    }
    out += fmt::format("\n### {}\n\n{}", c.workflow ? c.workflow->campaign : c.path, gantt);
  }
  return out;
}

}  // namespace cairn::engine

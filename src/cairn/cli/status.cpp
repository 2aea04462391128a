// `cairn status [--json]`: one row per campaign, read from the files (no scheduler calls).
// `cairn status --learnings`: what completed stages report per pool, across campaigns.

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cairn/cli/context.hpp>
#include <cairn/cli/table.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/parse/units.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/time.hpp>

namespace cairn::cli {

namespace {

struct StatusOptions {
  bool json = false;
  bool learnings = false;
};

std::string dash(const std::string& s) {
  return s.empty() ? "—" : s;
}

// ---- --learnings ------------------------------------------------------------------

// A Learnings duration cell ("4m", "1h30m", "0s") in seconds; nullopt when empty.
std::optional<std::int64_t> cell_seconds(const std::string& cell) {
  if (cell == "0s") return 0;
  auto s = parse::parse_duration(cell);
  return s ? std::optional<std::int64_t>(*s) : std::nullopt;
}

std::optional<std::int64_t> median(std::vector<std::int64_t> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string duration_or_dash(const std::optional<std::int64_t>& s) {
  return s ? util::human_duration(*s) : "—";
}

struct PoolSummary {
  std::set<std::string> campaigns;
  int runs = 0;
  std::vector<std::int64_t> waits;
  std::vector<std::int64_t> run_times;
  std::string last_resources;  // of the newest run: what worked most recently
  std::string last_date;
};

struct ErrorSummary {
  int seen = 0;
  int resolved = 0;
  int escalated = 0;
  std::set<std::string> campaigns;
  std::map<std::string, int> resolved_by;  // action taken -> times it resolved the class
};

void print_learnings(const std::vector<doc::Workflow>& workflows, bool json) {
  std::map<std::pair<std::string, std::string>, PoolSummary> pools;  // (backend, pool)
  std::map<std::string, ErrorSummary> errors;
  for (const auto& wf : workflows) {
    for (const auto& l : wf.learnings) {
      PoolSummary& p = pools[{l.backend, l.pool}];
      p.campaigns.insert(wf.campaign);
      ++p.runs;
      if (auto w = cell_seconds(l.queue_wait)) p.waits.push_back(*w);
      if (auto r = cell_seconds(l.run_time)) p.run_times.push_back(*r);
      if (l.date >= p.last_date) {
        p.last_date = l.date;
        p.last_resources = l.resources;
      }
    }
    for (const auto& f : wf.failures) {
      ErrorSummary& e = errors[f.error_class];
      ++e.seen;
      e.campaigns.insert(wf.campaign);
      if (f.result == "RESOLVED") {
        ++e.resolved;
        ++e.resolved_by[f.action];
      } else if (f.result == "ESCALATED") {
        ++e.escalated;
      }
    }
  }
  auto fixes_text = [](const ErrorSummary& e) {
    std::string out;
    for (const auto& [action, n] : e.resolved_by) {
      out += (out.empty() ? "" : "; ") + fmt::format("{} ({}x)", action, n);
    }
    return out;
  };
  if (json) {
    nlohmann::json jp = nlohmann::json::array();
    for (const auto& [key, p] : pools) {
      jp.push_back(
          {{"backend", key.first},
           {"pool", key.second},
           {"runs", p.runs},
           {"campaigns", p.campaigns.size()},
           {"median_queue_wait_seconds", median(p.waits) ? nlohmann::json(*median(p.waits)) : nullptr},
           {"median_run_seconds", median(p.run_times) ? nlohmann::json(*median(p.run_times)) : nullptr},
           {"last_resources", p.last_resources}});
    }
    nlohmann::json je = nlohmann::json::array();
    for (const auto& [cls, e] : errors) {
      je.push_back({{"error_class", cls},
                    {"seen", e.seen},
                    {"resolved", e.resolved},
                    {"escalated", e.escalated},
                    {"campaigns", e.campaigns.size()},
                    {"resolved_by", e.resolved_by}});
    }
    std::printf("%s\n", nlohmann::json{{"version", 1}, {"pools", jp}, {"errors", je}}.dump(2).c_str());
    return;
  }
  if (pools.empty() && errors.empty()) {
    std::printf("no learnings yet: completed stages add rows to `## Learnings`\n");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [key, p] : pools) {
    rows.push_back({key.first, dash(key.second), std::to_string(p.runs), std::to_string(p.campaigns.size()),
                    duration_or_dash(median(p.waits)), duration_or_dash(median(p.run_times)),
                    dash(p.last_resources)});
  }
  if (!rows.empty()) {
    std::fputs(render_table({"BACKEND", "POOL", "RUNS", "CAMPAIGNS", "QUEUE WAIT (MEDIAN)",
                             "RUN TIME (MEDIAN)", "RESOURCES (LATEST)"},
                            rows)
                   .c_str(),
               stdout);
  }
  rows.clear();
  for (const auto& [cls, e] : errors) {
    rows.push_back({cls, std::to_string(e.seen), std::to_string(e.campaigns.size()),
                    std::to_string(e.resolved), std::to_string(e.escalated), dash(fixes_text(e))});
  }
  if (!rows.empty()) {
    if (!pools.empty()) std::printf("\n");
    std::fputs(
        render_table({"ERROR CLASS", "SEEN", "CAMPAIGNS", "RESOLVED", "ESCALATED", "RESOLVED BY"}, rows)
            .c_str(),
        stdout);
  }
}

Outcome run_status(Session& session, const StatusOptions& o) {
  const RepoContext& ctx = session.ctx;
  std::vector<doc::Diagnostic> errors;
  const auto campaigns = load_campaigns(ctx, errors);
  nlohmann::json rows = nlohmann::json::array();
  std::vector<std::vector<std::string>> table;
  bool invalid = !errors.empty();
  for (const auto& e : errors) {
    rows.push_back({{"path", e.path}, {"valid", false}, {"error", doc::format(e)}});
    table.push_back({e.path, "invalid", "—", "—", "—", "—", e.message});
  }
  std::vector<doc::Workflow> workflows;  // for --learnings
  for (const auto& c : campaigns) {
    auto file = parse::WorkflowFile::parse(c.path, c.text);
    if (file && o.learnings) {
      workflows.push_back(file->workflow());
      continue;
    }
    if (!file) {
      invalid = true;
      const std::string first = file.error().empty() ? "invalid" : doc::format(file.error().front());
      if (o.learnings) std::fprintf(stderr, "%s\n", first.c_str());
      rows.push_back({{"path", c.path}, {"valid", false}, {"error", first}});
      table.push_back({c.path, "invalid", "—", "—", "—", "—", first});
      continue;
    }
    const auto& wf = file->workflow();
    const doc::Stage* stage = wf.stage(wf.current_stage);
    if (stage == nullptr) stage = wf.first_open_stage();
    nlohmann::json row = {{"campaign", wf.campaign},
                          {"path", c.path},
                          {"valid", true},
                          {"status", std::string(doc::to_string(wf.status))},
                          {"current_stage", wf.current_stage},
                          {"job", stage != nullptr ? stage->job_id : ""},
                          {"started", stage != nullptr ? stage->started : ""},
                          {"retries", stage != nullptr ? stage->retries : 0},
                          {"escalation_required", wf.escalation_required},
                          {"escalation_reason", wf.escalation_reason},
                          {"last_tick", wf.last_tick}};
    rows.push_back(row);
    table.push_back({wf.campaign, std::string(doc::to_string(wf.status)), dash(wf.current_stage),
                     dash(stage != nullptr ? stage->job_id : ""),
                     dash(stage != nullptr ? stage->started : ""),
                     std::to_string(stage != nullptr ? stage->retries : 0),
                     wf.escalation_required ? dash(wf.escalation_reason) : "—"});
  }
  if (o.learnings) {
    print_diagnostics(errors);
    print_learnings(workflows, o.json);
    if (invalid) return findings_reported();
    return {};
  }
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"version", 1}, {"campaigns", rows}}.dump(2).c_str());
  } else if (table.empty()) {
    std::printf("no campaigns under %s\n", display_path(ctx.root(), fs::current_path()).c_str());
  } else {
    std::fputs(render_table({"CAMPAIGN", "STATUS", "STAGE", "JOB", "STARTED", "RETRIES", "ESCALATION"}, table)
                   .c_str(),
               stdout);
  }
  if (invalid) return findings_reported();
  return {};
}

}  // namespace

void define_status(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<StatusOptions>();
  sub.add_flag("--json", o->json, "Print {version: 1, campaigns: [...]} as JSON");
  sub.add_flag(
      "--learnings", o->learnings,
      "Summarise the `## Learnings` tables and failure logs per pool and error class, across campaigns");
  run = [o](Session& session) { return run_status(session, *o); };
}

}  // namespace cairn::cli

// `cairn status [--json]`: one row per campaign, read from the files (no scheduler calls).

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include <cairn/cli/context.hpp>
#include <cairn/cli/table.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/parse/workflow_file.hpp>

namespace cairn::cli {

namespace {

struct StatusOptions {
  bool json = false;
};

std::string dash(const std::string& s) { return s.empty() ? "—" : s; }

int run_status(const StatusOptions& o) {
  auto ctx = load_context(fs::current_path());
  if (!ctx) {
    std::fprintf(stderr, "%s\n", ctx.error().message.c_str());
    return static_cast<int>(ExitCode::findings);
  }
  std::vector<doc::Diagnostic> errors;
  const auto campaigns = load_campaigns(*ctx, errors);
  nlohmann::json rows = nlohmann::json::array();
  std::vector<std::vector<std::string>> table;
  bool invalid = !errors.empty();
  for (const auto& e : errors) {
    rows.push_back({{"path", e.path}, {"valid", false}, {"error", doc::format(e)}});
    table.push_back({e.path, "invalid", "—", "—", "—", "—", e.message});
  }
  for (const auto& c : campaigns) {
    auto file = parse::WorkflowFile::parse(c.path, c.text);
    if (!file) {
      invalid = true;
      const std::string first = file.error().empty() ? "invalid" : doc::format(file.error().front());
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
                     dash(stage != nullptr ? stage->job_id : ""), dash(stage != nullptr ? stage->started : ""),
                     std::to_string(stage != nullptr ? stage->retries : 0),
                     wf.escalation_required ? dash(wf.escalation_reason) : "—"});
  }
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"version", 1}, {"campaigns", rows}}.dump(2).c_str());
  } else if (table.empty()) {
    std::printf("no campaigns under %s\n", display_path(ctx->root(), fs::current_path()).c_str());
  } else {
    std::fputs(render_table({"CAMPAIGN", "STATUS", "STAGE", "JOB", "STARTED", "RETRIES", "ESCALATION"}, table).c_str(),
               stdout);
  }
  return invalid ? static_cast<int>(ExitCode::findings) : 0;
}

}  // namespace

void define_status(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<StatusOptions>();
  sub.add_flag("--json", o->json, "Print {version: 1, campaigns: [...]} as JSON");
  run = [o] { return run_status(*o); };
}

}  // namespace cairn::cli

#include <cairn/cli/dashboard.hpp>

#include <chrono>

#include <fmt/format.h>

#include <cairn/engine/anomaly.hpp>
#include <cairn/gitstore/log.hpp>
#include <cairn/gitstore/remote.hpp>
#include <cairn/parse/markdown.hpp>
#include <cairn/parse/workflow_file.hpp>
#include <cairn/util/resources.hpp>

#ifndef CAIRN_MERMAID_VERSION
#define CAIRN_MERMAID_VERSION ""
#endif

namespace cairn::cli {

namespace {

constexpr std::string_view kMermaidResource = "vendor/mermaid.min.js";

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A script's text inside <script>: `</script` would end the element early.
std::string script_text(std::string_view js) {
  std::string out(js);
  for (std::size_t at = 0; (at = out.find("</script", at)) != std::string::npos; at += 2)
    out.replace(at, 2, "<\\/");
  return out;
}

constexpr std::string_view kStyle = R"(
body { font: 14px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328;
       margin: 2em auto; max-width: 1200px; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #d1d9e0; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code { background: #f6f8fa; padding: 1px 4px; border-radius: 4px; font-size: 90%; }
pre { background: #f6f8fa; padding: 1em; overflow-x: auto; }
.cairn-note { border-left: 4px solid #bf8700; background: #fff8c5; padding: 0.5em 1em; }
.cairn-timeline { margin: 1em 0 2em; }
)";

// Turns each ```mermaid block cmark rendered (<pre><code class="language-mermaid">) into
// a <div class="mermaid"> holding its source, draws them all, and marks the body with
// how many were drawn (data-timelines) once done, or the error (data-error).
constexpr std::string_view kRenderScript = R"(
(async () => {
  const blocks = [...document.querySelectorAll('pre > code.language-mermaid')];
  for (const code of blocks) {
    const div = document.createElement('div');
    div.className = 'mermaid cairn-timeline';
    div.textContent = code.textContent;
    code.parentElement.replaceWith(div);
  }
  try {
    mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', gantt: { useWidth: 1100 } });
    await mermaid.run({ querySelector: 'div.mermaid' });
    document.body.dataset.timelines = String(document.querySelectorAll('div.mermaid svg').length);
  } catch (e) {
    document.body.dataset.error = String(e && e.message ? e.message : e);
  }
})();
)";

}  // namespace

std::string forge_dashboard_markdown(const std::vector<engine::DashboardCampaign>& campaigns) {
  constexpr std::size_t kLimit = 60000;  // GitHub's 65,536 less room for the marker
  engine::DashboardOptions options;
  std::string markdown = engine::render_dashboard(campaigns, options);
  if (markdown.size() <= kLimit) return markdown;
  options.timelines = false;
  markdown = engine::render_dashboard(campaigns, options);
  markdown +=
      "\nThe timelines are left out: with them the dashboard would pass the forge's size limit. "
      "`cairn report --html` draws them.\n";
  return markdown;
}

bool have_mermaid() {
  return resources::get(kMermaidResource).has_value();
}

std::string dashboard_html(const std::string& markdown, const std::string& title) {
  const auto mermaid = resources::get(kMermaidResource);
  std::string page = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<meta name=\"generator\" content=\"cairn\">\n<style>{}</style>\n</head>\n<body>\n",
      html_escape(title), kStyle);
  if (!mermaid) {
    page +=
        "<p class=\"cairn-note\" id=\"cairn-no-mermaid\">The timelines below are shown as Mermaid source: "
        "this cairn "
        "was built without Mermaid (mermaid.min.js was not found at build time; see CAIRN_MERMAID_JS). The "
        "Markdown "
        "report (<code>cairn report</code>) renders them on GitHub and GitLab.</p>\n";
  }
  page += parse::md::to_html(markdown);
  if (mermaid) {
    page += fmt::format("<!-- Mermaid {} (MIT license), embedded: the page needs no network -->\n<script>",
                        CAIRN_MERMAID_VERSION);
    page += script_text(*mermaid);
    page += "</script>\n<script>";
    page += kRenderScript;
    page += "</script>\n";
  }
  page += "</body>\n</html>\n";
  return page;
}

Expected<std::vector<engine::DashboardCampaign>> dashboard_campaigns(
    const RepoContext& ctx, gitstore::Repo& repo, std::string& warning,
    const std::map<std::string, engine::EscalationLinks>& links) {
  if (repo.is_shallow()) {  // CI's depth-1 clone: the timelines are on the remote
    auto remote = gitstore::tick_remote(repo);
    auto branch = repo.current_branch();
    const gitstore::RemoteBranch where{remote ? *remote : "",
                                       branch && !branch->empty() ? *branch : ctx.config.branch};
    warning = gitstore::deepen(repo, where, std::nullopt);
  }
  auto log = gitstore::cairn_log_since(repo, std::chrono::system_clock::time_point{});
  if (!log) return fail(log.error().message, ExitCode::unreachable);
  const std::vector<engine::HistoryEvent> history = gitstore::history_events(*log);
  std::vector<engine::DashboardCampaign> out;
  std::vector<doc::Diagnostic> errors;
  const auto campaigns = load_campaigns(ctx, errors);
  for (const auto& e : errors) {
    engine::DashboardCampaign c;
    c.path = e.path;
    c.error = doc::format(e);
    out.push_back(std::move(c));
  }
  for (const auto& input : campaigns) {
    engine::DashboardCampaign c;
    c.path = input.path;
    auto file = parse::WorkflowFile::parse(input.path, input.text);
    if (!file) {
      c.error = file.error().empty() ? "invalid" : doc::format(file.error().front());
      out.push_back(std::move(c));
      continue;
    }
    const doc::Workflow& wf = file->workflow();
    c.attempts = engine::stage_attempts(history, wf.campaign);
    const doc::Stage* stage = wf.stage(wf.current_stage);
    if (stage == nullptr) stage = wf.first_open_stage();
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
      // A poll (`running -> running`) does not change since when the stage is in its state.
      if (it->campaign == wf.campaign && it->from != it->to &&
          (stage == nullptr || it->stage == stage->name)) {
        c.since = it->time;
        break;
      }
    }
    if (auto l = links.find(wf.campaign); l != links.end()) c.links = l->second;
    c.workflow = wf;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace cairn::cli

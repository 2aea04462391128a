// `cairn report [--out FILE] [--html]`: the dashboard of every campaign, as Markdown
// (GitHub and GitLab draw its Mermaid timelines) or as a self-contained HTML page.

#include <cstdio>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include <cairn/cli/context.hpp>
#include <cairn/cli/dashboard.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/engine/report.hpp>

namespace cairn::cli {

namespace {

struct ReportOptions {
  std::string out;
  bool html = false;
};

Outcome run_report(Session& session, const ReportOptions& o) {
  const RepoContext& ctx = session.ctx;
  gitstore::Repo* repo = &*session.repo;
  std::string warning;
  auto campaigns = dashboard_campaigns(ctx, *repo, warning);
  if (!warning.empty()) std::fprintf(stderr, "cairn report: warning: %s\n", warning.c_str());
  if (!campaigns) return std::move(campaigns).error();
  engine::DashboardOptions options;
  options.generated_at = std::chrono::system_clock::now();
  const std::string markdown = engine::render_dashboard(*campaigns, options);
  if (o.html && !have_mermaid()) {
    std::fprintf(
        stderr,
        "cairn report: this cairn was built without Mermaid (mermaid.min.js was not found at build time): "
        "the page shows the timelines as Mermaid source\n");
  }
  const std::string text = o.html ? dashboard_html(markdown, options.title) : markdown;
  if (o.out.empty() || o.out == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
    f << text;
    f.close();
    if (!f) return fail(fmt::format("cannot write {}", o.out));
    std::printf("wrote %s (%zu campaign%s)\n", o.out.c_str(), campaigns->size(),
                campaigns->size() == 1 ? "" : "s");
  }
  // An invalid file is a row of the report, which says so.
  for (const auto& c : *campaigns) {
    if (!c.workflow) return findings_reported();
  }
  return {};
}

}  // namespace

void define_report(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<ReportOptions>();
  sub.add_option("--out", o->out, "Write the report to FILE instead of stdout");
  sub.add_flag("--html", o->html,
               "A self-contained HTML page (timelines drawn by the embedded Mermaid script)");
  run = [o](Session& session) { return run_report(session, *o); };
}

}  // namespace cairn::cli

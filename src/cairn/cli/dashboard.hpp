#pragma once

// The dashboard's inputs gathered from the repository: every campaign file at the work
// tree and cairn's whole commit-trailer history (`cairn report`, the tick's step summary
// and the forge's dashboard issue all read it here).

#include <map>
#include <string>
#include <vector>

#include <cairn/cli/context.hpp>
#include <cairn/engine/report.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::cli {

// One DashboardCampaign per WORKFLOW.md under ctx.root() (unreadable or invalid files
// included, saying why), with the attempts and the current stage's "since" read from
// the history reachable from HEAD. A shallow clone is deepened first (as `cairn log`
// does); what stays out of sight is returned in `warning`. `links` (campaign -> where
// its escalation lives) fills the Escalation cells. Fails (exit 3) when history cannot
// be read.
Expected<std::vector<engine::DashboardCampaign>> dashboard_campaigns(
    const RepoContext& ctx, gitstore::Repo& repo, std::string& warning,
    const std::map<std::string, engine::EscalationLinks>& links = {});

// The dashboard as the forge issue and the CI step summary hold it: no clock in it (the
// issue changes only when a campaign does), and without the timelines when they would
// pass the forge's 65,536-character body limit (saying so).
std::string forge_dashboard_markdown(const std::vector<engine::DashboardCampaign>& campaigns);

// A self-contained HTML page of the dashboard `markdown` (cmark-gfm with the table
// extension), its Mermaid blocks drawn by the Mermaid script embedded at build time. A
// binary built without it shows the blocks as source and says so at the top of the page.
std::string dashboard_html(const std::string& markdown, const std::string& title);

// Whether this binary embeds the Mermaid script (CMake found mermaid.min.js).
bool have_mermaid();

}  // namespace cairn::cli

#pragma once

// The forge step of a tick (docs/tick.md step 9, docs/escalation.md): after the tick's
// commits are pushed, open or find escalation issues and clear-escalation pull requests,
// and close the issues of campaigns that resumed. Also the `cairn forge` verb.

#include <cstdio>
#include <map>
#include <string>

#include <cairn/cli/context.hpp>
#include <cairn/cli/exit_policy.hpp>
#include <cairn/engine/report.hpp>
#include <cairn/forge/http.hpp>
#include <cairn/forge/sync.hpp>
#include <cairn/gitstore/repo.hpp>

namespace cairn::cli {

struct ForgeStepOptions {
  std::string remote = "origin";        // the remote the tick pushed to (clear branches go there)
  std::string run_url;                  // the CI run, linked from issues
  bool quiet_when_unconfigured = true;  // no forge configured or inferable: return 0 silently
  std::FILE* out = stdout;              // where action lines go (stderr under `tick --json`)
  // When set: filled with where each escalation lives (the dashboard's links).
  std::map<std::string, engine::EscalationLinks>* links = nullptr;
};

// The views forge::sync needs: each campaign's file as the work tree has it, and for an
// escalated campaign the tail of its stage's job log, the catalog's hint for its
// failure and the catalogued fix planned against the stage's spec as it is now (best
// effort: a backend that cannot answer leaves the log empty). `qualifier` makes job
// keys this repository's (its remote URL, else its path).
std::vector<forge::CampaignView> campaign_views(const RepoContext& ctx, const std::string& qualifier);

// The HTTP retry policy for forge requests, with the test knobs read from the
// environment: CAIRN_FORGE_MIN_INTERVAL_MS (between mutations), CAIRN_FORGE_BACKOFF_MS
// (first backoff), CAIRN_FORGE_TIMEOUT_MS (whole request).
forge::RetryPolicy forge_retry_policy();

// Runs forge::sync over the campaigns of `ctx` as the work tree has them (the pushed
// tip), against the forge of cairn.yaml `forge:` (or inferred from the remote URL);
// with `forge.dashboard: true`, then keeps the dashboard issue (forge::sync_dashboard).
// Prints one line per action to `options.out` and problems to stderr. Succeeds when done
// or when no forge applies (no forge, or an inferred one without a token: a note); fails
// (findings) for an invalid `forge:` configuration, (unreachable) when the forge or the
// remote could not be reached (the campaign stays escalated in git; the next tick
// redoes the step) or a configured forge has no token.
Outcome run_forge_step(const RepoContext& ctx, gitstore::Repo& repo, const ForgeStepOptions& options);

}  // namespace cairn::cli

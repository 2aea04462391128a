// `cairn log CAMPAIGN [--json]`: the campaign's timeline, from commit trailers.

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include <cairn/cli/context.hpp>
#include <cairn/cli/table.hpp>
#include <cairn/cli/verbs.hpp>
#include <cairn/gitstore/log.hpp>
#include <cairn/gitstore/remote.hpp>
#include <cairn/gitstore/repo.hpp>

namespace cairn::cli {

namespace {

struct LogOptions {
  std::string campaign;
  bool json = false;
  int max = 0;
};

std::string trailer(const gitstore::LogEntry& e, const std::string& key) {
  for (const auto& [k, v] : e.trailers) {
    if (k == key) return v;
  }
  return "";
}

// What a commit did, for the TRANSITION column: an intent announces a submit and an
// anomaly note records what the scan saw, neither moves the stage (their trailer says
// `ready -> ready`), so they read as what they are.
std::string transition_text(const gitstore::LogEntry& e) {
  if (const std::string intent = trailer(e, "Cairn-Intent"); !intent.empty()) return "intent: " + intent;
  if (const std::string anomaly = trailer(e, "Cairn-Anomaly"); !anomaly.empty()) return "anomaly: " + anomaly;
  return trailer(e, "Cairn-Transition");
}

Outcome run_log(Session& session, const LogOptions& o) {
  const RepoContext& ctx = session.ctx;
  gitstore::Repo* repo = &*session.repo;
  if (repo->is_shallow()) {  // CI's depth-1 clone: the campaign's history is on the remote
    auto remote = gitstore::tick_remote(*repo);
    auto branch = repo->current_branch();
    const gitstore::RemoteBranch where{remote ? *remote : "", branch && !branch->empty() ? *branch : "main"};
    if (auto missing = gitstore::deepen(*repo, where, std::nullopt); !missing.empty()) {
      std::fprintf(stderr, "cairn log: warning: %s\n", missing.c_str());
    }
  }
  auto entries = gitstore::log_for_campaign(*repo, o.campaign, o.max);
  if (!entries) return fail(entries.error().message, ExitCode::unreachable);
  // A campaign removed from the tree still has its history; a name with neither is a typo.
  if (entries->empty()) {
    if (auto found = find_campaign(ctx, o.campaign); !found && found.error().exit == ExitCode::usage) {
      return std::move(found).error();
    }
  }
  if (o.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& e : *entries) {
      nlohmann::json trailers = nlohmann::json::object();
      for (const auto& [k, v] : e.trailers) trailers[k] = v;
      rows.push_back({{"commit", e.commit},
                      {"time", e.time_iso},
                      {"author", e.author},
                      {"subject", e.subject},
                      {"stage", trailer(e, "Cairn-Stage")},
                      {"transition", trailer(e, "Cairn-Transition")},
                      {"job", trailer(e, "Cairn-Job")},
                      {"error_class", trailer(e, "Cairn-Error-Class")},
                      {"trailers", trailers}});
    }
    std::printf("%s\n",
                nlohmann::json{{"version", 1}, {"campaign", o.campaign}, {"entries", rows}}.dump(2).c_str());
    return {};
  }
  if (entries->empty()) {
    std::printf("no commits for campaign `%s` yet (trailer Cairn-Campaign: %s)\n", o.campaign.c_str(),
                o.campaign.c_str());
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : *entries) {
    auto dash = [](std::string s) { return s.empty() ? std::string("—") : s; };
    rows.push_back({e.time_iso, dash(trailer(e, "Cairn-Stage")), dash(transition_text(e)),
                    dash(trailer(e, "Cairn-Job")), dash(trailer(e, "Cairn-Error-Class")),
                    e.commit.substr(0, 8)});
  }
  std::fputs(render_table({"TIME", "STAGE", "TRANSITION", "JOB", "ERROR CLASS", "COMMIT"}, rows).c_str(),
             stdout);
  return {};
}

}  // namespace

void define_log(CLI::App& sub, Runner& run) {
  auto o = std::make_shared<LogOptions>();
  sub.add_option("campaign", o->campaign, "Campaign name")->required();
  sub.add_option("-n,--max", o->max, "Show at most this many entries (newest)");
  sub.add_flag("--json", o->json, "Print {version: 1, campaign, entries: [...]} as JSON");
  run = [o](Session& session) { return run_log(session, *o); };
}

}  // namespace cairn::cli

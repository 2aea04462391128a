#include <cairn/engine/anomaly.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>

#include <cairn/util/redact.hpp>
#include <cairn/util/strings.hpp>
#include <cairn/util/time.hpp>

namespace cairn::engine {

namespace {

constexpr std::size_t kMaxEvidence = 12;
constexpr std::size_t kMaxLogEvidence = 5;
constexpr std::size_t kMaxLogLine = 200;
constexpr int kOthersShown = 3;

std::string human(std::chrono::seconds d) {
  return util::human_duration(d.count());
}

bool in_window(TimePoint t, TimePoint now, std::chrono::seconds window) {
  return t > now - window;
}

// "2026-05-05T20:10:00Z alpha/smoke running -> failed [oom] (job 17)"
std::string event_line(const HistoryEvent& e) {
  std::string s = fmt::format("{} {}/{} {} -> {}", util::iso8601(e.time), e.campaign, e.stage, e.from, e.to);
  if (!e.error_class.empty()) s += fmt::format(" [{}]", e.error_class);
  if (!e.job.empty()) s += fmt::format(" (job {})", e.job);
  return s;
}

// A matched log line as evidence: trimmed, cut, redacted.
std::string log_evidence(std::string_view line) {
  std::string text(util::trim(line));
  if (text.size() > kMaxLogLine) text = text.substr(0, kMaxLogLine) + "...";
  return "log: " + util::redact(text);
}

// Keeps the evidence short enough to read in a commit or an issue: the first lines, then
// how many more there were.
void add_capped(std::vector<std::string>& evidence, const std::vector<std::string>& lines,
                std::size_t cap = kMaxEvidence) {
  if (lines.size() <= cap) {
    evidence.insert(evidence.end(), lines.begin(), lines.end());
    return;
  }
  evidence.insert(evidence.end(), lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(cap - 1));
  evidence.push_back(fmt::format("... and {} more", lines.size() - (cap - 1)));
}

Anomaly one_campaign(AnomalyPattern p, Confidence c, const std::string& campaign, const std::string& stage) {
  Anomaly a;
  a.pattern = p;
  a.confidence = c;
  a.campaigns = {campaign};
  a.stage = stage;
  a.fingerprint = fmt::format("{} {} {}", to_string(p), campaign, stage);
  return a;
}

// Above the threshold asks for a pause; above twice the threshold the pause did not
// happen or did not help.
Confidence runaway_confidence(std::size_t count, int threshold) {
  return count > 2 * static_cast<std::size_t>(threshold) ? Confidence::high : Confidence::medium;
}

using StageKey = std::pair<std::string, std::string>;

void runaway_resubmits(const std::vector<const HistoryEvent*>& events, TimePoint now,
                       const AnomalyThresholds& th, std::vector<Anomaly>& out) {
  std::map<StageKey, std::vector<const HistoryEvent*>> by_stage;
  for (const auto* e : events) by_stage[{e->campaign, e->stage}].push_back(e);
  for (const auto& [key, stage_events] : by_stage) {
    // A submission is an entry into `running` with a job: from another status, or from
    // `running` with a job other than the one the stage ran (a tick that died between
    // submit and commit). Heartbeats (running -> running, same job) and adoptions of a
    // job already seen are not.
    std::string previous_job;
    std::set<std::string> seen;
    std::vector<const HistoryEvent*> submitted;
    for (const auto* e : stage_events) {
      const bool submission = e->to == "running" && !e->job.empty() &&
                              (e->from != "running" || (!previous_job.empty() && previous_job != e->job));
      if (submission && seen.insert(e->job).second && in_window(e->time, now, th.submissions_window)) {
        submitted.push_back(e);
      }
      if (!e->job.empty()) previous_job = e->job;
    }
    if (submitted.size() <= static_cast<std::size_t>(th.max_submissions_per_stage)) continue;
    Anomaly a = one_campaign(AnomalyPattern::runaway_resubmits,
                             runaway_confidence(submitted.size(), th.max_submissions_per_stage), key.first,
                             key.second);
    a.message =
        fmt::format("{}: stage {} was submitted {} times in {} (more than {}): a resubmit loop?", key.first,
                    key.second, submitted.size(), human(th.submissions_window), th.max_submissions_per_stage);
    std::vector<std::string> lines;
    for (const auto* e : submitted) lines.push_back(event_line(*e));
    add_capped(a.evidence, lines);
    out.push_back(std::move(a));
  }
}

void runaway_completions(const std::vector<const HistoryEvent*>& events, TimePoint now,
                         const AnomalyThresholds& th, std::vector<Anomaly>& out) {
  std::map<std::string, std::vector<const HistoryEvent*>> by_campaign;
  std::set<std::tuple<std::string, std::string, std::string>> counted;  // one ending per job
  for (const auto* e : events) {
    if (e->from != "running" || (e->to != "done" && e->to != "failed")) continue;
    if (!in_window(e->time, now, th.completions_window)) continue;
    if (!e->job.empty() && !counted.insert({e->campaign, e->stage, e->job}).second) continue;
    by_campaign[e->campaign].push_back(e);
  }
  for (const auto& [campaign, ended] : by_campaign) {
    if (ended.size() <= static_cast<std::size_t>(th.max_completions)) continue;
    std::set<std::string> stages;
    for (const auto* e : ended) stages.insert(e->stage);
    const std::string stage = stages.size() == 1 ? *stages.begin() : std::string();
    Anomaly a = one_campaign(AnomalyPattern::runaway_completions,
                             runaway_confidence(ended.size(), th.max_completions), campaign, stage);
    a.message =
        fmt::format("{}: {} jobs ended in {} (more than {}): jobs finishing too fast, or a runaway chain?",
                    campaign, ended.size(), human(th.completions_window), th.max_completions);
    std::vector<std::string> lines;
    for (const auto* e : ended) lines.push_back(event_line(*e));
    add_capped(a.evidence, lines);
    out.push_back(std::move(a));
  }
}

// A transition that moves a stage (not a heartbeat, not an intent).
bool advances(const HistoryEvent& e) {
  return e.from != e.to;
}

void stalled(const std::vector<const HistoryEvent*>& events, const std::vector<CampaignSnapshot>& campaigns,
             TimePoint now, const AnomalyThresholds& th, std::vector<Anomaly>& out) {
  for (const auto& c : campaigns) {
    if (!c.stage_since) continue;
    std::string what;
    if (c.status == doc::Status::pending || c.status == doc::Status::ready) {
      what = fmt::format("{} (not submitted)", doc::to_string(c.status));
    } else if (c.status == doc::Status::running && c.job_state == "pending") {
      what = fmt::format("queued by the scheduler (job {})", c.job.empty() ? "?" : c.job);
    } else {
      continue;
    }
    const auto waited = std::chrono::duration_cast<std::chrono::seconds>(now - *c.stage_since);
    if (waited <= th.stall_after) continue;
    // Newest first: what moved elsewhere while this stage waited.
    std::vector<const HistoryEvent*> others;
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      const HistoryEvent& e = **it;
      if (!in_window(e.time, now, th.stall_after)) break;
      if (!advances(e) || (e.campaign == c.campaign && e.stage == c.stage)) continue;
      others.push_back(&e);
    }
    if (others.empty()) continue;  // the whole repository is idle: nothing to compare with
    Anomaly a = one_campaign(AnomalyPattern::stalled, Confidence::low, c.campaign, c.stage);
    a.message =
        fmt::format("{}: stage {} has been {} for {} while {} other transition{} happened", c.campaign,
                    c.stage, what, human(waited), others.size(), others.size() == 1 ? "" : "s");
    a.evidence.push_back(fmt::format("{} {}/{} {} since {}", util::iso8601(now), c.campaign, c.stage, what,
                                     util::iso8601(*c.stage_since)));
    std::vector<std::string> lines;
    for (int i = 0; i < kOthersShown && i < static_cast<int>(others.size()); ++i) {
      lines.push_back(event_line(*others[static_cast<std::size_t>(i)]));
    }
    if (others.size() > static_cast<std::size_t>(kOthersShown)) {
      lines.push_back(fmt::format("... and {} more", others.size() - kOthersShown));
    }
    a.evidence.insert(a.evidence.end(), lines.begin(), lines.end());
    out.push_back(std::move(a));
  }
}

void systemic(const std::vector<const HistoryEvent*>& events, TimePoint now, const AnomalyThresholds& th,
              std::vector<Anomaly>& out) {
  // class -> campaign -> hits; a failure and the escalation that follows it name the
  // same job, so each (campaign, stage, job) counts once.
  std::map<std::string, std::map<std::string, std::vector<const HistoryEvent*>>> by_class;
  std::set<std::tuple<std::string, std::string, std::string, std::string>> counted;
  for (const auto* e : events) {
    // The scan's own escalations are about cairn's view of a campaign, not about a job.
    if (e->error_class.empty() || e->error_class.rfind("anomaly-", 0) == 0 ||
        !in_window(e->time, now, th.systemic_window)) {
      continue;
    }
    if (!e->job.empty() && !counted.insert({e->error_class, e->campaign, e->stage, e->job}).second) continue;
    by_class[e->error_class][e->campaign].push_back(e);
  }
  for (const auto& [error_class, hits] : by_class) {
    if (hits.size() < static_cast<std::size_t>(th.systemic_campaigns)) continue;
    Anomaly a;
    a.pattern = AnomalyPattern::systemic_error;
    a.confidence = Confidence::high;
    a.error_class = error_class;
    std::vector<const HistoryEvent*> all;
    for (const auto& [campaign, list] : hits) {
      a.campaigns.push_back(campaign);
      all.insert(all.end(), list.begin(), list.end());
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const HistoryEvent* x, const HistoryEvent* y) { return x->time < y->time; });
    a.fingerprint = fmt::format("{} {}", to_string(a.pattern), error_class);
    a.message = fmt::format(
        "error class {} hit {} campaigns in {} ({}): a shared cause (cluster, quota, software)?", error_class,
        a.campaigns.size(), human(th.systemic_window), util::join(a.campaigns, ", "));
    std::vector<std::string> lines;
    for (const auto* e : all) lines.push_back(event_line(*e));
    add_capped(a.evidence, lines);
    out.push_back(std::move(a));
  }
}

void bad_log(const std::vector<CampaignSnapshot>& campaigns, const AnomalyThresholds& th,
             std::vector<Anomaly>& out) {
  std::vector<std::unique_ptr<RE2>> patterns;
  // Which prior each pattern is (nullptr: one of anomaly.log_patterns).
  std::vector<const parse::Prior*> prior_of;
  const auto add = [&](const std::string& p, const parse::Prior* prior) {
    auto re = std::make_unique<RE2>(p, RE2::Quiet);
    if (!re->ok()) return;
    patterns.push_back(std::move(re));
    prior_of.push_back(prior);
  };
  for (const auto& p : th.log_patterns) add(p, nullptr);
  for (const auto& prior : th.priors) add(prior.pattern, &prior);
  if (patterns.empty()) return;
  for (const auto& c : campaigns) {
    if (c.status != doc::Status::running || c.job_state != "running" || c.running_log_tail.empty()) continue;
    std::vector<std::string> words;  // what matched, in order of first appearance
    std::vector<std::string> lines;
    std::vector<std::string> priors;  // "prior <id>: <note>", once each
    std::string_view tail = c.running_log_tail;
    while (!tail.empty()) {
      const auto nl = tail.find('\n');
      const std::string_view line = tail.substr(0, nl);
      tail = nl == std::string_view::npos ? std::string_view() : tail.substr(nl + 1);
      bool matched = false;
      for (std::size_t i = 0; i < patterns.size(); ++i) {
        re2::StringPiece hit;
        if (!patterns[i]->Match(re2::StringPiece(line.data(), line.size()), 0, line.size(), RE2::UNANCHORED,
                                &hit, 1)) {
          continue;
        }
        matched = true;
        if (const parse::Prior* prior = prior_of[i]) {
          std::string said =
              "prior " + prior->id + (prior->note.empty() ? "" : ": " + util::one_line(prior->note));
          if (std::find(priors.begin(), priors.end(), said) == priors.end())
            priors.push_back(std::move(said));
        }
        std::string word(hit.data(), hit.size());
        if (std::find(words.begin(), words.end(), word) == words.end()) words.push_back(std::move(word));
      }
      if (!matched) continue;
      lines.push_back(log_evidence(line));
    }
    if (lines.empty()) continue;
    Anomaly a = one_campaign(AnomalyPattern::bad_log_while_running, Confidence::medium, c.campaign, c.stage);
    a.fingerprint += " " + c.job;
    a.message = fmt::format("{}: job {} ({}) is still running but its log shows {} ({} line{})", c.campaign,
                            c.job.empty() ? "?" : c.job, c.stage, util::redact(util::join(words, ", ")),
                            lines.size(), lines.size() == 1 ? "" : "s");
    add_capped(a.evidence, lines, kMaxLogEvidence);
    for (auto& p : priors) a.evidence.push_back(util::redact(p));
    out.push_back(std::move(a));
  }
}

std::string what_to_check(AnomalyPattern p) {
  switch (p) {
    case AnomalyPattern::runaway_resubmits:
      return "- Why does each attempt end and get submitted again? Read the failure log below the stage "
             "table "
             "and the logs of the last jobs.\n"
             "- Does an auto-fix or retry loop without changing the outcome (the same error class every "
             "time)?\n"
             "- Cancel queued duplicates that should not run.\n";
    case AnomalyPattern::runaway_completions:
      return "- Do the jobs end within seconds (missing input, a crash at start, a script that exits 0 "
             "without "
             "work)?\n"
             "- Does a job script submit further jobs itself (`sbatch` inside the script, dependency "
             "chains)?\n"
             "- Is this throughput expected for this campaign?\n";
    case AnomalyPattern::stalled:
      return "- Why is the job still queued (the scheduler's reason: priority, resources, QOS limits, a "
             "held job)? Or what does the entry condition wait for?\n"
             "- Would another partition, fewer resources or a shorter walltime start it sooner?\n";
    case AnomalyPattern::systemic_error:
      return "- What do the failing campaigns share (cluster, partition, quota, module/software stack, input "
             "data)?\n"
             "- Fix the shared cause once; retrying each campaign alone will fail the same way.\n";
    case AnomalyPattern::bad_log_while_running:
      return "- Read the job's log around the matched lines: is its output still valid (NaN values, a FATAL "
             "from the code, a rank killed for memory)?\n"
             "- Cancel the job if its output is invalid. If the stage's exit condition would pass on bad "
             "output, "
             "strengthen it (e.g. `no NaN in log`).\n";
    case AnomalyPattern::pile_up:
      return "- Which script submits these jobs (`sbatch` in a loop, a chain that resubmits itself)? Stop "
             "it before it submits more.\n"
             "- Cancel the queued duplicates that should not run (`scancel --me --name=NAME "
             "--state=PENDING`).\n";
    case AnomalyPattern::restart_without_progress:
      return "- Read the job's log around the restart lines: does it restart from the same checkpoint "
             "again and again (a crash right after the restart, a corrupt checkpoint)?\n"
             "- Check that the stage's `checkpoint:` names the files the job writes.\n"
             "- Cancel the job if it only burns its allocation.\n";
  }
  return {};
}

// A fence longer than any backtick run in the text, so log lines cannot close it.
std::string fence_for(const std::vector<std::string>& lines) {
  std::size_t longest = 0;
  for (const auto& l : lines) {
    std::size_t run = 0;
    for (char ch : l) {
      run = ch == '`' ? run + 1 : 0;
      longest = std::max(longest, run);
    }
  }
  return std::string(std::max<std::size_t>(3, longest + 1), '`');
}

// The restart lines of a log tail: `RESTART` in capitals (as MD codes print it), or a
// restart from a checkpoint in any wording's case. Writing a restart file is progress,
// not a restart, so the lower-case word alone does not count.
std::vector<std::string_view> restart_lines(std::string_view tail) {
  static const RE2 kRestart(R"(\bRESTART(ING|ED)?\b|(?i:restart(ing|ed)? from (the )?(last )?checkpoint))");
  std::vector<std::string_view> out;
  while (!tail.empty()) {
    const auto nl = tail.find('\n');
    const std::string_view line = tail.substr(0, nl);
    tail = nl == std::string_view::npos ? std::string_view() : tail.substr(nl + 1);
    if (RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), kRestart)) out.push_back(line);
  }
  return out;
}

void pile_up(const std::vector<CampaignSnapshot>& campaigns, const AnomalyThresholds& th,
             std::vector<Anomaly>& out) {
  for (const auto& c : campaigns) {
    for (const auto& [name, count] : c.queued_jobs) {
      if (count <= th.max_queued_per_name) continue;
      Anomaly a = one_campaign(AnomalyPattern::pile_up,
                               runaway_confidence(static_cast<std::size_t>(count), th.max_queued_per_name),
                               c.campaign, c.stage);
      // The name, not the stage: the pile outlives the stage that is current.
      a.fingerprint = fmt::format("{} {} {}", to_string(a.pattern), c.campaign, name);
      a.message =
          fmt::format("{}: {} jobs named {} are queued (more than {}): a script submitting in a loop?",
                      c.campaign, count, name, th.max_queued_per_name);
      a.evidence.push_back(fmt::format("queued: {} jobs named {}", count, name));
      out.push_back(std::move(a));
    }
  }
}

void restart_without_progress(const std::vector<CampaignSnapshot>& campaigns, std::vector<Anomaly>& out) {
  for (const auto& c : campaigns) {
    if (c.status != doc::Status::running || c.job_state != "running" || c.checkpoint.empty() ||
        !c.checkpoint_probed || !c.last_tick) {
      continue;
    }
    // A job that started after the last tick resumes from its checkpoint by design.
    if (!c.stage_since || *c.stage_since > *c.last_tick) continue;
    if (c.checkpoint_newest && *c.checkpoint_newest > *c.last_tick) continue;  // it advanced
    const auto restarts = restart_lines(c.running_log_tail);
    if (restarts.empty()) continue;
    Anomaly a =
        one_campaign(AnomalyPattern::restart_without_progress, Confidence::medium, c.campaign, c.stage);
    a.fingerprint += " " + c.job;
    a.message = fmt::format(
        "{}: job {} ({}) restarted ({} line{}) and its checkpoint `{}` has not advanced since the last tick",
        c.campaign, c.job.empty() ? "?" : c.job, c.stage, restarts.size(), restarts.size() == 1 ? "" : "s",
        c.checkpoint);
    std::vector<std::string> lines;
    for (const auto line : restarts) lines.push_back(log_evidence(line));
    add_capped(a.evidence, lines, kMaxLogEvidence);
    a.evidence.push_back(c.checkpoint_newest
                             ? fmt::format("checkpoint `{}` last written {}, before the last tick at {}",
                                           c.checkpoint, util::iso8601(*c.checkpoint_newest),
                                           util::iso8601(*c.last_tick))
                             : fmt::format("checkpoint `{}` matches no file", c.checkpoint));
    out.push_back(std::move(a));
  }
}

// The agent's reading, quoted line by line: its own headings cannot pass for cairn's.
std::string agent_section(const AgentReading& r) {
  std::string s = fmt::format("\n## What the agent `{}` read into it (not verified by cairn)\n\n", r.agent);
  if (!r.failure.empty()) s += fmt::format("The agent did not explain it: {}.\n", r.failure);
  std::string_view text = r.explanation;
  if (!r.failure.empty() && !text.empty()) s += "\nWhat it wrote before that:\n\n";
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    s += line.empty() ? ">\n" : fmt::format("> {}\n", line);
  }
  return s;
}

}  // namespace

std::optional<HistoryEvent> history_event_from_trailers(
    const std::vector<std::pair<std::string, std::string>>& trailers, TimePoint fallback_time) {
  HistoryEvent e;
  e.time = fallback_time;
  bool has_transition = false;
  for (const auto& [key, raw] : trailers) {
    const std::string value(util::trim(raw));
    if (key == "Cairn-Campaign") {
      e.campaign = value;
    } else if (key == "Cairn-Stage") {
      e.stage = value;
    } else if (key == "Cairn-Transition") {
      const auto arrow = value.find(" -> ");
      if (arrow == std::string::npos) return std::nullopt;
      e.from = util::trim(std::string_view(value).substr(0, arrow));
      e.to = util::trim(std::string_view(value).substr(arrow + 4));
      has_transition = !e.from.empty() && !e.to.empty();
    } else if (key == "Cairn-Error-Class") {
      e.error_class = value;
    } else if (key == "Cairn-Job") {
      e.job = value;
    } else if (key == "Cairn-Attempt") {
      if (!value.empty() && value.size() < 7 && value.find_first_not_of("0123456789") == std::string::npos) {
        e.attempt = std::stoi(value);
      }
    } else if (key == "Cairn-Intent" || key == "Cairn-Anomaly") {
      return std::nullopt;
    } else if (key == "Cairn-Tick") {
      if (auto t = util::parse_time(value)) e.time = *t;
    }
  }
  if (e.campaign.empty() || e.stage.empty() || !has_transition) return std::nullopt;
  return e;
}

AnomalyThresholds thresholds_from(const parse::AnomalyConfig& config) {
  AnomalyThresholds t;
  t.max_submissions_per_stage = config.max_submissions_per_stage;
  t.submissions_window = std::chrono::seconds(config.submissions_window_seconds);
  t.max_completions = config.max_completions;
  t.completions_window = std::chrono::seconds(config.completions_window_seconds);
  t.stall_after = std::chrono::seconds(config.stall_seconds);
  t.systemic_campaigns = config.systemic_campaigns;
  t.systemic_window = std::chrono::seconds(config.systemic_window_seconds);
  t.log_patterns = config.log_patterns;
  t.max_queued_per_name = config.max_queued_per_name;
  return t;
}

std::string_view to_string(AnomalyPattern p) {
  switch (p) {
    case AnomalyPattern::runaway_resubmits: return "runaway_resubmits";
    case AnomalyPattern::runaway_completions: return "runaway_completions";
    case AnomalyPattern::stalled: return "stalled";
    case AnomalyPattern::systemic_error: return "systemic_error";
    case AnomalyPattern::bad_log_while_running: return "bad_log_while_running";
    case AnomalyPattern::pile_up: return "pile_up";
    case AnomalyPattern::restart_without_progress: return "restart_without_progress";
  }
  return "unknown";
}

std::string_view to_string(Confidence c) {
  switch (c) {
    case Confidence::low: return "low";
    case Confidence::medium: return "medium";
    case Confidence::high: return "high";
  }
  return "unknown";
}

std::vector<Anomaly> scan_anomalies(const std::vector<HistoryEvent>& history,
                                    const std::vector<CampaignSnapshot>& campaigns, TimePoint now,
                                    const AnomalyThresholds& thresholds) {
  std::vector<const HistoryEvent*> events;
  events.reserve(history.size());
  for (const auto& e : history) events.push_back(&e);
  std::stable_sort(events.begin(), events.end(),
                   [](const HistoryEvent* a, const HistoryEvent* b) { return a->time < b->time; });

  std::vector<Anomaly> out;
  runaway_resubmits(events, now, thresholds, out);
  runaway_completions(events, now, thresholds, out);
  stalled(events, campaigns, now, thresholds, out);
  systemic(events, now, thresholds, out);
  bad_log(campaigns, thresholds, out);
  pile_up(campaigns, thresholds, out);
  restart_without_progress(campaigns, out);

  std::stable_sort(out.begin(), out.end(), [](const Anomaly& a, const Anomaly& b) {
    if (a.confidence != b.confidence) return a.confidence > b.confidence;
    return std::tie(a.pattern, a.campaigns, a.stage, a.fingerprint) <
           std::tie(b.pattern, b.campaigns, b.stage, b.fingerprint);
  });
  return out;
}

bool logs_restart(std::string_view log_tail) {
  return !restart_lines(log_tail).empty();
}

std::string render_orchestration_check(std::string_view campaign, const std::vector<Anomaly>& anomalies,
                                       TimePoint now, const AgentReading* agent, bool escalated) {
  std::string s = fmt::format("# Orchestration check: {}\n\n", campaign);
  if (escalated) {
    s += fmt::format(
        "cairn's anomaly scan escalated this campaign at {}: nothing moves until a human clears the "
        "escalation (`cairn clear`). Jobs already running were not touched.\n",
        util::iso8601(now));
  } else {
    s += fmt::format(
        "cairn's anomaly scan paused this campaign at {} (`paused: true` in the frontmatter of its "
        "WORKFLOW.md): no new jobs are submitted until a human resumes it. Jobs already running were not "
        "touched.\n",
        util::iso8601(now));
  }
  for (const auto& a : anomalies) {
    s += fmt::format("\n## {} ({} confidence", to_string(a.pattern), to_string(a.confidence));
    if (!a.stage.empty()) s += fmt::format(", stage {}", a.stage);
    s += ")\n\n";
    s += a.message + "\n";
    if (a.campaigns.size() > 1) s += fmt::format("\nCampaigns: {}.\n", util::join(a.campaigns, ", "));
    if (!a.evidence.empty()) {
      const std::string fence = fence_for(a.evidence);
      s += "\nEvidence:\n\n" + fence + "text\n";
      for (const auto& line : a.evidence) s += line + "\n";
      s += fence + "\n";
    }
    s += "\nWhat to check:\n\n" + what_to_check(a.pattern);
  }
  if (agent != nullptr) s += agent_section(*agent);
  if (escalated) {
    s += "\n## How to resume\n\n"
         "1. Fix the cause, or convince yourself the pattern is expected for this campaign.\n"
         "2. Clear the escalation (`cairn clear <campaign>`, or merge the clear-escalation pull request).\n";
    return s;
  }
  s += "\n## How to resume\n\n"
       "1. Fix the cause, or convince yourself the pattern is expected for this campaign.\n"
       "2. Set `paused: false` in the frontmatter of this campaign's WORKFLOW.md and commit.\n"
       "3. The next `cairn tick` submits again. Keep this file as a record or delete it.\n";
  return s;
}

}  // namespace cairn::engine

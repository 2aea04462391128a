#include <cairn/engine/commit_message.hpp>

#include <fmt/format.h>

#include <cairn/parse/markdown.hpp>
#include <cairn/util/redact.hpp>
#include <cairn/util/strings.hpp>

namespace cairn::engine {

namespace {}  // namespace

std::string subject(const Transition& t) {
  // An intent is not a transition: it announces one (docs/tick.md "Exactly-once submission").
  if (!t.intent.empty()) return fmt::format("{}: {} intent: {}", t.campaign, t.stage, t.intent);
  if (!t.anomaly.empty()) return fmt::format("{}: {} anomaly: {}", t.campaign, t.stage, t.anomaly_summary);
  std::string s = fmt::format("{}: {} {} -> {}", t.campaign, t.stage, t.from, t.to);
  if (!t.error_class.empty()) s += fmt::format(" [{}]", t.error_class);
  return s;
}

std::string render_commit_message(const Transition& t) {
  std::string msg = util::redact(subject(t)) + "\n";
  for (const auto& para : t.body) {
    if (!para.empty()) msg += "\n" + util::redact(para) + "\n";
  }
  if (t.failure) {
    const auto& f = *t.failure;
    msg += "\n| Date | Stage | Error class | Error msg | Action taken | Result |\n";
    msg += "|------|-------|-------------|-----------|--------------|--------|\n";
    msg +=
        util::redact(parse::md::table_row({f.date, f.stage, f.error_class, f.message, f.action, f.result})) +
        "\n";
  }
  msg += "\n";
  msg += fmt::format("Cairn-Campaign: {}\n", util::one_line(t.campaign));
  msg += fmt::format("Cairn-Stage: {}\n", util::one_line(t.stage));
  msg += fmt::format("Cairn-Transition: {} -> {}\n", t.from, t.to);
  if (!t.job.empty()) msg += fmt::format("Cairn-Job: {}\n", util::one_line(t.job));
  if (t.attempt > 0) msg += fmt::format("Cairn-Attempt: {}\n", t.attempt);
  if (!t.error_class.empty()) msg += fmt::format("Cairn-Error-Class: {}\n", util::one_line(t.error_class));
  if (!t.intent.empty()) msg += fmt::format("Cairn-Intent: {}\n", util::one_line(t.intent));
  if (!t.anomaly.empty()) msg += fmt::format("Cairn-Anomaly: {}\n", util::one_line(t.anomaly));
  msg += fmt::format("Cairn-Tick: {}\n", t.tick);
  if (!t.tick_id.empty()) msg += fmt::format("Cairn-Tick-Id: {}\n", util::one_line(t.tick_id));
  if (!t.run_url.empty()) msg += fmt::format("Cairn-Run-URL: {}\n", util::redact(util::one_line(t.run_url)));
  return msg;
}

}  // namespace cairn::engine

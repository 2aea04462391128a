#pragma once

// The commit format of docs/commits.md: one commit per state transition, a subject that
// names it, a short body, the failure-log row when there is a failure, and git trailers
// that `cairn log` and `git interpret-trailers --parse` read back.

#include <optional>
#include <string>
#include <vector>

#include <cairn/doc/workflow.hpp>

namespace cairn::engine {

struct Transition {
  std::string campaign;
  std::string stage;
  std::string from;  // a Status name ("catalog" for `cairn catalog promote`)
  std::string to;
  std::string error_class;  // empty when none
  std::string job;
  int attempt = 0;
  std::vector<std::string> body;  // short paragraphs
  std::optional<doc::FailureRow> failure;
  std::string tick;     // ISO time of the tick
  std::string run_url;  // CI run, when known
  std::string tick_id;  // `Cairn-Tick-Id`: which tick process made the commit
  std::string intent;   // `Cairn-Intent` value, when this commit announces a submit
  // `Cairn-Anomaly` value (the anomaly's fingerprint), when this commit records what the
  // anomaly scan saw (a note, a pause); the stage itself does not move.
  std::string anomaly;
  std::string anomaly_summary;  // "<pattern> (<confidence>)", for the subject
};

// Renders the full commit message. Every text field is passed through util::redact.
std::string render_commit_message(const Transition& t);

// `<campaign>: <stage> <from> -> <to> [<class>]`, `<campaign>: <stage> intent: submit <key>`, or
// `<campaign>: <stage> anomaly: <pattern> (<confidence>)`
std::string subject(const Transition& t);

}  // namespace cairn::engine

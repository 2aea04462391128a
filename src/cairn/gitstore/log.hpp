#pragma once

// A campaign's history, read back from the trailers of cairn's commits.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cairn/engine/anomaly.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::gitstore {

struct LogEntry {
  std::string commit;                          // full hex id
  std::string subject;                         // first line of the message
  std::string author;                          // "Name <email>"
  std::string time_iso;                        // author time, UTC, "2026-05-05T20:10:00Z"
  std::chrono::system_clock::time_point when;  // the same, as a time
  // Git trailers in message order (a key may repeat), e.g. {"Cairn-Stage", "smoke"}.
  std::vector<std::pair<std::string, std::string>> trailers;
};

// The commits reachable from HEAD whose trailers include `Cairn-Campaign: <campaign>`,
// oldest first (history is walked from HEAD along parents, so commits made in the same
// second keep their order). With `max` > 0 only the newest `max` such commits are returned and the
// walk stops once they are found. An unborn HEAD yields an empty list. Fails (exit 3)
// when history cannot be read.
Expected<std::vector<LogEntry>> log_for_campaign(Repo& repo, std::string_view campaign, int max = 0);

// The trailers of one commit message, in order (empty when it has none).
std::vector<std::pair<std::string, std::string>> parse_trailers(const char* message);

// Every cairn commit (one with a `Cairn-Campaign` trailer) committed at or after
// `since`, oldest first: what the anomaly scan reads each tick. The walk from HEAD
// stops after a run of older commits, so a tick never reads history it does not need;
// in a shallow clone it ends at the boundary.
Expected<std::vector<LogEntry>> cairn_log_since(Repo& repo, std::chrono::system_clock::time_point since);

// What those commits' trailers say as the anomaly scan and `cairn show` read them
// (engine::history_event_from_trailers), in the same order; commits that are not
// transitions are left out.
std::vector<engine::HistoryEvent> history_events(const std::vector<LogEntry>& log);

// A campaign file whose last writer last_writers() is asked for.
struct WatchedFile {
  std::string path;      // repo-relative, '/'-separated: "campaigns/c1/WORKFLOW.md"
  std::string campaign;  // the `Cairn-Campaign` that cairn's commits to it carry
};

enum class LastWriter {
  unknown,  // no commit within the walk changed it (too far back, or past a shallow boundary)
  tick,     // a tick's commit (it carries `Cairn-Tick-Id`)
  other,    // anything else: a human's commit, `cairn clear`, a merged pull request
};

// Who made the last commit that changed each of `files` (the answer at the same index),
// walking HEAD's first-parent chain once for all of them: a commit carrying
// `Cairn-Tick-Id` is a tick's and changed only the file of its `Cairn-Campaign` (no diff
// is read); any other commit is diffed against its first parent's tree (untouched
// subtrees cost nothing; a merge counts what it brought in, a root commit everything it
// adds). The walk stops once every file is answered, or after `max_commits` commits;
// in a shallow clone it ends at the boundary, whose commit only a tick's trailers can
// answer for. An unborn HEAD answers unknown for all. Fails (exit 3) when history
// cannot be read.
Expected<std::vector<LastWriter>> last_writers(Repo& repo, const std::vector<WatchedFile>& files,
                                               int max_commits = 1000);

}  // namespace cairn::gitstore

#include <cairn/gitstore/log.hpp>

#include <algorithm>
#include <chrono>

#include <cairn/util/time.hpp>

namespace cairn::gitstore {

std::vector<std::pair<std::string, std::string>> parse_trailers(const char* message) {
  std::vector<std::pair<std::string, std::string>> out;
  git_message_trailer_array arr{};
  if (message == nullptr || git_message_trailers(&arr, message) != 0) {
    git_error_clear();
    return out;
  }
  for (std::size_t i = 0; i < arr.count; ++i) out.emplace_back(arr.trailers[i].key, arr.trailers[i].value);
  git_message_trailer_array_free(&arr);
  return out;
}

namespace {

// Walks history from HEAD in parent order (streamed: any sorting mode makes libgit2
// read all of history before yielding the first commit, and time sorting shuffles a
// tick's commits, which share one second) and hands every commit to `visit` until it
// returns false. In a shallow clone the walk ends quietly at the boundary (libgit2 1.5
// does not know shallow grafts: the first missing parent ends it).
template <typename Visit>
Expected<void> walk_from_head(Repo& repo, Visit&& visit) {
  if (CAIRN_TRY(repo.head_unborn())) return {};
  git_revwalk* raw_walk = nullptr;
  if (int rc = git_revwalk_new(&raw_walk, repo.raw()); rc != 0) return git_failure("starting the history walk", rc);
  RevwalkPtr walk(raw_walk);
  git_revwalk_sorting(walk.get(), GIT_SORT_NONE);
  if (int rc = git_revwalk_push_head(walk.get()); rc != 0) return git_failure("walking from HEAD", rc);
  git_oid id;
  int rc = 0;
  while ((rc = git_revwalk_next(&id, walk.get())) == 0) {
    git_commit* raw_commit = nullptr;
    if (int lc = git_commit_lookup(&raw_commit, repo.raw(), &id); lc != 0) {
      if (lc == GIT_ENOTFOUND && repo.is_shallow()) break;
      return git_failure("reading a commit", lc);
    }
    CommitPtr c(raw_commit);
    if (!visit(id, c.get())) return {};
  }
  if (rc == GIT_ENOTFOUND && repo.is_shallow()) {
    git_error_clear();
    return {};
  }
  if (rc != 0 && rc != GIT_ITEROVER) return git_failure("walking history", rc);
  return {};
}

LogEntry entry_of(const git_oid& id, git_commit* c, std::vector<std::pair<std::string, std::string>> trailers) {
  LogEntry e;
  e.commit = to_hex(id);
  const char* summary = git_commit_summary(c);
  e.subject = summary != nullptr ? summary : "";
  const git_signature* a = git_commit_author(c);
  e.author = std::string(a->name) + " <" + a->email + ">";
  e.when = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(a->when.time));
  e.time_iso = util::iso8601(e.when);
  e.trailers = std::move(trailers);
  return e;
}

bool has_trailer(const std::vector<std::pair<std::string, std::string>>& trailers, std::string_view key,
                 std::string_view value = {}) {
  return std::any_of(trailers.begin(), trailers.end(),
                     [&](const auto& kv) { return kv.first == key && (value.empty() || kv.second == value); });
}

}  // namespace

Expected<std::vector<LogEntry>> log_for_campaign(Repo& repo, std::string_view campaign, int max) {
  std::vector<LogEntry> out;
  CAIRN_TRY(walk_from_head(repo, [&](const git_oid& id, git_commit* c) {
    auto trailers = parse_trailers(git_commit_message(c));
    if (!has_trailer(trailers, "Cairn-Campaign", campaign)) return true;
    out.push_back(entry_of(id, c, std::move(trailers)));
    return max <= 0 || static_cast<int>(out.size()) < max;
  }));
  std::reverse(out.begin(), out.end());
  return out;
}

Expected<std::vector<LogEntry>> cairn_log_since(Repo& repo, std::chrono::system_clock::time_point since) {
  // History is close to time order but not exactly (merged branches, clock skew
  // between writers): the walk ends only after a run of older commits.
  constexpr int kOlderRun = 64;
  std::vector<LogEntry> out;
  int older = 0;
  CAIRN_TRY(walk_from_head(repo, [&](const git_oid& id, git_commit* c) {
    const auto when = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(git_commit_time(c)));
    if (when < since) return ++older < kOlderRun;
    older = 0;
    auto trailers = parse_trailers(git_commit_message(c));
    if (has_trailer(trailers, "Cairn-Campaign")) out.push_back(entry_of(id, c, std::move(trailers)));
    return true;
  }));
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace cairn::gitstore

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

Expected<std::vector<LogEntry>> log_for_campaign(Repo& repo, std::string_view campaign, int max) {
  std::vector<LogEntry> out;
  if (CAIRN_TRY(repo.head_unborn())) return out;
  git_revwalk* raw_walk = nullptr;
  if (int rc = git_revwalk_new(&raw_walk, repo.raw()); rc != 0)
    return git_failure("starting the history walk", rc);
  RevwalkPtr walk(raw_walk);
  // Unsorted = parent order from HEAD, streamed. Any sorting mode makes libgit2 read
  // all of history before yielding the first commit (so `max` would not bound the
  // work), and time sorting also shuffles a tick's commits, which share one second.
  git_revwalk_sorting(walk.get(), GIT_SORT_NONE);
  if (int rc = git_revwalk_push_head(walk.get()); rc != 0) return git_failure("walking from HEAD", rc);
  git_oid id;
  int rc = 0;
  while ((rc = git_revwalk_next(&id, walk.get())) == 0) {
    git_commit* raw_commit = nullptr;
    if (int lc = git_commit_lookup(&raw_commit, repo.raw(), &id); lc != 0)
      return git_failure("reading a commit", lc);
    CommitPtr c(raw_commit);
    auto trailers = parse_trailers(git_commit_message(c.get()));
    const bool ours = std::any_of(trailers.begin(), trailers.end(), [&](const auto& kv) {
      return kv.first == "Cairn-Campaign" && kv.second == campaign;
    });
    if (!ours) continue;
    LogEntry e;
    e.commit = to_hex(id);
    const char* summary = git_commit_summary(c.get());
    e.subject = summary != nullptr ? summary : "";
    const git_signature* a = git_commit_author(c.get());
    e.author = std::string(a->name) + " <" + a->email + ">";
    e.time_iso =
        util::iso8601(std::chrono::system_clock::from_time_t(static_cast<std::time_t>(a->when.time)));
    e.trailers = std::move(trailers);
    out.push_back(std::move(e));
    if (max > 0 && static_cast<int>(out.size()) >= max) break;
  }
  if (rc != 0 && rc != GIT_ITEROVER) return git_failure("walking history", rc);
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace cairn::gitstore

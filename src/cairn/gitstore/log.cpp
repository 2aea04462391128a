#include <cairn/gitstore/log.hpp>

#include <algorithm>
#include <chrono>
#include <unordered_map>

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
  if (int rc = git_revwalk_new(&raw_walk, repo.raw()); rc != 0)
    return git_failure("starting the history walk", rc);
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

LogEntry entry_of(const git_oid& id, git_commit* c,
                  std::vector<std::pair<std::string, std::string>> trailers) {
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
  return std::any_of(trailers.begin(), trailers.end(), [&](const auto& kv) {
    return kv.first == key && (value.empty() || kv.second == value);
  });
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

Expected<std::vector<LastWriter>> last_writers(Repo& repo, const std::vector<WatchedFile>& files,
                                               int max_commits) {
  std::vector<LastWriter> out(files.size(), LastWriter::unknown);
  if (files.empty() || CAIRN_TRY(repo.head_unborn())) return out;
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_path;
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_campaign;
  for (std::size_t i = 0; i < files.size(); ++i) {
    by_path[files[i].path].push_back(i);
    if (!files[i].campaign.empty()) by_campaign[files[i].campaign].push_back(i);
  }
  std::size_t open = files.size();
  auto answer = [&](const std::vector<std::size_t>& which, LastWriter w) {
    for (std::size_t i : which) {
      if (out[i] != LastWriter::unknown) continue;
      out[i] = w;
      --open;
    }
  };

  git_oid head;
  if (int rc = git_reference_name_to_id(&head, repo.raw(), "HEAD"); rc != 0)
    return git_failure("reading HEAD", rc);
  git_commit* raw = nullptr;
  if (int rc = git_commit_lookup(&raw, repo.raw(), &head); rc != 0)
    return git_failure("reading HEAD's commit", rc);
  CommitPtr commit(raw);
  git_diff_options opts;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  opts.flags |= GIT_DIFF_SKIP_BINARY_CHECK;  // which paths changed is all that is asked
  for (int seen = 0; commit && open > 0 && seen < max_commits; ++seen) {
    CommitPtr parent;
    bool boundary = false;
    if (git_commit_parentcount(commit.get()) > 0) {
      raw = nullptr;
      const int rc = git_commit_parent(&raw, commit.get(), 0);
      parent.reset(raw);
      if (rc == GIT_ENOTFOUND && repo.is_shallow()) {
        git_error_clear();
        boundary = true;
      } else if (rc != 0) {
        return git_failure("reading a parent commit", rc);
      }
    }
    const auto trailers = parse_trailers(git_commit_message(commit.get()));
    if (has_trailer(trailers, "Cairn-Tick-Id")) {
      for (const auto& [key, value] : trailers) {
        if (key != "Cairn-Campaign") continue;
        if (auto it = by_campaign.find(value); it != by_campaign.end()) answer(it->second, LastWriter::tick);
      }
    } else if (!boundary) {
      git_tree* raw_tree = nullptr;
      if (int rc = git_commit_tree(&raw_tree, commit.get()); rc != 0)
        return git_failure("reading a commit's tree", rc);
      TreePtr tree(raw_tree);
      TreePtr parent_tree;
      if (parent) {
        raw_tree = nullptr;
        if (int rc = git_commit_tree(&raw_tree, parent.get()); rc != 0) {
          return git_failure("reading a commit's tree", rc);
        }
        parent_tree.reset(raw_tree);
      }
      git_diff* raw_diff = nullptr;
      if (int rc = git_diff_tree_to_tree(&raw_diff, repo.raw(), parent_tree.get(), tree.get(), &opts);
          rc != 0) {
        return git_failure("diffing a commit against its parent", rc);
      }
      DiffPtr diff(raw_diff);
      const std::size_t n = git_diff_num_deltas(diff.get());
      for (std::size_t d = 0; d < n && open > 0; ++d) {
        const git_diff_delta* delta = git_diff_get_delta(diff.get(), d);
        for (const char* path : {delta->old_file.path, delta->new_file.path}) {
          if (path == nullptr) continue;
          if (auto it = by_path.find(path); it != by_path.end()) answer(it->second, LastWriter::other);
        }
      }
    }
    if (boundary) break;
    commit = std::move(parent);
  }
  return out;
}

std::vector<engine::HistoryEvent> history_events(const std::vector<LogEntry>& log) {
  std::vector<engine::HistoryEvent> out;
  for (const auto& entry : log) {
    if (auto e = engine::history_event_from_trailers(entry.trailers, entry.when))
      out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace cairn::gitstore

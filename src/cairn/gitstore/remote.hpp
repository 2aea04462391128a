#pragma once

// The branch's life on the remote (docs/tick.md "The remote"): fetch the tip, bring the
// local branch to it without ever dropping a human's commit, and push as a
// compare-and-swap — a push the server refuses (non-fast-forward, a hook) is a lost
// race, never forced.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <cairn/gitstore/repo.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::gitstore {

// Where ticks push: the remote's name and the branch (cairn.yaml `branch`).
struct RemoteBranch {
  std::string remote = "origin";
  std::string branch = "main";
};

// The name of the remote ticks use: `origin` when configured, else the first remote;
// empty when the repository has none (the embedded default: commit locally only).
Expected<std::string> tick_remote(Repo& repo);

// CI runners check out a detached HEAD (GitLab always, at the pipeline's commit). When
// that checkout is `where.branch` — $CI_COMMIT_BRANCH names it, or HEAD equals
// refs/remotes/<remote>/<branch> — puts HEAD on refs/heads/<branch> (created at HEAD when
// missing, else checked out over a clean tree), so the tick commits and pushes that
// branch. Returns "" when HEAD is (now) on the branch, else why the tick must not run
// here (another branch checked out, a pipeline of another branch, a detached HEAD
// elsewhere). Fails (exit 3) when git cannot read or move HEAD.
Expected<std::string> attach_head(Repo& repo, const RemoteBranch& where);

// Fetches `where.branch` (depth as the clone has it) into refs/remotes/<remote>/<branch>
// and returns the remote tip (hex), or "" when the remote has no such branch yet.
// Credentials: $CAIRN_TOKEN, else $GITHUB_TOKEN / $CI_JOB_TOKEN for https remotes; the
// `http.<url>.extraheader` that actions/checkout writes is sent as a custom header;
// ssh remotes use ssh-agent. Fails (exit 3) with a one-line reason; no token appears
// in it.
Expected<std::string> fetch_tip(Repo& repo, const RemoteBranch& where);

// A shallow clone (CI checks out depth 1) holds too little history for the anomaly
// scan's window and `cairn log`. Deepens it from the remote: to every commit since
// `since` (git fetch --shallow-since), or, without it, to the whole history
// (--unshallow). Returns "" when that history is now here or the clone is not shallow;
// else, precisely, what stays out of sight: "history before <the shallow boundary's
// date> (<commit>) is not in this shallow clone: <git's reason>". Never fails: the caller
// goes on with the history it has.
std::string deepen(Repo& repo, const RemoteBranch& where,
                   std::optional<std::chrono::system_clock::time_point> since);

// Whether the remote's `where.branch` moved away from refs/remotes/<remote>/<branch>
// (what the last fetch saw), asked with `git ls-remote` (no objects fetched). Fails
// (exit 3) when the remote cannot be reached; a caller polling it just asks again later.
Expected<bool> remote_moved(Repo& repo, const RemoteBranch& where);

// Moves the local branch (checked out, work tree clean) to `tip`: a fast-forward, or
// dropping local commits the remote lacks when every one of them is a tick's own
// transition commit (it carries a `Cairn-Tick-Id:` trailer) — they are recomputed.
// Fails (exit 3) naming the first human commit the remote lacks ("push it first"; a
// `cairn clear` or `cancel` is a human's commit though it carries `Cairn-Campaign:`),
// or when the work tree cannot be updated. Returns the number of commits dropped.
Expected<int> sync_to_tip(Repo& repo, const RemoteBranch& where, const std::string& tip);

// Pushes refs/heads/<branch> to the remote without force. Returns true when the server
// took it, false when it refused the update (another writer moved the tip: libgit2
// reports that through the push_update_reference callback, not always the return
// code, so both are checked). Fails (exit 3) when the remote cannot be reached.
Expected<bool> push_branch(Repo& repo, const RemoteBranch& where);

}  // namespace cairn::gitstore

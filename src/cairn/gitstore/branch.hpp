#pragma once

// Side branches on the remote, for clear-escalation pull requests (docs/escalation.md):
// list the remote's branches under a prefix, and publish a branch holding a commit or two
// on top of HEAD (the clear, an agent's diagnosis) — built in memory from HEAD's tree, so
// the work tree, the index and the checked-out branch never change.

#include <string>
#include <vector>

#include <cairn/engine/ports.hpp>
#include <cairn/gitstore/repo.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::gitstore {

// Credentials for https remotes (user + token as the password); ssh remotes use
// ssh-agent. An empty token sends none.
struct BranchAuth {
  std::string user = "x-access-token";
  std::string token;
};

// The remote's branch names (without `refs/heads/`) that start with `prefix`, sorted.
// Fails (exit 3) when the remote is not configured or cannot be reached; the message
// never contains the token.
Expected<std::vector<std::string>> list_remote_branches(Repo& repo, const std::string& remote,
                                                        const std::string& prefix, const BranchAuth& auth);

using engine::BranchCommit;

// Creates the chain of `commits` on top of HEAD (each the parent of the next), authored
// and committed by `identity`, and pushes the last to `refs/heads/<branch>` on `remote`
// without force (a branch that already exists there is refused, never overwritten). No
// local branch is left behind. In a shallow clone the push goes through `git push`
// (libgit2 cannot push from one), the token through GIT_CONFIG_* in the environment.
// Returns the last commit id (hex). Fails (exit 3) when HEAD is unborn, a commit cannot
// be built, or the push fails or is refused.
Expected<std::string> publish_branch(Repo& repo, const std::string& remote, const std::string& branch,
                                     const std::vector<BranchCommit>& commits,
                                     const engine::Identity& identity, const BranchAuth& auth);

// The same chain as a local branch `refs/heads/<branch>` (no push): for a repository
// without a forge. Fails (exit 1) when the branch exists already.
Expected<std::string> create_local_branch(Repo& repo, const std::string& branch,
                                          const std::vector<BranchCommit>& commits,
                                          const engine::Identity& identity);

// Writes HEAD's tree (files with their modes, symlinks as links) into the empty or new
// directory `dir`: a scratch copy for a process that must not touch the work tree.
Expected<void> export_head(Repo& repo, const std::string& dir);

}  // namespace cairn::gitstore

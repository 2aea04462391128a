#pragma once

// Side branches on the remote, for clear-escalation pull requests (DESIGN §6): list the
// remote's branches under a prefix, and publish a branch holding one commit on top of
// HEAD that changes one file — built in memory from HEAD's tree, so the work tree, the
// index and the checked-out branch never change.

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

// Creates a commit whose parent is HEAD and whose tree is HEAD's with `path`
// (repo-relative, '/'-separated) set to `content` (keeping the file's mode), authored
// and committed by `identity`, and pushes it to `refs/heads/<branch>` on `remote`
// without force (a branch that already exists there is refused, never overwritten).
// No local branch is left behind. In a shallow clone the push goes through `git push`
// (libgit2 cannot push from one), the token through GIT_CONFIG_* in the environment.
// Returns the commit id (hex). Fails (exit 3) when HEAD is unborn, the commit cannot be
// built, or the push fails or is refused.
Expected<std::string> publish_file_branch(Repo& repo, const std::string& remote, const std::string& branch,
                                          const std::string& path, const std::string& content,
                                          const std::string& message, const engine::Identity& identity,
                                          const BranchAuth& auth);

}  // namespace cairn::gitstore

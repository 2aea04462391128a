#pragma once

// What the index (what the next commit, and so every clone, will have) says of a path.

#include <optional>
#include <string>
#include <vector>

#include <cairn/gitstore/repo.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::gitstore {

// How the index records `path` (repo-relative, '/'-separated): nullopt when git does not
// track it (never added), else whether its mode is executable (100755), which is what a
// clone checks out. Reads the index from disk. Fails when it cannot be read.
Expected<std::optional<bool>> indexed_executable(Repo& repo, const std::string& path);

// Of `paths` (repo-relative), those that exist in the work tree but git does not track,
// in the order given. Fails when the index cannot be read.
Expected<std::vector<std::string>> untracked(Repo& repo, const std::vector<std::string>& paths);

}  // namespace cairn::gitstore

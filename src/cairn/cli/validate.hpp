#pragma once

// What `cairn validate` checks of one WORKFLOW.md, for the verbs that check a file they
// are about to rely on (`cairn new` checks what it created).

#include <filesystem>
#include <string>
#include <vector>

#include <cairn/cli/context.hpp>
#include <cairn/doc/diagnostic.hpp>
#include <cairn/gitstore/repo.hpp>

namespace cairn::cli {

// Every diagnostic of the file `text` (shown as `shown`) of the campaign in `dir`: what
// the parser says, backends that cairn.yaml does not configure, and `run:` scripts that
// are missing, outside the campaign, not runnable, or (when `repo` is given) not
// tracked by git; `from_index` checks the scripts in the index instead of the work tree
// (the pre-commit hook). Sorted by line.
std::vector<doc::Diagnostic> check_workflow(const RepoContext& ctx, gitstore::Repo* repo,
                                            const std::string& shown, const std::string& text,
                                            const std::filesystem::path& dir, bool from_index);

}  // namespace cairn::cli

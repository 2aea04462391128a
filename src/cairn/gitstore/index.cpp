#include <cairn/gitstore/index.hpp>

#include <filesystem>

#include <cairn/gitstore/handles.hpp>

namespace cairn::gitstore {

namespace {

Expected<IndexPtr> read_index(Repo& repo) {
  git_index* raw = nullptr;
  if (int rc = git_repository_index(&raw, repo.raw()); rc != 0) return git_failure("opening the index", rc);
  IndexPtr index(raw);
  // The cached index may predate a `git add` made since the repository was opened.
  if (int rc = git_index_read(index.get(), 0); rc != 0) return git_failure("reading the index", rc);
  return index;
}

}  // namespace

Expected<std::optional<bool>> indexed_executable(Repo& repo, const std::string& path) {
  auto index = CAIRN_TRY(read_index(repo));
  const git_index_entry* e = git_index_get_bypath(index.get(), path.c_str(), 0);
  if (e == nullptr) return std::optional<bool>();
  return std::optional<bool>(e->mode == GIT_FILEMODE_BLOB_EXECUTABLE);
}

Expected<std::vector<std::string>> untracked(Repo& repo, const std::vector<std::string>& paths) {
  auto index = CAIRN_TRY(read_index(repo));
  std::vector<std::string> out;
  const std::filesystem::path top = repo.workdir();
  for (const auto& p : paths) {
    std::error_code ec;
    if (!std::filesystem::exists(top / p, ec)) continue;
    if (git_index_get_bypath(index.get(), p.c_str(), 0) == nullptr) out.push_back(p);
  }
  return out;
}

}  // namespace cairn::gitstore

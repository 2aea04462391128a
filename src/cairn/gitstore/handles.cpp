#include <cairn/gitstore/handles.hpp>

#include <array>

namespace cairn::gitstore {

LibGit2::LibGit2() {
  git_libgit2_init();
}
LibGit2::~LibGit2() {
  git_libgit2_shutdown();
}

namespace {

// Indexed by git_error_t; kept in libgit2's enum order.
constexpr std::array<std::string_view, 36> kClassNames = {
    "none",     "nomemory",  "os",       "invalid",    "reference", "zlib",      "repository", "config",
    "regex",    "odb",       "index",    "object",     "net",       "tag",       "tree",       "indexer",
    "ssl",      "submodule", "thread",   "stash",      "checkout",  "fetchhead", "merge",      "ssh",
    "filter",   "revert",    "callback", "cherrypick", "describe",  "rebase",    "filesystem", "patch",
    "worktree", "sha",       "http",     "internal"};

static_assert(kClassNames.size() == GIT_ERROR_INTERNAL + 1, "one name per git_error_t");

std::string_view class_name(int klass) {
  if (klass >= 0 && static_cast<std::size_t>(klass) < kClassNames.size()) {
    return kClassNames[static_cast<std::size_t>(klass)];
  }
  return "error";
}

}  // namespace

Error git_failure(std::string_view doing, int code, ExitCode exit) {
  const git_error* e = git_error_last();
  std::string text = "libgit2: ";
  if (e != nullptr && e->message != nullptr) {
    text += std::string(class_name(e->klass)) + ": " + e->message;
  } else {
    text += "error code " + std::to_string(code);
  }
  // Keep one failure's message from leaking into the report of the next.
  git_error_clear();
  if (!doing.empty()) text += " (while " + std::string(doing) + ")";
  return fail(std::move(text), exit);
}

std::string to_hex(const git_oid& id) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &id);
  return hex;
}

}  // namespace cairn::gitstore

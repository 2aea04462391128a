#include <cairn/cli/exit_policy.hpp>

#include <cstdio>

#include <fmt/format.h>

#include <cairn/util/suggest.hpp>

namespace cairn::cli {

int exit_code(const Error& e) {
  return static_cast<int>(e.exit);
}

int exit_code(const Outcome& o) {
  return o ? 0 : exit_code(o.error());
}

int finish(std::string_view verb, const Outcome& o) {
  if (o) return 0;
  if (!o.error().message.empty()) {
    std::fprintf(stderr, "cairn %.*s: %s\n", static_cast<int>(verb.size()), verb.data(),
                 o.error().message.c_str());
  }
  return exit_code(o.error());
}

Error not_a_repository() {
  return fail(
      "not inside a git repository: cd into a campaign repository, or create one with `git init && cairn "
      "init`",
      ExitCode::usage);
}

Error unknown_campaign(std::string_view name, std::span<const std::string> known, std::string_view root) {
  std::string message = fmt::format("no campaign named `{}` under {}", name, root);
  if (const std::string hint = util::did_you_mean(name, known); !hint.empty()) {
    message += hint;
  } else if (known.empty()) {
    message += " (there are none yet: `cairn new NAME` creates one)";
  } else if (known.size() <= 10) {
    std::string all;
    for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
    message += fmt::format(" (campaigns: {})", all);
  }
  return fail(std::move(message), ExitCode::usage);
}

Error dirty_tree(std::span<const std::string> files, std::string_view refusing) {
  std::string message = fmt::format("refusing to {}: tracked files have uncommitted changes:", refusing);
  for (const auto& f : files) message += "\n  " + f;
  message += "\ncommit or stash them first (untracked files are fine)";
  return fail(std::move(message), ExitCode::findings);
}

Error findings_reported() {
  return fail("", ExitCode::findings);
}

}  // namespace cairn::cli

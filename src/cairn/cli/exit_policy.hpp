#pragma once

// The exit-code policy of docs/cli.md "Exit codes", in one place. Every verb returns an
// Outcome: nothing on success, else an Error whose kind (`Error::exit`) says what went
// wrong. exit_code() is the only mapping from an Error to the process's exit code;
// cli::run prints the Error and ends with that code. Verbs never pick a number
// themselves.
//
//   0 ok
//   1 findings: invalid files, failed checks, a dirty tree, a campaign that cannot proceed
//   2 usage: bad flags, an unknown campaign or stage name, not inside a git repository
//   3 infrastructure unreachable: git remote, scheduler, forge

#include <span>
#include <string>
#include <string_view>

#include <cairn/util/expected.hpp>

namespace cairn::cli {

using Outcome = Expected<void>;

// The exit code `e` ends the process with.
int exit_code(const Error& e);
// 0 for success, else exit_code(error).
int exit_code(const Outcome& o);

// Prints a failed outcome's message to stderr as `cairn VERB: message` (nothing when the
// message is empty: the verb printed its findings itself) and returns exit_code(o).
int finish(std::string_view verb, const Outcome& o);

// The failures verbs share, worded once.

// Usage: the command was run outside a git work tree.
Error not_a_repository();
// Usage: no campaign `name` among `known` (the campaign names under `root`), with a
// did-you-mean when one is close.
Error unknown_campaign(std::string_view name, std::span<const std::string> known, std::string_view root);
// Findings: tracked files have uncommitted changes, listed one per line, and the way out.
Error dirty_tree(std::span<const std::string> files, std::string_view refusing);
// Findings the verb has already printed (diagnostics, a report): exit 1, no more text.
Error findings_reported();

}  // namespace cairn::cli

#pragma once

// Catalogued auto-fixes as pure functions over a stage's spec: each returns the
// frontmatter scalar edits that apply it, and the engine writes them surgically.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cairn/doc/workflow.hpp>
#include <cairn/engine/ports.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::catalog {

using FixResult = engine::FixPlan;

// The canonical form of a catalog's Auto-fix cell: "walltime x2", "mem x3", "resubmit",
// "exclude node", or "" for none/escalate/destructive/empty. Case and spacing are
// normalised ("Walltime  X2" -> "walltime x2"). nullopt for an unknown fix.
std::optional<std::string> canonical_fix(std::string_view cell);

// The edits that apply `fix` (canonical or as written in a catalog) to `spec`:
//   walltime xN  -> stages.<name>.resources.time multiplied by N (N in 2..10)
//   mem xN       -> stages.<name>.resources.mem multiplied by N, unit kept
//   resubmit     -> no edits
//   exclude node -> no edits (the failed node is not part of the spec)
// Fails with the reason when the fix is unknown or needs a value the spec lacks
// (walltime x2 with no resources.time); the engine then escalates.
Expected<FixResult> plan_fix(std::string_view fix, const doc::StageSpec& spec);

// Slurm walltime text -> seconds: "MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM",
// "D-HH:MM:SS". Fails on anything else.
Expected<std::int64_t> parse_walltime_text(std::string_view text);
// Seconds -> "HH:MM:SS", or "D-HH:MM:SS" from one day up (Slurm accepts both).
std::string format_walltime_text(std::int64_t seconds);

}  // namespace cairn::catalog

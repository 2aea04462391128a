#pragma once

// The optional `stages:` frontmatter block (docs/workflow-file.md): how each stage runs.

#include <string>
#include <string_view>
#include <vector>

#include <cairn/doc/diagnostic.hpp>
#include <cairn/doc/workflow.hpp>
#include <cairn/parse/frontmatter.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::parse {

// Reads `stages` (a mapping of stage name -> {run, backend, resources, array, expect,
// checkpoint, set, env, pool, priority, sync}). `line_offset` turns a value's 0-based
// line in the YAML text into the file's 1-based line. Problems go to `out` as
// `path:line:col` diagnostics: errors for a missing `run`, an unsafe `run` or `sync` path
// (absolute, `~`, a `..` component), wrong types, bad walltime/mem/duration/array text, a
// stage described twice, unknown keys (with a did-you-mean); warnings for keys with no
// value.
// A stage with errors is still returned, minus the bad values.
std::vector<doc::StageSpec> parse_stage_specs(const fm::Value& stages, int line_offset,
                                              const std::string& path, std::vector<doc::Diagnostic>& out);

// The indices of a Slurm-style array: "1-20", "0-9:3", "1,3,5", "1-4,10" (an optional
// "%N" concurrency suffix is accepted and ignored here). Ascending, no duplicates; at most
// 100,000 tasks, counted range by range (an index two ranges share counts twice). Fails
// with the reason on anything else.
Expected<std::vector<int>> expand_array(std::string_view text);

}  // namespace cairn::parse

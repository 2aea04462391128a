#pragma once

// Writing a row into the project catalog: `cairn catalog promote` (a fix that resolved a
// failure) and an agent's proposed row on a clear-escalation branch (cli/diagnose.hpp).

#include <string>

#include <cairn/catalog/catalog.hpp>
#include <cairn/cli/context.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::cli {

// The project catalog to write: `to`, else the first `catalogs:` entry that is not the
// shipped generic catalog. Fails (findings) when there is none, or `to` is not one.
Expected<std::string> target_catalog(const RepoContext& ctx, const std::string& to);

// `text` (the catalog file `target`) with a row for `entry` (its fix and hint as given)
// after the last row of the first catalog table (a `Class` column) at or after 0-based
// line `from`, in that table's column order; the row goes to `*row`. Fails (findings)
// when there is no such table or the catalog would have a new finding with the row.
Expected<std::string> with_catalog_row(const std::string& target, std::string text,
                                       const catalog::Entry& entry, const std::string& fix,
                                       const std::string& hint, int from, std::string* row = nullptr);

}  // namespace cairn::cli

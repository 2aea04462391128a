#pragma once

// Keeps secrets out of commits, issues and log lines: every text that came from a job
// log, a scheduler or a remote passes through redact() before cairn writes it anywhere.

#include <string>
#include <string_view>

namespace cairn::util {

// Returns `text` with credentials replaced by `[REDACTED]`: `Authorization:` and
// `PRIVATE-TOKEN:`/`JOB-TOKEN:` header values, `Bearer`/`token` values, forge tokens
// (ghp_, gho_, ghs_, github_pat_, glpat-), AWS access keys, `password=`/`secret=`/
// `token=` assignments, and user:password@ in URLs.
std::string redact(std::string_view text);

}  // namespace cairn::util

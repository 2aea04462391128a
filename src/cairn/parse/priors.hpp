#pragma once

// `.priors.yaml` at a campaign repository's root: a project's shared notes on what goes
// wrong, kept by people and other tools. cairn reads one subset of it (docs/config.md
// ".priors.yaml"): the entries of `class: orchestration` with a `pattern:`, which the
// anomaly scan matches against every line of a running job's log beside
// `anomaly.log_patterns`. Every other entry and key is someone else's and left alone.

#include <string>
#include <vector>

#include <cairn/doc/diagnostic.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::parse {

struct Prior {
  std::string id;       // `id:` (else `name:`), else "line N"
  std::string pattern;  // RE2, validated
  std::string note;     // `note:` (else `description:`); may be empty

  bool operator==(const Prior&) const = default;
};

// The file name, at the repository's top.
inline constexpr const char* kPriorsFile = ".priors.yaml";

// Reads `text` (the file at `path`): a list of entries, or a mapping whose `priors:` key
// holds one. Fails with a diagnostic at file:line:col when the YAML is invalid, when the
// file is neither shape, or when an orchestration entry has no pattern or one RE2
// rejects. An empty file has no priors.
Expected<std::vector<Prior>, std::vector<doc::Diagnostic>> parse_priors(const std::string& path,
                                                                        const std::string& text);

}  // namespace cairn::parse

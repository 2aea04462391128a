#include <cairn/parse/priors.hpp>

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

namespace cairn::parse {

namespace {

doc::Diagnostic at(const std::string& path, const YAML::Mark& m, std::string msg) {
  return {path, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, doc::Severity::error,
          std::move(msg)};
}

std::string scalar_of(const YAML::Node& entry, const char* key, const char* alternative = nullptr) {
  for (const char* k : {key, alternative}) {
    if (k == nullptr) continue;
    const YAML::Node v = entry[k];
    if (v && v.IsScalar()) return v.Scalar();
  }
  return {};
}

}  // namespace

Expected<std::vector<Prior>, std::vector<doc::Diagnostic>> parse_priors(const std::string& path,
                                                                        const std::string& text) {
  std::vector<doc::Diagnostic> errors;
  std::vector<Prior> out;
  try {
    const YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return out;
    // (A yaml-cpp Node assigned to is the node it refers to: never reassign `root`.)
    const YAML::Node entries = root.IsMap() ? root["priors"] : root;
    if (!entries || !entries.IsSequence()) {
      return std::vector<doc::Diagnostic>{
          at(path, entries ? entries.Mark() : root.Mark(),
             "expected a list of entries, or a mapping with a `priors:` list")};
    }
    for (const YAML::Node& entry : entries) {
      if (!entry.IsMap()) continue;  // not an entry cairn can read; someone else's
      if (scalar_of(entry, "class") != "orchestration") continue;
      const YAML::Node pattern = entry["pattern"];
      if (!pattern || !pattern.IsScalar() || pattern.Scalar().empty()) {
        errors.push_back(at(path, entry.Mark(),
                            "a `class: orchestration` entry needs `pattern:` (an RE2 pattern matched "
                            "against each line of a running job's log)"));
        continue;
      }
      const RE2 re(pattern.Scalar(), RE2::Quiet);
      if (!re.ok()) {
        errors.push_back(at(path, pattern.Mark(),
                            fmt::format("invalid RE2 pattern `{}`: {}", pattern.Scalar(), re.error())));
        continue;
      }
      Prior p;
      p.id = scalar_of(entry, "id", "name");
      if (p.id.empty()) p.id = fmt::format("line {}", entry.Mark().line + 1);
      p.pattern = pattern.Scalar();
      p.note = scalar_of(entry, "note", "description");
      out.push_back(std::move(p));
    }
  } catch (const YAML::Exception& e) {
    return std::vector<doc::Diagnostic>{at(path, e.mark, "invalid YAML: " + e.msg)};
  }
  if (!errors.empty()) return errors;
  return out;
}

}  // namespace cairn::parse

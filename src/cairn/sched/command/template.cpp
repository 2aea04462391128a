#include <cairn/sched/command/template.hpp>

#include <algorithm>
#include <cctype>

#include <yaml-cpp/yaml.h>

#include <cairn/sched/command/parsing.hpp>

namespace cairn::sched {

namespace command {

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
           c == '_';
  });
}

const std::set<std::string, std::less<>>& builtin_placeholders() {
  static const std::set<std::string, std::less<>> k = {
      "key",   "campaign",     "stage",        "attempt",  "run",       "dir",  "job_id",   "job_ids",
      "time",  "time_minutes", "time_seconds", "cpus",     "mem_mb",    "gpus", "gpu_type", "partition",
      "array", "lines",        "pbs_select",   "k8s_name", "key_label", "user"};
  return k;
}

bool uses_placeholder(const CommandTemplate& tmpl, std::string_view name) {
  bool used = false;
  for (const auto& e : tmpl) for_each_placeholder(e, [&](std::string_view p) { used |= p == name; });
  return used;
}

}  // namespace command

Expected<CommandTemplate> parse_command_template(std::string_view text) {
  text = command::trim(text);
  CommandTemplate out;
  const bool yaml_block = !text.empty() && text[0] == '-' &&
                          (text.size() == 1 || std::isspace(static_cast<unsigned char>(text[1])));
  const bool yaml_flow = !text.empty() && text[0] == '[' && text.size() > 1 &&
                         !std::isspace(static_cast<unsigned char>(text[1]));
  if (yaml_block || yaml_flow) {
    try {
      YAML::Node n = YAML::Load(std::string(text));
      if (!n.IsSequence()) return fail("a template list must be a YAML list of strings");
      for (const auto& item : n) {
        if (item.IsScalar()) {
          out.push_back(item.Scalar());
        } else if (item.IsMap() && item.size() == 1 && item.begin()->second.IsNull()) {
          // An unquoted `- {key}` reads as a one-key YAML map: it meant the placeholder.
          out.push_back("{" + item.begin()->first.Scalar() + "}");
        } else {
          return fail("template list items must be strings (quote \"{placeholders}\")");
        }
      }
    } catch (const YAML::Exception& e) {
      return fail(std::string("template list is not valid YAML: ") + e.what());
    }
  } else {
    std::string cur;
    bool have = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (have) out.push_back(std::move(cur));
        cur.clear();
        have = false;
      } else if (c == '\'') {
        auto close = text.find('\'', i + 1);
        if (close == std::string_view::npos) return fail("unterminated ' in template: " + std::string(text));
        cur += text.substr(i + 1, close - i - 1);
        have = true;
        i = close;
      } else if (c == '"') {
        std::size_t j = i + 1;
        for (; j < text.size() && text[j] != '"'; ++j) {
          if (text[j] == '\\' && j + 1 < text.size() && (text[j + 1] == '"' || text[j + 1] == '\\')) ++j;
          cur += text[j];
        }
        if (j >= text.size()) return fail("unterminated \" in template: " + std::string(text));
        have = true;
        i = j;
      } else {
        cur += c;
        have = true;
      }
    }
    if (have) out.push_back(std::move(cur));
  }
  int depth = 0;
  for (const auto& e : out) {
    if (e == "[" && ++depth > 1) return fail("optional groups \"[ ... ]\" do not nest: " + std::string(text));
    if (e == "]" && --depth < 0) return fail("\"]\" without \"[\" in template: " + std::string(text));
  }
  if (depth != 0) return fail("\"[\" without \"]\" in template: " + std::string(text));
  if (out.empty() || out.front() == "[") return fail("a template must start with the program to run");
  return out;
}

Expected<std::vector<std::string>> expand_command_template(const CommandTemplate& tmpl,
                                                           const std::map<std::string, std::string>& values,
                                                           const std::vector<std::string>& job_ids) {
  std::vector<std::string> out;
  std::vector<std::string> group;
  bool in_group = false, group_empty = false;
  for (const auto& e : tmpl) {
    if (e == "[") {
      if (in_group) return fail("optional groups do not nest");
      in_group = true;
      group_empty = false;
      group.clear();
      continue;
    }
    if (e == "]") {
      if (!in_group) return fail("\"]\" without \"[\"");
      if (!group_empty) out.insert(out.end(), group.begin(), group.end());
      in_group = false;
      continue;
    }
    auto& into = in_group ? group : out;
    if (e == "{job_ids}") {
      if (job_ids.empty()) group_empty = true;
      into.insert(into.end(), job_ids.begin(), job_ids.end());
      continue;
    }
    std::string expanded;
    std::size_t i = 0;
    while (i < e.size()) {
      const auto open = e.find('{', i);
      if (open == std::string::npos) {
        expanded += e.substr(i);
        break;
      }
      const auto close = e.find('}', open + 1);
      const std::string name = close == std::string::npos ? "" : e.substr(open + 1, close - open - 1);
      if (!command::is_identifier(name)) {
        expanded += e.substr(i, open + 1 - i);
        i = open + 1;
        continue;
      }
      expanded += e.substr(i, open - i);
      std::string value;
      if (name == "job_ids") {
        for (const auto& id : job_ids) value += (value.empty() ? "" : ",") + id;
      } else if (auto it = values.find(name); it != values.end()) {
        value = it->second;
      }
      if (value.empty()) group_empty = true;
      expanded += value;
      i = close + 1;
    }
    into.push_back(std::move(expanded));
  }
  if (in_group) return fail("\"[\" without \"]\"");
  return out;
}

}  // namespace cairn::sched

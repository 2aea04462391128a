#include <cairn/parse/config.hpp>

#include <algorithm>
#include <optional>
#include <span>

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <cairn/parse/units.hpp>
#include <cairn/util/suggest.hpp>

namespace cairn::parse {

namespace {

bool is_kind(const std::string& s) {
  return std::find(std::begin(kKnownBackendKinds), std::end(kKnownBackendKinds), s) !=
         std::end(kKnownBackendKinds);
}

ConfigPlace place_of(const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  return m.is_null() ? ConfigPlace{} : ConfigPlace{m.line + 1, m.column + 1};
}

doc::Diagnostic at(const std::string& path, const YAML::Node& node, doc::Severity sev, std::string msg) {
  const ConfigPlace p = place_of(node);
  return {path, p.line, p.column, sev, std::move(msg)};
}

// The keys cairn.yaml knows, level by level. An unknown key is an error at the key, with
// a did-you-mean: a typo must not quietly fall back to a default.
constexpr std::string_view kTopKeys[] = {"root",  "branch",  "identity", "catalogs", "backends",
                                         "forge", "anomaly", "ceilings", "diagnose"};
constexpr std::string_view kDiagnoseKeys[] = {"command", "when", "timeout", "may_edit"};
constexpr std::string_view kIdentityKeys[] = {"name", "email"};
constexpr std::string_view kForgeKeys[] = {"kind", "repo", "api", "token_env", "dashboard"};
constexpr std::string_view kCeilingKeys[] = {"time", "mem", "gpus"};
constexpr std::string_view kAnomalyKeys[] = {"enabled",
                                             "max_submissions_per_stage",
                                             "submissions_window",
                                             "max_completions",
                                             "completions_window",
                                             "stall_after",
                                             "systemic_campaigns",
                                             "systemic_window",
                                             "log_patterns",
                                             "max_queued_per_name"};
constexpr std::string_view kCommonBackendKeys[] = {"kind", "usd_per_cpu_hour"};
constexpr std::string_view kLocalKeys[] = {"state_dir"};
constexpr std::string_view kSlurmKeys[] = {"ssh_host", "partition", "output_dir", "ssh_control_path",
                                           "ssh_config"};
constexpr std::string_view kOsmoKeys[] = {"pool",     "osmo",         "label_key",
                                          "priority", "max_attempts", "timeout_seconds"};
constexpr std::string_view kCommandKeys[] = {"preset", "submit",       "status",   "cancel", "logs",
                                             "find",   "submit_regex", "ssh_host", "timeout"};

std::string unknown_key(std::string_view where, const std::string& key,
                        std::span<const std::string_view> known) {
  std::string all;
  for (const auto& k : known) all += fmt::format("{}{}", all.empty() ? "" : ", ", k);
  const std::string hint = util::did_you_mean(key, known);
  return fmt::format("unknown key `{}{}` in cairn.yaml{}", where, key,
                     hint.empty() ? fmt::format(" (known: {})", all) : hint);
}

bool known(std::span<const std::string_view> keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Keys of `node` (a mapping) that are not in `keys`, reported as errors.
void check_keys(const std::string& path, const YAML::Node& node, std::string_view where,
                std::span<const std::string_view> keys, std::vector<doc::Diagnostic>& errors) {
  if (!node.IsMap()) return;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (!known(keys, key))
      errors.push_back(at(path, kv.first, doc::Severity::error, unknown_key(where, key, keys)));
  }
}

// A backend setting no backend of its kind reads. A command backend's other settings
// are its template placeholders, so only a near miss of its own keys is reported there.
std::optional<std::string> unknown_backend_setting(const BackendConfig& b, const std::string& key) {
  if (known(kCommonBackendKeys, key)) return std::nullopt;
  std::vector<std::string_view> keys(std::begin(kCommonBackendKeys), std::end(kCommonBackendKeys));
  std::span<const std::string_view> own;
  if (b.kind == "local") own = kLocalKeys;
  if (b.kind == "slurm") own = kSlurmKeys;
  if (b.kind == "osmo") own = kOsmoKeys;
  if (b.kind == "command") own = kCommandKeys;
  if (known(own, key)) return std::nullopt;
  keys.insert(keys.end(), own.begin(), own.end());
  const std::string where = fmt::format("backends.{}.", b.name);
  if (b.kind == "command") {
    if (!util::closest(key, keys)) return std::nullopt;  // a placeholder, e.g. {image}
  }
  return unknown_key(where, key, keys);
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The `ceilings:` block: `time` (Slurm walltime), `mem` (a size), `gpus` (a count).
void parse_ceilings(const std::string& path, const YAML::Node& node, doc::ResourceCeilings& out,
                    std::vector<doc::Diagnostic>& errors) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    errors.push_back(at(path, node, doc::Severity::error, "`ceilings` must be a mapping (time, mem, gpus)"));
    return;
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    const std::string text = v.IsScalar() ? v.Scalar() : std::string();
    if (key == "time") {
      if (auto t = parse_walltime(text); t && *t > 0) {
        out.time_seconds = *t;
        out.time_text = text;
      } else {
        errors.push_back(at(path, v, doc::Severity::error,
                            "`ceilings.time` must be a walltime like `48:00:00` or `2-00:00:00`"));
      }
    } else if (key == "mem") {
      if (auto m = parse_mem_mb(text); m && *m > 0) {
        out.mem_mb = *m;
        out.mem_text = text;
      } else {
        errors.push_back(at(path, v, doc::Severity::error, "`ceilings.mem` must be a size like `256G`"));
      }
    } else if (key == "gpus") {
      if (all_digits(text) && text.size() < 6 && std::stoi(text) > 0) {
        out.gpus = std::stoi(text);
      } else {
        errors.push_back(at(path, v, doc::Severity::error, "`ceilings.gpus` must be a whole number >= 1"));
      }
    } else {
      errors.push_back(at(path, kv.first, doc::Severity::error, unknown_key("ceilings.", key, kCeilingKeys)));
    }
  }
}

// `diagnose.when`: one word, or a list of them. `never` stands alone; `unclassified` and
// `escalated` choose which escalations (one of them); `anomaly` adds the anomaly scan's
// findings.
void parse_diagnose_when(const std::string& path, const YAML::Node& v, DiagnoseConfig& out,
                         std::vector<doc::Diagnostic>& errors) {
  static constexpr std::string_view kWhen[] = {"never", "unclassified", "escalated", "anomaly"};
  std::vector<YAML::Node> words;
  if (v.IsSequence() && v.size() > 0) {
    for (const auto& w : v) words.push_back(w);
  } else {
    words.push_back(v);
  }
  DiagnoseConfig::When when = DiagnoseConfig::When::never;
  bool on_anomaly = false;
  bool never = false;
  for (const auto& n : words) {
    const std::string w = n.IsScalar() ? n.Scalar() : "";
    const auto escalations = [&](DiagnoseConfig::When chosen) {
      if (when != DiagnoseConfig::When::never && when != chosen) {
        errors.push_back(at(path, n, doc::Severity::error,
                            "`diagnose.when` names both unclassified and escalated (escalated includes "
                            "unclassified)"));
      }
      when = chosen;
    };
    if (w == "never") {
      never = true;
    } else if (w == "unclassified") {
      escalations(DiagnoseConfig::When::unclassified);
    } else if (w == "escalated") {
      escalations(DiagnoseConfig::When::escalated);
    } else if (w == "anomaly") {
      on_anomaly = true;
    } else {
      errors.push_back(
          at(path, n, doc::Severity::error,
             fmt::format("`diagnose.when` must be unclassified, escalated, anomaly (or a list of them) or "
                         "never{}",
                         util::did_you_mean(w, kWhen))));
      return;
    }
  }
  if (never && words.size() > 1) {
    errors.push_back(at(path, v, doc::Severity::error, "`diagnose.when`: `never` cannot be combined"));
    return;
  }
  out.when = when;
  out.on_anomaly = on_anomaly;
}

// The `diagnose:` block.
void parse_diagnose(const std::string& path, const YAML::Node& node, DiagnoseConfig& out,
                    std::vector<doc::Diagnostic>& errors) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    errors.push_back(at(path, node, doc::Severity::error, "`diagnose` must be a mapping"));
    return;
  }
  auto strings = [&](const YAML::Node& n, const std::string& key, std::vector<std::string>& field) {
    const std::string must = fmt::format("`diagnose.{}` must be a list of strings", key);
    if (!n.IsSequence()) {
      errors.push_back(at(path, n, doc::Severity::error, must));
      return;
    }
    std::vector<std::string> values;
    for (const auto& e : n) {
      if (!e.IsScalar() || e.Scalar().empty()) {
        errors.push_back(at(path, e, doc::Severity::error, must + " (no empty ones)"));
        return;
      }
      values.push_back(e.Scalar());
    }
    field = std::move(values);
  };
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (key == "command") {
      strings(v, key, out.command);
      if (v.IsSequence() && out.command.empty()) {
        errors.push_back(at(path, v, doc::Severity::error, "`diagnose.command` must name a program"));
      }
    } else if (key == "when") {
      parse_diagnose_when(path, v, out, errors);
    } else if (key == "timeout") {
      auto seconds = v.IsScalar() && !all_digits(v.Scalar()) ? parse_duration(v.Scalar())
                                                             : Expected<std::int64_t>(fail("no unit"));
      if (!seconds || *seconds <= 0) {
        errors.push_back(at(path, v, doc::Severity::error,
                            "`diagnose.timeout` must be a duration with a unit, e.g. `15m`"));
      } else {
        out.timeout_seconds = *seconds;
      }
    } else if (key == "may_edit") {
      strings(v, key, out.may_edit);
      for (const auto& g : out.may_edit) {
        if (g.rfind('/', 0) == 0 || g.find("..") != std::string::npos) {
          errors.push_back(at(path, v, doc::Severity::error,
                              fmt::format("`diagnose.may_edit`: `{}` must be relative to the campaign "
                                          "directory, without `..`",
                                          g)));
        }
      }
    } else {
      errors.push_back(
          at(path, kv.first, doc::Severity::error, unknown_key("diagnose.", key, kDiagnoseKeys)));
    }
  }
  if ((out.when != DiagnoseConfig::When::never || out.on_anomaly) && out.command.empty()) {
    errors.push_back(
        at(path, node, doc::Severity::error, "`diagnose.when` needs `diagnose.command` (the agent to run)"));
  }
}

// The `anomaly:` block. Errors and warnings are appended; fields not written keep their
// defaults.
void parse_anomaly(const std::string& path, const YAML::Node& node, AnomalyConfig& out,
                   std::vector<doc::Diagnostic>& errors) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    errors.push_back(at(path, node, doc::Severity::error, "`anomaly` must be a mapping"));
    return;
  }
  auto count = [&](const YAML::Node& n, const std::string& key, int minimum, int& field) {
    const std::string must = fmt::format("`anomaly.{}` must be a whole number", key);
    if (!n.IsScalar()) {
      errors.push_back(at(path, n, doc::Severity::error, must));
      return;
    }
    int value = 0;
    try {
      value = n.as<int>();
    } catch (const YAML::Exception&) {
      errors.push_back(at(path, n, doc::Severity::error, must));
      return;
    }
    if (value < minimum) {
      errors.push_back(
          at(path, n, doc::Severity::error, fmt::format("`anomaly.{}` must be at least {}", key, minimum)));
      return;
    }
    field = value;
  };
  auto duration = [&](const YAML::Node& n, const std::string& key, std::int64_t& field) {
    // A bare number would read as Slurm minutes ("30" = 30 min): ask for a unit instead.
    if (!n.IsScalar() || all_digits(n.Scalar())) {
      errors.push_back(
          at(path, n, doc::Severity::error,
             fmt::format("`anomaly.{}` must be a duration with a unit, e.g. `24h`, `15m`", key)));
      return;
    }
    auto seconds = parse_duration(n.Scalar());
    if (!seconds) {
      errors.push_back(
          at(path, n, doc::Severity::error, fmt::format("`anomaly.{}`: {}", key, seconds.error().message)));
      return;
    }
    field = *seconds;
  };
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (key == "enabled") {
      if (!v.IsScalar() || (v.Scalar() != "true" && v.Scalar() != "false")) {
        errors.push_back(at(path, v, doc::Severity::error, "`anomaly.enabled` must be true or false"));
        continue;
      }
      out.enabled = v.Scalar() == "true";
    } else if (key == "max_submissions_per_stage") {
      count(v, key, 1, out.max_submissions_per_stage);
    } else if (key == "submissions_window") {
      duration(v, key, out.submissions_window_seconds);
    } else if (key == "max_completions") {
      count(v, key, 1, out.max_completions);
    } else if (key == "completions_window") {
      duration(v, key, out.completions_window_seconds);
    } else if (key == "stall_after") {
      duration(v, key, out.stall_seconds);
    } else if (key == "systemic_campaigns") {
      count(v, key, 2, out.systemic_campaigns);
    } else if (key == "systemic_window") {
      duration(v, key, out.systemic_window_seconds);
    } else if (key == "max_queued_per_name") {
      count(v, key, 1, out.max_queued_per_name);
    } else if (key == "log_patterns") {
      if (!v.IsSequence()) {
        errors.push_back(
            at(path, v, doc::Severity::error, "`anomaly.log_patterns` must be a list of RE2 patterns"));
        continue;
      }
      std::vector<std::string> patterns;
      bool ok = true;
      for (const auto& p : v) {
        if (!p.IsScalar() || p.Scalar().empty()) {
          errors.push_back(
              at(path, p, doc::Severity::error, "`anomaly.log_patterns[]` must be a non-empty string"));
          ok = false;
          continue;
        }
        const RE2 re(p.Scalar(), RE2::Quiet);
        if (!re.ok()) {
          errors.push_back(at(
              path, p, doc::Severity::error,
              fmt::format("`anomaly.log_patterns[]`: invalid RE2 pattern `{}`: {}", p.Scalar(), re.error())));
          ok = false;
          continue;
        }
        patterns.push_back(p.Scalar());
      }
      if (ok) out.log_patterns = std::move(patterns);
    } else {
      errors.push_back(at(path, kv.first, doc::Severity::error, unknown_key("anomaly.", key, kAnomalyKeys)));
    }
  }
}

}  // namespace

std::vector<std::string> default_log_patterns() {
  return {R"(\bFATAL\b)", R"(\bNaNs?\b)", R"(\bOOM\b)", R"((?i)\bout of memory\b)", R"(\boom[-_]kill)"};
}

const BackendConfig* RepoConfig::backend(const std::string& name) const {
  for (const auto& b : backends) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

Expected<RepoConfig, std::vector<doc::Diagnostic>> parse_config(const std::string& path,
                                                                const std::string& text,
                                                                std::vector<doc::Diagnostic>* warnings) {
  std::vector<doc::Diagnostic> errors;
  std::vector<doc::Diagnostic> warns;
  RepoConfig cfg;
  cfg.path = path;
  try {
    const YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return cfg;
    if (!root.IsMap()) {
      return std::vector<doc::Diagnostic>{
          at(path, root, doc::Severity::error, "cairn.yaml must be a mapping")};
    }
    auto scalar = [&](const YAML::Node& n, const std::string& key, std::string& out) {
      if (!n) return;
      if (!n.IsScalar()) {
        errors.push_back(at(path, n, doc::Severity::error, fmt::format("`{}` must be a string", key)));
        return;
      }
      out = n.Scalar();
    };
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "root") {
        scalar(v, key, cfg.root);
      } else if (key == "branch") {
        scalar(v, key, cfg.branch);
      } else if (key == "identity") {
        if (!v.IsMap()) {
          errors.push_back(at(path, v, doc::Severity::error, "`identity` must be {name: ..., email: ...}"));
          continue;
        }
        check_keys(path, v, "identity.", kIdentityKeys, errors);
        scalar(v["name"], "identity.name", cfg.identity_name);
        scalar(v["email"], "identity.email", cfg.identity_email);
      } else if (key == "catalogs") {
        if (!v.IsSequence()) {
          errors.push_back(at(path, v, doc::Severity::error, "`catalogs` must be a list of paths"));
          continue;
        }
        for (const auto& c : v) {
          std::string p;
          scalar(c, "catalogs[]", p);
          if (!p.empty()) cfg.catalogs.push_back(p);
        }
      } else if (key == "backends") {
        if (!v.IsMap()) {
          errors.push_back(
              at(path, v, doc::Severity::error, "`backends` must be a mapping of name -> settings"));
          continue;
        }
        for (const auto& b : v) {
          BackendConfig bc;
          bc.name = b.first.Scalar();
          bc.place = place_of(b.first);
          const YAML::Node& s = b.second;
          if (!s.IsNull() && !s.IsMap()) {
            errors.push_back(
                at(path, s, doc::Severity::error, fmt::format("backend `{}` must be a mapping", bc.name)));
            continue;
          }
          if (s.IsMap()) {
            for (const auto& setting : s) {
              const std::string sk = setting.first.Scalar();
              bc.setting_places[sk] = place_of(setting.second);
              if (!setting.second.IsScalar()) {
                // Nested settings (e.g. command templates as a map) are kept as YAML text.
                bc.settings[sk] = YAML::Dump(setting.second);
                continue;
              }
              if (sk == "kind") {
                bc.kind = setting.second.Scalar();
              } else if (sk == "usd_per_cpu_hour") {
                try {
                  bc.usd_per_cpu_hour = setting.second.as<double>();
                } catch (const YAML::Exception&) {
                  errors.push_back(
                      at(path, setting.second, doc::Severity::error, "`usd_per_cpu_hour` must be a number"));
                }
              } else {
                bc.settings[sk] = setting.second.Scalar();
              }
            }
          }
          if (bc.kind.empty()) bc.kind = bc.name;
          if (!is_kind(bc.kind)) {
            const std::string hint = util::did_you_mean(bc.kind, kKnownBackendKinds);
            errors.push_back(
                at(path, b.first, doc::Severity::error,
                   fmt::format("backend `{}` has unknown kind `{}`{} (kinds: local, slurm, osmo, command; "
                               "name an instance with `kind:`)",
                               bc.name, bc.kind, hint)));
            continue;
          }
          if (s.IsMap()) {
            for (const auto& setting : s) {
              if (auto message = unknown_backend_setting(bc, setting.first.Scalar())) {
                errors.push_back(at(path, setting.first, doc::Severity::error, std::move(*message)));
              }
            }
          }
          cfg.backends.push_back(std::move(bc));
        }
      } else if (key == "forge") {
        if (!v.IsMap()) {
          errors.push_back(at(path, v, doc::Severity::error, "`forge` must be a mapping"));
          continue;
        }
        check_keys(path, v, "forge.", kForgeKeys, errors);
        scalar(v["kind"], "forge.kind", cfg.forge.kind);
        scalar(v["repo"], "forge.repo", cfg.forge.repo);
        scalar(v["api"], "forge.api", cfg.forge.api);
        scalar(v["token_env"], "forge.token_env", cfg.forge.token_env);
        if (const YAML::Node d = v["dashboard"]) {
          if (!d.IsScalar() || (d.Scalar() != "true" && d.Scalar() != "false")) {
            errors.push_back(at(path, d, doc::Severity::error, "`forge.dashboard` must be true or false"));
          } else {
            cfg.forge.dashboard = d.Scalar() == "true";
          }
        }
      } else if (key == "anomaly") {
        parse_anomaly(path, v, cfg.anomaly, errors);
      } else if (key == "diagnose") {
        parse_diagnose(path, v, cfg.diagnose, errors);
      } else if (key == "ceilings") {
        parse_ceilings(path, v, cfg.ceilings, errors);
      } else {
        errors.push_back(at(path, kv.first, doc::Severity::error, unknown_key("", key, kTopKeys)));
      }
    }
  } catch (const YAML::Exception& e) {
    return std::vector<doc::Diagnostic>{{path, e.mark.is_null() ? 0 : e.mark.line + 1,
                                         e.mark.is_null() ? 0 : e.mark.column + 1, doc::Severity::error,
                                         fmt::format("invalid YAML: {}", e.msg)}};
  }
  if (warnings != nullptr) *warnings = std::move(warns);
  if (!errors.empty()) return errors;
  return cfg;
}

}  // namespace cairn::parse

#include <cairn/parse/stage_spec.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>
#include <span>

#include <fmt/format.h>

#include <cairn/parse/units.hpp>
#include <cairn/util/suggest.hpp>

namespace cairn::parse {

namespace {

constexpr int kMaxArrayTasks = 100000;

// What a stage spec may say. Anything else is an error: a misspelt key would otherwise
// run the stage without what it asks for.
constexpr std::string_view kSpecKeys[] = {"run",    "backend",   "pool", "priority", "checkpoint", "array",
                                          "expect", "resources", "sync", "set",      "env"};
constexpr std::string_view kResourceKeys[] = {"time", "cpus", "mem", "gpus", "gpu_type", "partition"};

// "; did you mean `x`?" when one is close, else the list of what is known.
std::string suggestion(const std::string& key, std::span<const std::string_view> known) {
  if (std::string hint = util::did_you_mean(key, known); !hint.empty()) return hint;
  std::string all;
  for (const auto& k : known) all += fmt::format("{}`{}`", all.empty() ? "" : ", ", k);
  return " (known: " + all + ")";
}

std::optional<int> to_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

class SpecReader {
 public:
  SpecReader(int line_offset, const std::string& path, std::vector<doc::Diagnostic>& out)
      : m_offset(line_offset), m_path(path), m_out(out) {}

  doc::StageSpec read(const std::string& name, const fm::Value& body) {
    doc::StageSpec spec;
    spec.name = name;
    spec.line = body.key_line + m_offset;
    if (body.kind != fm::Value::Kind::map) {
      error(body, fmt::format("stage `{}`: expected a mapping with at least `run:`", name));
      return spec;
    }
    bool has_run = false;
    for (const auto& [k, v] : body.map) {
      if (k == "run") has_run = true;
      // An empty value's Mark() is wherever the parser stood next, so point at its key.
      if (v.kind == fm::Value::Kind::null && k != "resources" && k != "set" && k != "env") {
        if (k == "run") {
          error_at_key(v, fmt::format("stage `{}`: `run` is empty", name));
        } else {
          warning_at_key(v, fmt::format("stage `{}`: `{}` has no value (ignored)", name, k));
        }
        continue;
      }
      if (k == "run") {
        if (auto s = scalar(v, name, k)) check_run(*s, v, name, spec);
      } else if (k == "backend") {
        if (auto s = scalar(v, name, k)) spec.backend = *s;
      } else if (k == "pool") {
        if (auto s = scalar(v, name, k)) spec.pool = *s;
      } else if (k == "priority") {
        if (auto s = scalar(v, name, k)) {
          std::string p = *s;
          std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::toupper(c); });
          if (p != "LOW" && p != "NORMAL" && p != "HIGH") {
            error(v, fmt::format("stage `{}`: priority must be LOW, NORMAL or HIGH, not `{}`", name, *s));
          } else {
            spec.priority = std::move(p);
          }
        }
      } else if (k == "checkpoint") {
        if (auto s = scalar(v, name, k)) spec.checkpoint = *s;
      } else if (k == "array") {
        if (auto s = scalar(v, name, k)) {
          if (auto ok = expand_array(*s); !ok) {
            error(v, fmt::format("stage `{}`: array: {}", name, ok.error().message));
          } else {
            spec.array = *s;
          }
        }
      } else if (k == "expect") {
        if (auto s = scalar(v, name, k)) {
          if (auto d = parse_duration(*s)) {
            spec.expect_seconds = *d;
          } else {
            error(v, fmt::format("stage `{}`: expect: {}", name, d.error().message));
          }
        }
      } else if (k == "resources") {
        read_resources(v, name, spec.resources);
      } else if (k == "sync") {
        read_sync(v, name, spec);
      } else if (k == "set") {
        if (v.kind != fm::Value::Kind::map) {
          if (v.kind != fm::Value::Kind::null)
            error(v, fmt::format("stage `{}`: `set` must be a mapping of template values", name));
          continue;
        }
        for (const auto& [sk, sv] : v.map) {
          if (auto val = scalar(sv, name, "set." + sk)) spec.set[sk] = *val;
        }
      } else if (k == "env") {
        read_env(v, name, spec);
      } else {
        error_at_key(v, fmt::format("stage `{}`: unknown key `{}`{}", name, k, suggestion(k, kSpecKeys)));
      }
    }
    if (!has_run)
      error_at_key(
          body, fmt::format("stage `{}` has no `run:` (the script to run, inside the campaign dir)", name));
    return spec;
  }

 private:
  void add(int line, int column, doc::Severity severity, std::string message) {
    m_out.push_back({m_path, line + m_offset, column + 1, severity, std::move(message)});
  }
  // At the value; an empty value has no place of its own, so at its key then.
  void error(const fm::Value& at, std::string message) {
    if (at.kind == fm::Value::Kind::null && at.key_line >= 0) return error_at_key(at, std::move(message));
    add(at.line, at.column, doc::Severity::error, std::move(message));
  }
  void error_at_key(const fm::Value& at, std::string message) {
    add(at.key_line, at.key_column, doc::Severity::error, std::move(message));
  }
  void warning_at_key(const fm::Value& at, std::string message) {
    add(at.key_line, at.key_column, doc::Severity::warning, std::move(message));
  }

  // `env: {NAME: value, ...}`: shell variable names only, so every backend can pass them.
  void read_env(const fm::Value& v, const std::string& stage, doc::StageSpec& spec) {
    if (v.kind != fm::Value::Kind::map) {
      if (v.kind != fm::Value::Kind::null)
        error(v, fmt::format("stage `{}`: `env` must be a mapping of variable names to values", stage));
      return;
    }
    for (const auto& [ek, ev] : v.map) {
      const bool shell_name =
          !ek.empty() && (std::isalpha(static_cast<unsigned char>(ek[0])) || ek[0] == '_') &&
          std::all_of(ek.begin(), ek.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
      if (!shell_name) {
        error_at_key(ev, fmt::format("stage `{}`: env: `{}` is not a variable name ([A-Za-z_][A-Za-z0-9_]*)",
                                     stage, ek));
        continue;
      }
      if (ev.kind == fm::Value::Kind::null) {
        spec.env[ek] = "";
      } else if (auto val = scalar(ev, stage, "env." + ek)) {
        spec.env[ek] = *val;
      }
    }
  }

  std::optional<std::string> scalar(const fm::Value& v, const std::string& stage, const std::string& key) {
    if (v.kind == fm::Value::Kind::scalar) return v.scalar;
    error(v, fmt::format("stage `{}`: `{}` must be a single value", stage, key));
    return std::nullopt;
  }

  void check_run(const std::string& run, const fm::Value& at, const std::string& stage,
                 doc::StageSpec& spec) {
    if (run.empty()) {
      error(at, fmt::format("stage `{}`: `run` is empty", stage));
      return;
    }
    if (inside_campaign(run, at, stage, "run")) spec.run = run;
  }

  // `sync:` is one path or a list of them.
  void read_sync(const fm::Value& v, const std::string& stage, doc::StageSpec& spec) {
    std::vector<const fm::Value*> items;
    if (v.kind == fm::Value::Kind::seq) {
      for (const auto& x : v.seq) items.push_back(&x);
    } else {
      items.push_back(&v);
    }
    for (const fm::Value* x : items) {
      if (x->kind != fm::Value::Kind::scalar || x->scalar.empty()) {
        error(*x, fmt::format("stage `{}`: `sync` must be a path or a list of paths", stage));
      } else if (inside_campaign(x->scalar, *x, stage, "sync")) {
        spec.sync.push_back(x->scalar);
      }
    }
  }

  // Paths in a spec stay inside the job's directory: relative, no `~`, no `..`.
  bool inside_campaign(const std::string& value, const fm::Value& at, const std::string& stage,
                       std::string_view key) {
    if (value.front() == '/' || value.front() == '~') {
      error(at, fmt::format("stage `{}`: `{}: {}` must be a path inside the campaign dir, not absolute",
                            stage, key, value));
      return false;
    }
    std::string_view rest = value;
    for (;;) {
      const auto slash = rest.find('/');
      if (rest.substr(0, slash) == "..") {
        error(at, fmt::format("stage `{}`: `{}: {}` leaves the campaign dir (`..`)", stage, key, value));
        return false;
      }
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    return true;
  }

  std::optional<int> count(const fm::Value& v, const std::string& stage, const std::string& key, int min) {
    auto s = scalar(v, stage, "resources." + key);
    if (!s) return std::nullopt;
    auto n = to_int(*s);
    if (!n || *n < min) {
      error(v,
            fmt::format("stage `{}`: resources.{}: `{}` is not a whole number >= {}", stage, key, *s, min));
      return std::nullopt;
    }
    return n;
  }

  void read_resources(const fm::Value& v, const std::string& stage, doc::Resources& r) {
    if (v.kind != fm::Value::Kind::map) {
      if (v.kind != fm::Value::Kind::null)
        error(v, fmt::format("stage `{}`: `resources` must be a mapping", stage));
      return;
    }
    for (const auto& [k, x] : v.map) {
      if (x.kind == fm::Value::Kind::null) {
        warning_at_key(x, fmt::format("stage `{}`: resources.{} has no value (ignored)", stage, k));
        continue;
      }
      if (k == "time") {
        if (auto s = scalar(x, stage, "resources.time")) {
          if (auto t = parse_walltime(*s)) {
            r.time_seconds = *t;
            r.time_text = *s;
          } else {
            error(x, fmt::format("stage `{}`: resources.time: {}", stage, t.error().message));
          }
        }
      } else if (k == "mem") {
        if (auto s = scalar(x, stage, "resources.mem")) {
          if (auto m = parse_mem_mb(*s)) {
            r.mem_mb = *m;
            r.mem_text = *s;
          } else {
            error(x, fmt::format("stage `{}`: resources.mem: {}", stage, m.error().message));
          }
        }
      } else if (k == "cpus") {
        r.cpus = count(x, stage, k, 1);
      } else if (k == "gpus") {
        r.gpus = count(x, stage, k, 0);
      } else if (k == "gpu_type") {
        if (auto s = scalar(x, stage, "resources.gpu_type")) r.gpu_type = *s;
      } else if (k == "partition") {
        if (auto s = scalar(x, stage, "resources.partition")) r.partition = *s;
      } else {
        error_at_key(
            x, fmt::format("stage `{}`: unknown resource `{}`{}", stage, k, suggestion(k, kResourceKeys)));
      }
    }
  }

  int m_offset;
  const std::string& m_path;
  std::vector<doc::Diagnostic>& m_out;
};

}  // namespace

std::vector<doc::StageSpec> parse_stage_specs(const fm::Value& stages, int line_offset,
                                              const std::string& path, std::vector<doc::Diagnostic>& out) {
  std::vector<doc::StageSpec> specs;
  specs.reserve(stages.map.size());
  SpecReader reader(line_offset, path, out);
  for (const auto& entry : stages.map) {
    const std::string& name = entry.first;  // not a structured binding: clang 14 cannot capture one
    const fm::Value& body = entry.second;
    const bool seen =
        std::any_of(specs.begin(), specs.end(), [&](const doc::StageSpec& s) { return s.name == name; });
    if (seen) {
      out.push_back({path, body.key_line + line_offset, body.key_column + 1, doc::Severity::error,
                     fmt::format("stage `{}` is described twice under `stages:`", name)});
      continue;
    }
    specs.push_back(reader.read(name, body));
  }
  return specs;
}

Expected<std::vector<int>> expand_array(std::string_view text) {
  std::string_view t = text;
  if (auto pct = t.find('%'); pct != std::string_view::npos) {
    auto limit = to_int(t.substr(pct + 1));
    if (!limit || *limit < 1)
      return fail(fmt::format("`{}`: the %N limit must be a whole number >= 1", text));
    t = t.substr(0, pct);
  }
  if (t.empty()) return fail("empty array");
  std::vector<int> out;  // sorted and made unique at the end: a set of 100,000 nodes is slow
  // Counted range by range before any is expanded, repeats included: the work stays
  // bounded by the limit however the text is written ("1-100000" a thousand times).
  long long tasks = 0;
  for (;;) {
    const auto comma = t.find(',');
    const std::string_view part = t.substr(0, comma);
    std::string_view range = part;
    int step = 1;
    if (auto colon = part.find(':'); colon != std::string_view::npos) {
      auto s = to_int(part.substr(colon + 1));
      if (!s || *s < 1) return fail(fmt::format("`{}`: the step after `:` must be >= 1", part));
      step = *s;
      range = part.substr(0, colon);
    }
    const auto dash = range.find('-');
    auto lo = to_int(range.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : to_int(range.substr(dash + 1));
    if (!lo || !hi || *lo < 0) return fail(fmt::format("`{}` is not an index or a range like 1-20", part));
    if (*hi < *lo) return fail(fmt::format("`{}`: the range ends before it starts", part));
    if (*hi > std::numeric_limits<int>::max()) return fail(fmt::format("`{}`: an index too large", part));
    tasks += (static_cast<long long>(*hi) - *lo) / step + 1;
    if (tasks > kMaxArrayTasks) {
      return fail(
          fmt::format("more than {} tasks (counted range by range, repeats included)", kMaxArrayTasks));
    }
    for (long i = *lo; i <= *hi; i += step) {
      out.push_back(static_cast<int>(i));
    }
    if (comma == std::string_view::npos) break;
    t.remove_prefix(comma + 1);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace cairn::parse

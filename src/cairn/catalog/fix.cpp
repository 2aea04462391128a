#include <cairn/catalog/fix.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cairn/parse/units.hpp>
#include <cairn/util/strings.hpp>

namespace cairn::catalog {

namespace {

constexpr int kMaxFactor = 10;

// "walltime x2" -> {"walltime", 2}; nullopt when `fix` is not "<what> xN".
std::optional<std::pair<std::string, int>> scaling(std::string_view fix) {
  const auto space = fix.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view what = fix.substr(0, space);
  std::string_view factor = fix.substr(space + 1);
  if (what != "walltime" && what != "mem") return std::nullopt;
  if (factor.size() < 2 || (factor[0] != 'x' && factor[0] != '*')) return std::nullopt;
  factor.remove_prefix(1);
  int n = 0;
  const auto [p, ec] = std::from_chars(factor.data(), factor.data() + factor.size(), n);
  if (ec != std::errc() || p != factor.data() + factor.size() || n < 2 || n > kMaxFactor) return std::nullopt;
  return std::pair<std::string, int>{std::string(what), n};
}

Expected<FixResult> plan_walltime(const doc::StageSpec& spec, int factor) {
  std::int64_t seconds = 0;
  if (spec.resources.time_seconds) {
    seconds = *spec.resources.time_seconds;
  } else if (!spec.resources.time_text.empty()) {
    seconds = CAIRN_TRY(parse::parse_walltime(spec.resources.time_text));
  } else {
    return fail(fmt::format("stage {} has no resources.time to multiply", spec.name));
  }
  if (seconds <= 0) return fail(fmt::format("stage {} has a zero resources.time", spec.name));
  const std::string before =
      spec.resources.time_text.empty() ? parse::format_walltime(seconds) : spec.resources.time_text;
  const std::string after = parse::format_walltime(seconds * factor);
  FixResult r;
  r.edits.push_back({fmt::format("stages.{}.resources.time", spec.name), after});
  r.summary = fmt::format("resources.time {} -> {}", before, after);
  return r;
}

// "8G" -> {8, "G"}, "256Gi" -> {256, "Gi"}, "1.5G" -> {1.5, "G"}, "4000" -> {4000, ""}:
// the number and the unit as written, so "mem x2" keeps the user's unit. What counts as
// a size is parse::parse_mem_mb's call.
std::optional<std::pair<double, std::string>> split_mem(std::string_view text) {
  const auto mb = parse::parse_mem_mb(text);
  if (!mb || *mb <= 0) return std::nullopt;
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) != 0 || text[i] == '.')) ++i;
  double value = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || p != text.data() + i || value <= 0) return std::nullopt;
  return std::pair<double, std::string>{value, std::string(text.substr(i))};
}

std::string format_number(double v) {
  if (std::floor(v) == v) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{:g}", v);
}

Expected<FixResult> plan_mem(const doc::StageSpec& spec, int factor) {
  std::string before;
  std::string after;
  if (!spec.resources.mem_text.empty()) {
    const auto parts = split_mem(spec.resources.mem_text);
    if (!parts) {
      return fail(fmt::format("stage {}: resources.mem \"{}\" is not a size like 8G", spec.name,
                              spec.resources.mem_text));
    }
    before = spec.resources.mem_text;
    after = format_number(parts->first * factor) + parts->second;
  } else if (spec.resources.mem_mb && *spec.resources.mem_mb > 0) {
    const std::int64_t mb = *spec.resources.mem_mb;
    before = parse::format_mem(mb);
    after = parse::format_mem(mb * factor);
  } else {
    return fail(fmt::format("stage {} has no resources.mem to multiply", spec.name));
  }
  FixResult r;
  r.edits.push_back({fmt::format("stages.{}.resources.mem", spec.name), after});
  r.summary = fmt::format("resources.mem {} -> {}", before, after);
  return r;
}

// "gpus +1" -> 1; nullopt when `fix` is not "gpus +N" with N in 1..kMaxFactor.
std::optional<int> gpu_increment(std::string_view fix) {
  constexpr std::string_view head = "gpus +";
  if (fix.substr(0, head.size()) != head) return std::nullopt;
  fix.remove_prefix(head.size());
  int n = 0;
  const auto [p, ec] = std::from_chars(fix.data(), fix.data() + fix.size(), n);
  if (ec != std::errc() || p != fix.data() + fix.size() || n < 1 || n > kMaxFactor) return std::nullopt;
  return n;
}

// "partition=long" -> "long"; nullopt unless the value is a plain name.
std::optional<std::string> assignment(std::string_view fix, std::string_view key) {
  if (fix.size() <= key.size() + 1 || fix.substr(0, key.size()) != key || fix[key.size()] != '=')
    return std::nullopt;
  const std::string_view value = fix.substr(key.size() + 1);
  const bool plain = std::all_of(value.begin(), value.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
  if (!plain) return std::nullopt;
  return std::string(value);
}

Expected<FixResult> plan_gpus(const doc::StageSpec& spec, int more) {
  if (!spec.resources.gpus) return fail(fmt::format("stage {} has no resources.gpus to raise", spec.name));
  const int after = *spec.resources.gpus + more;
  FixResult r;
  r.edits.push_back({fmt::format("stages.{}.resources.gpus", spec.name), std::to_string(after)});
  r.summary = fmt::format("resources.gpus {} -> {}", *spec.resources.gpus, after);
  return r;
}

// The partition (Slurm) or pool (OSMO) the stage names; a fix moves it, never invents it.
Expected<FixResult> plan_partition(const doc::StageSpec& spec, const std::string& to) {
  FixResult r;
  if (!spec.pool.empty()) {
    r.edits.push_back({fmt::format("stages.{}.pool", spec.name), to});
    r.summary = fmt::format("pool {} -> {}", spec.pool, to);
  } else if (!spec.resources.partition.empty()) {
    r.edits.push_back({fmt::format("stages.{}.resources.partition", spec.name), to});
    r.summary = fmt::format("resources.partition {} -> {}", spec.resources.partition, to);
  } else {
    return fail(
        fmt::format("stage {} names no resources.partition or pool to change (proposed: {})", spec.name, to));
  }
  return r;
}

Expected<FixResult> plan_priority(const doc::StageSpec& spec, const std::string& to) {
  if (spec.priority.empty()) {
    return fail(fmt::format("stage {} has no priority to change (proposed: priority: {})", spec.name, to));
  }
  FixResult r;
  r.edits.push_back({fmt::format("stages.{}.priority", spec.name), to});
  r.summary = fmt::format("priority {} -> {}", spec.priority, to);
  return r;
}

// The stage's `set:` value of template variable `var`; nullptr when it has none.
const std::string* set_value(const doc::StageSpec& spec, const std::string& var) {
  auto it = spec.set.find(var);
  return it == spec.set.end() ? nullptr : &it->second;
}

// A resource fix for a stage whose job spec owns its resources: through the `set:` value
// of every template variable the spec's `resource` values are made of, never the spec.
// `change` maps the set value to the new one, or fails saying why.
Expected<FixResult> plan_through_set(const doc::StageSpec& spec, const engine::SpecInfo& declared,
                                     const std::string& resource, std::string_view fix,
                                     const std::function<Expected<std::string>(const std::string&)>& change) {
  std::vector<const engine::ResourceBinding*> bound;
  for (const auto& b : declared.bindings) {
    if (b.resource == resource) bound.push_back(&b);
  }
  if (bound.empty()) {
    return fail(
        fmt::format("{} sets no {} under resources: that cairn could change through `set:`; {} "
                    "cannot reach the workflow, and cairn does not edit your YAML",
                    declared.file, resource == "mem" ? "memory" : resource, fix));
  }
  FixResult r;
  std::vector<std::string> summary;
  std::set<std::string> done;
  for (const auto* b : bound) {
    if (b->variable.empty()) {
      return fail(
          fmt::format("{} is {} in {}, not a template variable: cairn does not edit your YAML; make it "
                      "`{{{{{}}}}}` or change it yourself",
                      b->key, b->value, declared.file, b->key.substr(b->key.rfind('.') + 1)));
    }
    if (!done.insert(b->variable).second) continue;
    const std::string* now = set_value(spec, b->variable);
    if (now == nullptr) {
      return fail(
          fmt::format("{} is `{}` in {}, but stage {} has no set.{}: add it to the stage's `set:` "
                      "(the value the workflow runs with) so {} can change it",
                      b->key, b->value, declared.file, spec.name, b->variable, fix));
    }
    const std::string after = CAIRN_TRY(change(*now));
    r.edits.push_back({fmt::format("stages.{}.set.{}", spec.name, b->variable), after});
    summary.push_back(fmt::format("set.{} {} -> {}", b->variable, *now, after));
  }
  r.summary = fmt::format("{}", fmt::join(summary, ", "));
  return r;
}

Expected<FixResult> plan_declared(std::string_view fix, const doc::StageSpec& spec,
                                  const engine::SpecInfo& declared) {
  if (const auto s = scaling(fix); s && s->first == "mem") {
    const int factor = s->second;
    return plan_through_set(spec, declared, "mem", fix, [&](const std::string& v) -> Expected<std::string> {
      const auto parts = split_mem(v);
      if (!parts)
        return fail(fmt::format("stage {}: a memory value \"{}\" is not a size like 256Gi", spec.name, v));
      return format_number(parts->first * factor) + parts->second;
    });
  }
  if (const auto n = gpu_increment(fix)) {
    auto r = CAIRN_TRY(
        plan_through_set(spec, declared, "gpus", fix, [&](const std::string& v) -> Expected<std::string> {
          int gpus = 0;
          const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), gpus);
          if (ec != std::errc() || p != v.data() + v.size()) {
            return fail(fmt::format("stage {}: a GPU count \"{}\" is not a number", spec.name, v));
          }
          return std::to_string(gpus + *n);
        }));
    if (spec.resources.gpus) {
      r.edits.push_back(
          {fmt::format("stages.{}.resources.gpus", spec.name), std::to_string(*spec.resources.gpus + *n)});
    }
    return r;
  }
  // walltime: the workflow's own timeouts are in its YAML, which cairn does not edit.
  return fail(
      fmt::format("{} sets the workflow's resources; {} cannot reach it through `set:` and cairn "
                  "does not edit your YAML",
                  declared.file, fix));
}

// Why the planned edits pass a ceiling; empty when they do not.
std::string beyond_ceiling(const FixResult& plan, const doc::ResourceCeilings& c) {
  for (const auto& e : plan.edits) {
    const std::string_view key = e.key;
    const auto ends = [&](std::string_view tail) {
      return key.size() > tail.size() && key.substr(key.size() - tail.size()) == tail;
    };
    if (ends(".resources.time") && c.time_seconds) {
      if (auto t = parse::parse_walltime(e.value); t && *t > *c.time_seconds) {
        return fmt::format("resources.time {} is above the ceiling {}", e.value, c.time_text);
      }
    } else if (ends(".resources.mem") && c.mem_mb) {
      if (auto m = parse::parse_mem_mb(e.value); m && *m > *c.mem_mb) {
        return fmt::format("resources.mem {} is above the ceiling {}", e.value, c.mem_text);
      }
    } else if (ends(".resources.gpus") && c.gpus) {
      int gpus = 0;
      const auto [p, ec] = std::from_chars(e.value.data(), e.value.data() + e.value.size(), gpus);
      if (ec == std::errc() && gpus > *c.gpus) {
        return fmt::format("resources.gpus {} is above the ceiling {}", e.value, *c.gpus);
      }
    }
  }
  return {};
}

}  // namespace

std::optional<std::string> canonical_fix(std::string_view cell) {
  std::string fix = util::lower_words(cell);
  if (fix.empty() || fix == "—" || fix == "-" || fix == "none" || fix == "escalate" || fix == "destructive") {
    return std::string();
  }
  if (fix == "resubmit" || fix == "resubmit-from-checkpoint") return fix;
  if (fix == "exclude node" || fix == "exclude-node") return std::string("exclude-node");
  if (const auto s = scaling(fix)) return fmt::format("{} x{}", s->first, s->second);
  if (const auto n = gpu_increment(fix)) return fmt::format("gpus +{}", *n);
  if (const auto p = assignment(fix, "partition")) {
    // Partition and pool names are case-sensitive: the name as the cell wrote it.
    std::string_view written = cell.substr(cell.find('=') + 1);
    while (!written.empty() && (written.back() == ' ' || written.back() == '\t')) written.remove_suffix(1);
    return fmt::format("partition={}", util::lower_words(written) == *p ? written : std::string_view(*p));
  }
  if (const auto p = assignment(fix, "priority"); p && (*p == "low" || *p == "normal" || *p == "high")) {
    std::string upper = *p;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    return "priority=" + upper;
  }
  return std::nullopt;
}

Expected<FixResult> plan_fix(std::string_view fix, const doc::StageSpec& spec,
                             const doc::ResourceCeilings& ceilings, const engine::SpecInfo* declared) {
  const auto canonical = canonical_fix(fix);
  if (!canonical) return fail(fmt::format("unknown auto-fix \"{}\"", fix));
  if (canonical->empty()) return fail(fmt::format("\"{}\" is not an automatic fix", fix));
  if (spec.name.empty()) return fail("the stage has no name to address its spec");
  const std::string& f = *canonical;
  FixResult plan;
  if (f == "resubmit") {
    plan.summary = "resubmit unchanged";
  } else if (f == "resubmit-from-checkpoint") {
    if (spec.checkpoint.empty()) {
      return fail(fmt::format("stage {} names no checkpoint (`checkpoint:` in its spec)", spec.name));
    }
    plan.summary = fmt::format("resubmit; {} advanced", spec.checkpoint);
    plan.needs_checkpoint = true;
  } else if (f == "exclude-node") {
    // Nothing in a stage spec names nodes: the retry's submit avoids the nodes the
    // failed attempt ran on, which the tick reads from the scheduler's status.
    plan.summary = "resubmit without the failed node";
    plan.excludes_failed_nodes = true;
  } else if (declared != nullptr && declared->owns_resources && (scaling(f) || gpu_increment(f))) {
    plan = CAIRN_TRY(plan_declared(f, spec, *declared));
  } else if (const auto s = scaling(f)) {
    plan = CAIRN_TRY(s->first == "walltime" ? plan_walltime(spec, s->second) : plan_mem(spec, s->second));
  } else if (const auto n = gpu_increment(f)) {
    plan = CAIRN_TRY(plan_gpus(spec, *n));
  } else if (f.rfind("partition=", 0) == 0) {
    plan = CAIRN_TRY(plan_partition(spec, f.substr(10)));
  } else {
    plan = CAIRN_TRY(plan_priority(spec, f.substr(9)));
  }
  plan.beyond_ceiling = beyond_ceiling(plan, ceilings);
  return plan;
}

}  // namespace cairn::catalog

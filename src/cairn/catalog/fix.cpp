#include <cairn/catalog/fix.hpp>

#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include <cairn/parse/units.hpp>

namespace cairn::catalog {

namespace {

constexpr int kMaxFactor = 10;

std::string lower_words(std::string_view s) {
  // Collapse runs of blanks so "walltime  X2" and "walltime x2" are the same fix.
  std::string out;
  bool blank = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

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
    seconds = CAIRN_TRY(parse_walltime_text(spec.resources.time_text));
  } else {
    return fail(fmt::format("stage {} has no resources.time to multiply", spec.name));
  }
  if (seconds <= 0) return fail(fmt::format("stage {} has a zero resources.time", spec.name));
  const std::string before =
      spec.resources.time_text.empty() ? format_walltime_text(seconds) : spec.resources.time_text;
  const std::string after = format_walltime_text(seconds * factor);
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

}  // namespace

std::optional<std::string> canonical_fix(std::string_view cell) {
  std::string fix = lower_words(cell);
  if (fix.empty() || fix == "—" || fix == "-" || fix == "none" || fix == "escalate" || fix == "destructive") {
    return std::string();
  }
  if (fix == "resubmit" || fix == "exclude node") return fix;
  if (const auto s = scaling(fix)) return fmt::format("{} x{}", s->first, s->second);
  return std::nullopt;
}

Expected<FixResult> plan_fix(std::string_view fix, const doc::StageSpec& spec) {
  const auto canonical = canonical_fix(fix);
  if (!canonical) return fail(fmt::format("unknown auto-fix \"{}\"", fix));
  if (canonical->empty()) return fail(fmt::format("\"{}\" is not an automatic fix", fix));
  if (spec.name.empty()) return fail("the stage has no name to address its spec");
  if (*canonical == "resubmit") return FixResult{{}, "resubmit unchanged"};
  // Nothing in a stage spec names nodes; the scheduler backend avoids the failed node.
  if (*canonical == "exclude node") return FixResult{{}, "resubmit; the failed node is not recorded"};
  const auto s = scaling(*canonical);
  if (s->first == "walltime") return plan_walltime(spec, s->second);
  return plan_mem(spec, s->second);
}

Expected<std::int64_t> parse_walltime_text(std::string_view text) {
  return parse::parse_walltime(text);
}

std::string format_walltime_text(std::int64_t seconds) {
  return parse::format_walltime(seconds);
}

}  // namespace cairn::catalog

#include <cairn/util/suggest.hpp>

#include <algorithm>
#include <cctype>

namespace cairn::util {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic programme: the swap looks two rows back.
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::size_t typo_budget(std::string_view name) {
  if (name.size() <= 4) return 1;
  if (name.size() <= 8) return 2;
  return 3;
}

namespace {

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

template <class Name>
std::optional<std::string> closest_of(std::string_view name, std::span<const Name> known) {
  if (name.empty()) return std::nullopt;
  std::optional<std::string> best;
  std::size_t best_distance = typo_budget(name) + 1;
  for (const auto& k : known) {
    const std::string_view candidate(k);
    if (candidate == name) return std::nullopt;
    const std::size_t d = same_ignoring_case(candidate, name) ? 0 : edit_distance(name, candidate);
    // A one-character name is a typo of nothing in particular.
    if (d < best_distance && d < candidate.size()) {
      best_distance = d;
      best = std::string(candidate);
    }
  }
  return best;
}

}  // namespace

std::optional<std::string> closest(std::string_view name, std::span<const std::string> known) {
  return closest_of(name, known);
}
std::optional<std::string> closest(std::string_view name, std::span<const std::string_view> known) {
  return closest_of(name, known);
}

std::string did_you_mean(std::string_view name, std::span<const std::string> known) {
  const auto c = closest(name, known);
  return c ? "; did you mean `" + *c + "`?" : "";
}
std::string did_you_mean(std::string_view name, std::span<const std::string_view> known) {
  const auto c = closest(name, known);
  return c ? "; did you mean `" + *c + "`?" : "";
}

}  // namespace cairn::util

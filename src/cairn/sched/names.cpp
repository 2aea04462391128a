#include <cairn/sched/names.hpp>

#include <cstdint>
#include <cstdio>

namespace cairn::sched {

namespace {

constexpr std::size_t kMax = 63;
constexpr std::size_t kPrefix = 54;  // + '-' + 8 hex digits = 63

std::string hash_hex(std::string_view text) {
  std::uint32_t h = 2166136261u;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", h);
  return hex;
}

bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// `out` cut to `n` characters, without the non-alphanumeric characters at its ends.
std::string trimmed(std::string out, std::size_t n) {
  if (out.size() > n) out.resize(n);
  while (!out.empty() && !alnum(out.back())) out.pop_back();
  std::size_t lead = 0;
  while (lead < out.size() && !alnum(out[lead])) ++lead;
  return out.substr(lead);
}

}  // namespace

std::string dns_label(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (alnum(c)) {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > kMax) {
    out = trimmed(out, kPrefix);
    out += (out.empty() ? "" : "-") + hash_hex(key);
  }
  return out.empty() ? "cairn" : out;
}

std::string label_value(std::string_view key) {
  std::string out;
  bool valid = !key.empty() && key.size() <= kMax && alnum(key.front()) && alnum(key.back());
  for (char c : key) {
    const bool ok = alnum(c) || c == '.' || c == '_' || c == '-';
    valid = valid && ok;
    out += ok ? c : '-';
  }
  if (valid) return out;
  out = trimmed(out, kPrefix);
  return out + (out.empty() ? "" : "-") + hash_hex(key);
}

std::string osmo_workflow_name(std::string_view key) {
  constexpr std::size_t kReadable = 45;  // + '-' + 8 hex digits = 54, room for "-<counter>"
  std::string out = trimmed(dns_label(key), kReadable);
  // OSMO names begin with a letter.
  if (out.empty() || !(out.front() >= 'a' && out.front() <= 'z')) out = trimmed("cairn-" + out, kReadable);
  return out + "-" + hash_hex(key);
}

}  // namespace cairn::sched

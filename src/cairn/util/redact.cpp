#include <cairn/util/redact.hpp>

#include <array>
#include <cctype>
#include <string_view>

namespace cairn::util {

namespace {

constexpr std::string_view kMask = "[REDACTED]";

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/' ||
         c == '+' || c == '=' || c == '~';
}

bool iequal_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  }
  return true;
}

// Masks the run of token characters starting at `pos` (after optional spaces/quotes).
std::size_t mask_value(std::string& out, std::string_view text, std::size_t pos) {
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '"' || text[pos] == '\'')) {
    out += text[pos++];
  }
  const std::size_t start = pos;
  while (pos < text.size() && is_token_char(text[pos])) ++pos;
  if (pos > start) out += kMask;
  return pos;
}

}  // namespace

std::string redact(std::string_view text) {
  // Prefixes after which the value up to the next separator is a secret. Lower case.
  static constexpr std::array<std::string_view, 13> kKeyed = {"authorization: bearer",
                                                              "authorization: basic",
                                                              "authorization: token",
                                                              "authorization:",
                                                              "private-token:",
                                                              "job-token:",
                                                              "bearer ",
                                                              "password=",
                                                              "passwd=",
                                                              "secret=",
                                                              "token=",
                                                              "api_key=",
                                                              "apikey="};
  static constexpr std::array<std::string_view, 7> kPrefixed = {"ghp_",        "gho_",   "ghs_", "ghu_",
                                                                "github_pat_", "glpat-", "AKIA"};

  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool matched = false;
    for (auto key : kKeyed) {
      if (iequal_at(text, i, key)) {
        out.append(text.substr(i, key.size()));
        i = mask_value(out, text, i + key.size());
        matched = true;
        break;
      }
    }
    if (matched) continue;
    const bool at_word_start = i == 0 || !is_token_char(text[i - 1]);
    if (at_word_start) {
      for (auto prefix : kPrefixed) {
        if (text.substr(i, prefix.size()) == prefix) {
          std::size_t end = i + prefix.size();
          while (end < text.size() && is_token_char(text[end])) ++end;
          if (end - i >= prefix.size() + 8) {
            out += kMask;
            i = end;
            matched = true;
          }
          break;
        }
      }
      if (matched) continue;
    }
    // scheme://user:password@host
    if (text.substr(i, 3) == "://") {
      const std::size_t at = text.find('@', i + 3);
      const std::size_t colon = text.find(':', i + 3);
      const std::size_t stop = text.find_first_of(" /\t\n", i + 3);
      if (at != std::string_view::npos && colon != std::string_view::npos && colon < at &&
          (stop == std::string_view::npos || at < stop)) {
        out.append(text.substr(i, colon + 1 - i));
        out += kMask;
        i = at;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

}  // namespace cairn::util

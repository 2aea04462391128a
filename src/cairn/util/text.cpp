#include <cairn/util/text.hpp>

#include <algorithm>
#include <cctype>

namespace cairn::util {

namespace {

bool continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The length of an ANSI CSI sequence (ESC [ params final) starting at `i`, else 0.
std::size_t escape_length(std::string_view s, std::size_t i) {
  if (s[i] != '\x1b' || i + 1 >= s.size() || s[i + 1] != '[') return 0;
  std::size_t j = i + 2;
  while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == ';')) ++j;
  return j < s.size() ? j - i + 1 : 0;
}

}  // namespace

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (const std::size_t esc = escape_length(s, i); esc > 0) {
      i += esc - 1;
      continue;
    }
    if (!continuation(s[i])) ++n;
  }
  return n;
}

std::string cut_to_width(std::string_view s, std::size_t width) {
  if (display_width(s) <= width) return std::string(s);
  if (width == 0) return "";
  std::string out;
  std::size_t columns = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!continuation(s[i])) {
      if (columns + 1 == width) break;  // the last column is the ellipsis
      ++columns;
    }
    out += s[i];
  }
  return out + "…";
}

std::string appended(std::string_view before, std::string_view now) {
  if (now.substr(0, before.size()) == before) return std::string(now.substr(before.size()));
  // The window moved: `now` picks up at some line start inside `before`.
  for (std::size_t nl = before.find('\n'); nl != std::string_view::npos; nl = before.find('\n', nl + 1)) {
    const std::string_view rest = before.substr(nl + 1);
    if (!rest.empty() && now.substr(0, rest.size()) == rest) return std::string(now.substr(rest.size()));
  }
  return std::string(now);
}

}  // namespace cairn::util

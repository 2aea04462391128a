#include <cairn/parse/frontmatter.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace cairn::parse::fm {

namespace {

bool is_fence(std::string_view line, std::string_view fence) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  return line == fence;
}

// Thrown out of the event parser to stop at the first anchor or alias.
struct AnchorFound {
  YAML::Mark mark;
  bool alias = false;
};

// Thrown when yaml-cpp starts a document where the last one started: on some inputs
// (`,&` as the first token) it never consumes a byte and would loop forever.
struct NoProgress {
  YAML::Mark mark;
};

class AnchorDetector : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& m) override {
    if (m.pos <= m_last_document) throw NoProgress{m};
    m_last_document = m.pos;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t a) override { check(m, a); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { throw AnchorFound{m, true}; }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t a, const std::string&) override {
    check(m, a);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t a,
                       YAML::EmitterStyle::value) override {
    check(m, a);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t a,
                  YAML::EmitterStyle::value) override {
    check(m, a);
  }
  void OnMapEnd() override {}
  void OnAnchor(const YAML::Mark& m, const std::string&) override { throw AnchorFound{m, false}; }

 private:
  static void check(const YAML::Mark& m, YAML::anchor_t a) {
    if (a != YAML::NullAnchor) throw AnchorFound{m, false};
  }
  int m_last_document = -1;
};

std::vector<std::string_view> split_key(std::string_view key) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

struct Found {
  YAML::Node key;
  YAML::Node value;
  bool flow = false;
};

// Walks `parts` from `root`; fails with a message naming the missing part.
Expected<Found> walk(const YAML::Node& root, std::string_view dotted_key) {
  YAML::Node node = root;
  bool flow = false;
  Found found;
  const auto parts = split_key(dotted_key);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!node.IsMap()) {
      return fail(fmt::format("frontmatter key `{}`: `{}` is not a mapping", dotted_key,
                              fmt::join(parts.begin(), parts.begin() + static_cast<std::ptrdiff_t>(i), ".")));
    }
    flow = flow || node.Style() == YAML::EmitterStyle::Flow;
    bool hit = false;
    for (const auto& kv : node) {
      if (kv.first.IsScalar() && kv.first.Scalar() == parts[i]) {
        found.key = kv.first;
        found.value = kv.second;
        hit = true;
        break;
      }
    }
    if (!hit) return fail(fmt::format("frontmatter key `{}` is absent", dotted_key));
    node = found.value;
  }
  found.flow = flow;
  return found;
}

bool plain_stop(std::string_view y, std::size_t i, bool flow) {
  const char c = y[i];
  if (c == '\n' || c == '\r') return true;
  if (c == '#' && i > 0 && (y[i - 1] == ' ' || y[i - 1] == '\t')) return true;
  return flow && (c == ',' || c == '}' || c == ']');
}

Expected<std::size_t> scalar_end(std::string_view y, std::size_t s, bool flow, std::string_view key) {
  if (s >= y.size()) return s;
  const char c = y[s];
  if (c == '"') {
    for (std::size_t j = s + 1; j < y.size(); ++j) {
      if (y[j] == '\\') {
        ++j;
      } else if (y[j] == '"') {
        return j + 1;
      } else if (y[j] == '\n') {
        break;
      }
    }
    return fail(fmt::format("frontmatter key `{}` is not a one-line scalar", key));
  }
  if (c == '\'') {
    for (std::size_t j = s + 1; j < y.size(); ++j) {
      if (y[j] == '\'') {
        if (j + 1 < y.size() && y[j + 1] == '\'') {
          ++j;
          continue;
        }
        return j + 1;
      }
      if (y[j] == '\n') break;
    }
    return fail(fmt::format("frontmatter key `{}` is not a one-line scalar", key));
  }
  if (c == '|' || c == '>') return fail(fmt::format("frontmatter key `{}` is a block scalar", key));
  std::size_t j = s;
  while (j < y.size() && !plain_stop(y, j, flow)) ++j;
  while (j > s && (y[j - 1] == ' ' || y[j - 1] == '\t')) --j;
  return j;
}

bool needs_quotes(std::string_view v, bool flow) {
  if (v.empty()) return true;
  if (v.front() == ' ' || v.back() == ' ' || v.front() == '\t' || v.back() == '\t') return true;
  for (char c : v) {
    if (static_cast<unsigned char>(c) < 0x20) return true;
    if (flow && (c == ',' || c == '[' || c == ']' || c == '{' || c == '}')) return true;
  }
  if (std::string_view("!&*|>'\"%@`{}[],#").find(v.front()) != std::string_view::npos) return true;
  if ((v.front() == '-' || v.front() == '?' || v.front() == ':') && (v.size() == 1 || v[1] == ' '))
    return true;
  if (v.find(": ") != std::string_view::npos || v.find(" #") != std::string_view::npos || v.back() == ':') {
    return true;
  }
  std::string lower(v);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return std::tolower(ch); });
  return lower == "~" || lower == "null";
}

std::string double_quoted(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// --- the fast reader -------------------------------------------------------------

struct Line {
  std::string_view text;  // without the line ending
  int number = 0;
};

bool blank_or_comment(std::string_view l) {
  const std::size_t p = l.find_first_not_of(" \t");
  return p == std::string_view::npos || l[p] == '#';
}

std::size_t indent_of(std::string_view l) {
  std::size_t p = 0;
  while (p < l.size() && l[p] == ' ') ++p;
  return p;
}

class SimpleReader {
 public:
  SimpleReader(std::string_view text, int line, std::size_t pos, bool flow)
      : m_s(text), m_line(line), m_pos(pos), m_flow(flow) {}

  // Reads one value at the current position; false when outside the subset.
  bool value(Value& out) {
    skip_spaces();
    out.line = m_line;
    out.column = static_cast<int>(m_pos);
    if (m_pos >= m_s.size()) return false;
    const char c = m_s[m_pos];
    if (c == '"') return double_quoted(out);
    if (c == '\'') return single_quoted(out);
    if (c == '{') return flow_map(out);
    if (c == '[') return flow_seq(out);
    return plain(out);
  }

  // True when only blanks and an optional ` # comment` remain.
  bool at_end() {
    skip_spaces();
    return m_pos >= m_s.size() ||
           (m_s[m_pos] == '#' && m_pos > 0 && (m_s[m_pos - 1] == ' ' || m_s[m_pos - 1] == '\t'));
  }

  // Reads `key:` (a plain key followed by `: ` or end); false otherwise.
  bool key(std::string& out, int& column) {
    skip_spaces();
    column = static_cast<int>(m_pos);
    const std::size_t b = m_pos;
    while (m_pos < m_s.size()) {
      const char c = m_s[m_pos];
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) break;
      ++m_pos;
    }
    if (m_pos == b || m_pos >= m_s.size() || m_s[m_pos] != ':') return false;
    out.assign(m_s.substr(b, m_pos - b));
    ++m_pos;
    return m_pos >= m_s.size() || m_s[m_pos] == ' ' || m_s[m_pos] == '\t';
  }

  std::size_t pos() const { return m_pos; }

 private:
  void skip_spaces() {
    while (m_pos < m_s.size() && (m_s[m_pos] == ' ' || m_s[m_pos] == '\t')) ++m_pos;
  }

  bool double_quoted(Value& out) {
    out.kind = Value::Kind::scalar;
    for (std::size_t i = m_pos + 1; i < m_s.size(); ++i) {
      const char c = m_s[i];
      if (c == '"') {
        m_pos = i + 1;
        return true;
      }
      if (c != '\\') {
        out.scalar += c;
        continue;
      }
      if (++i >= m_s.size()) return false;
      switch (m_s[i]) {
        case '"': out.scalar += '"'; break;
        case '\\': out.scalar += '\\'; break;
        case '/': out.scalar += '/'; break;
        case 'n': out.scalar += '\n'; break;
        case 't': out.scalar += '\t'; break;
        case 'r': out.scalar += '\r'; break;
        default: return false;
      }
    }
    return false;
  }

  bool single_quoted(Value& out) {
    out.kind = Value::Kind::scalar;
    for (std::size_t i = m_pos + 1; i < m_s.size(); ++i) {
      if (m_s[i] != '\'') {
        out.scalar += m_s[i];
      } else if (i + 1 < m_s.size() && m_s[i + 1] == '\'') {
        out.scalar += '\'';
        ++i;
      } else {
        m_pos = i + 1;
        return true;
      }
    }
    return false;
  }

  bool plain(Value& out) {
    const char c = m_s[m_pos];
    if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(c) != std::string_view::npos) return false;
    const std::size_t b = m_pos;
    std::size_t e = b;
    while (e < m_s.size()) {
      const char d = m_s[e];
      if (d == '#' && (m_s[e - 1] == ' ' || m_s[e - 1] == '\t')) break;
      if (d == ':' && (e + 1 == m_s.size() || m_s[e + 1] == ' ' || m_s[e + 1] == '\t')) return false;
      if (m_flow && (d == ',' || d == '}' || d == ']' || d == '[' || d == '{')) break;
      ++e;
    }
    m_pos = e;
    while (e > b && (m_s[e - 1] == ' ' || m_s[e - 1] == '\t')) --e;
    const std::string_view v = m_s.substr(b, e - b);
    if (v.empty()) return false;
    if (v == "~" || v == "null" || v == "Null" || v == "NULL") {
      out.kind = Value::Kind::null;
    } else {
      out.kind = Value::Kind::scalar;
      out.scalar.assign(v);
    }
    return true;
  }

  bool flow_map(Value& out) {
    out.kind = Value::Kind::map;
    out.map.reserve(4);  // `resources: {time, cpus, mem, gpus}`: saves the growth copies
    ++m_pos;
    SimpleReader inner(m_s, m_line, m_pos, true);
    while (true) {
      inner.skip_spaces();
      if (inner.m_pos < m_s.size() && m_s[inner.m_pos] == '}' && out.map.empty()) break;
      std::string k;
      int column = 0;
      if (!inner.key(k, column)) return false;
      Value v;
      if (!inner.value(v)) return false;
      v.key_line = m_line;
      v.key_column = column;
      out.map.emplace_back(std::move(k), std::move(v));
      inner.skip_spaces();
      if (inner.m_pos >= m_s.size()) return false;
      if (m_s[inner.m_pos] == ',') {
        ++inner.m_pos;
        continue;
      }
      if (m_s[inner.m_pos] == '}') break;
      return false;
    }
    m_pos = inner.m_pos + 1;
    return true;
  }

  bool flow_seq(Value& out) {
    out.kind = Value::Kind::seq;
    ++m_pos;
    SimpleReader inner(m_s, m_line, m_pos, true);
    while (true) {
      inner.skip_spaces();
      if (inner.m_pos < m_s.size() && m_s[inner.m_pos] == ']' && out.seq.empty()) break;
      Value v;
      if (!inner.value(v)) return false;
      out.seq.push_back(std::move(v));
      inner.skip_spaces();
      if (inner.m_pos >= m_s.size()) return false;
      if (m_s[inner.m_pos] == ',') {
        ++inner.m_pos;
        continue;
      }
      if (m_s[inner.m_pos] == ']') break;
      return false;
    }
    m_pos = inner.m_pos + 1;
    return true;
  }

  std::string_view m_s;
  int m_line;
  std::size_t m_pos;
  bool m_flow;
};

// `key: value` on one line starting at byte `from`; false outside the subset.
bool key_value(const Line& l, std::size_t from, std::string& key, Value& value, bool& has_value,
               int& key_column) {
  SimpleReader r(l.text, l.number, from, false);
  if (!r.key(key, key_column)) return false;
  if (r.at_end()) {
    has_value = false;
    value = Value{};
    value.line = l.number;
    value.column = static_cast<int>(r.pos());
  } else {
    has_value = true;
    if (!r.value(value) || !r.at_end()) return false;
  }
  value.key_line = l.number;
  value.key_column = key_column;
  return true;
}

bool has_key(const Value& map, const std::string& key) {
  for (const auto& kv : map.map) {
    if (kv.first == key) return true;
  }
  return false;
}

// The first line after `i` that is neither blank nor deeper than `indent`.
std::size_t block_end(const std::vector<Line>& lines, std::size_t i, std::size_t last, std::size_t indent) {
  std::size_t j = i + 1;
  while (j < last && (blank_or_comment(lines[j].text) || indent_of(lines[j].text) > indent)) ++j;
  return j;
}

// The block lines [first, last) under a key: a map (nested maps allowed) or a list of
// scalars / small maps. `out` stays null when they are all blank.
bool block(const std::vector<Line>& lines, std::size_t first, std::size_t last, Value& out) {
  while (first < last && blank_or_comment(lines[first].text)) ++first;
  if (first == last) return true;  // `key:` with nothing below: null
  const std::size_t d = indent_of(lines[first].text);
  const bool is_seq = lines[first].text.substr(d, 2) == "- " || lines[first].text.substr(d) == "-";
  out.kind = is_seq ? Value::Kind::seq : Value::Kind::map;
  // Every entry starts a line at indent `d`: sizing the vector exactly saves the growth
  // copies without asking malloc for more than the entries need.
  std::size_t entries = 0;
  for (std::size_t i = first; i < last; ++i) {
    if (!blank_or_comment(lines[i].text) && indent_of(lines[i].text) == d) ++entries;
  }
  if (is_seq) {
    out.seq.reserve(entries);
  } else {
    out.map.reserve(entries);
  }
  out.line = lines[first].number;
  out.column = static_cast<int>(d);
  for (std::size_t i = first; i < last; ++i) {
    const Line& l = lines[i];
    if (blank_or_comment(l.text)) continue;
    const std::size_t ind = indent_of(l.text);
    if (l.text.find('\t') != std::string_view::npos && l.text.find('\t') < ind + 1) return false;
    std::string key;
    Value v;
    bool has_value = false;
    int column = 0;
    if (!is_seq) {
      if (ind != d || !key_value(l, d, key, v, has_value, column) || has_key(out, key)) return false;
      if (!has_value) {
        const std::size_t j = block_end(lines, i, last, d);
        if (!block(lines, i + 1, j, v)) return false;
        i = j - 1;
      }
      out.map.emplace_back(std::move(key), std::move(v));
      continue;
    }
    if (ind == d) {
      if (l.text.substr(d, 2) != "- ") return false;
      // `- key: value` opens a map item; `- value` is a scalar/flow item.
      Value item;
      item.line = l.number;
      item.column = static_cast<int>(d + 2);
      if (key_value(l, d + 2, key, v, has_value, column)) {
        if (!has_value) return false;
        item.kind = Value::Kind::map;
        item.map.emplace_back(std::move(key), std::move(v));
      } else {
        SimpleReader r(l.text, l.number, d + 2, false);
        if (!r.value(item) || !r.at_end()) return false;
      }
      out.seq.push_back(std::move(item));
    } else if (ind == d + 2 && !out.seq.empty() && out.seq.back().kind == Value::Kind::map) {
      if (!key_value(l, ind, key, v, has_value, column) || !has_value || has_key(out.seq.back(), key))
        return false;
      out.seq.back().map.emplace_back(std::move(key), std::move(v));
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

Expected<Bounds> locate(std::string_view text, const md::LineIndex& lines, int* line) {
  *line = 0;
  if (lines.count() == 0 || !is_fence(lines.line(text, 0), "---")) {
    return fail("no frontmatter: the file must start with a `---` line");
  }
  for (int i = 1; i < lines.count(); ++i) {
    const std::string_view l = lines.line(text, i);
    if (is_fence(l, "---") || is_fence(l, "...")) {
      return Bounds{0, i, lines.begin(1), lines.begin(i)};
    }
  }
  return fail("unterminated frontmatter: no closing `---` line");
}

std::optional<YamlPosition> find_anchor_or_error(std::string_view yaml) {
  if (yaml.find_first_of("&*") == std::string_view::npos) return std::nullopt;
  std::istringstream in{std::string(yaml)};
  AnchorDetector detector;
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(detector)) {
    }
  } catch (const AnchorFound& f) {
    return YamlPosition{
        f.mark.line, f.mark.column,
        f.alias ? "YAML aliases are not allowed in the frontmatter (they can expand without bound)"
                : "YAML anchors are not allowed in the frontmatter (aliases can expand without bound)"};
  } catch (const NoProgress& n) {
    return YamlPosition{n.mark.line, n.mark.column, "invalid YAML: a mapping key must come first here"};
  } catch (const YAML::Exception& e) {
    return YamlPosition{e.mark.line, e.mark.column, "invalid YAML: " + e.msg};
  }
  return std::nullopt;
}

namespace {

// The value of `dotted_key` in a read_simple() tree, or nullptr; `flow` says whether it
// sits inside a flow collection (a map whose text starts with `{`).
const Value* walk_simple(const Value& root, std::string_view yaml, std::string_view dotted_key, bool* flow) {
  const Value* node = &root;
  *flow = false;
  for (const auto& part : split_key(dotted_key)) {
    if (node->kind != Value::Kind::map) return nullptr;
    if (node != &root) {
      std::size_t at = 0;
      for (int l = 0; l < node->line; ++l) {
        at = yaml.find('\n', at);
        if (at == std::string_view::npos) return nullptr;
        ++at;
      }
      at += static_cast<std::size_t>(node->column);
      if (at >= yaml.size()) return nullptr;
      *flow = *flow || yaml[at] == '{';
    }
    const Value* next = node->find(part);
    if (next == nullptr) return nullptr;
    node = next;
  }
  return node;
}

// locate_scalar() for YAML within read_simple()'s subset and a key whose value is a
// non-empty scalar; nullopt otherwise (the caller asks yaml-cpp, ~150 ns a byte).
std::optional<ScalarSpan> locate_simple(const std::string& yaml, std::string_view dotted_key) {
  const auto root = read_simple(yaml);
  if (!root) return std::nullopt;
  bool flow = false;
  const Value* v = walk_simple(*root, yaml, dotted_key, &flow);
  if (v == nullptr || v->kind != Value::Kind::scalar) return std::nullopt;
  std::size_t start = 0;
  for (int l = 0; l < v->line; ++l) {
    start = yaml.find('\n', start);
    if (start == std::string::npos) return std::nullopt;
    ++start;
  }
  start += static_cast<std::size_t>(v->column);
  if (start >= yaml.size()) return std::nullopt;
  auto end = scalar_end(yaml, start, flow, dotted_key);
  if (!end) return std::nullopt;
  ScalarSpan span;
  span.flow = flow;
  span.begin = start;
  span.end = *end;
  span.quote = (yaml[start] == '"' || yaml[start] == '\'') ? yaml[start] : 0;
  return span;
}

}  // namespace

bool lacks_top_level_key(const std::string& yaml, std::string_view key) {
  if (const auto root = read_simple(yaml); root && root->kind == Value::Kind::map && !root->map.empty()) {
    return root->find(key) == nullptr;
  }
  try {
    const YAML::Node root = YAML::Load(yaml);
    if (!root.IsMap()) return false;
    for (const auto& kv : root) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return false;
    }
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

Expected<ScalarSpan> locate_scalar(const std::string& yaml, std::string_view dotted_key) {
  if (auto fast = locate_simple(yaml, dotted_key)) return *fast;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return fail(fmt::format("frontmatter does not parse: {}", e.msg));
  }
  Found f = CAIRN_TRY(walk(root, dotted_key));
  if (f.value.IsMap() || f.value.IsSequence()) {
    return fail(fmt::format("frontmatter key `{}` is not a scalar", dotted_key));
  }
  const std::string_view y = yaml;
  ScalarSpan span;
  span.flow = f.flow;
  std::size_t start = 0;
  if (f.value.IsScalar() && !f.value.Mark().is_null()) {
    start = static_cast<std::size_t>(f.value.Mark().pos);
  } else {
    // An empty value's mark points at the next token, so find the `:` after the key.
    std::size_t k = static_cast<std::size_t>(f.key.Mark().pos);
    if (k < y.size() && (y[k] == '"' || y[k] == '\'')) {
      k = CAIRN_TRY(scalar_end(y, k, f.flow, dotted_key));
    }
    while (k < y.size() &&
           !(y[k] == ':' &&
             (k + 1 == y.size() || std::string_view(" \t\r\n,}").find(y[k + 1]) != std::string_view::npos))) {
      ++k;
    }
    if (k >= y.size()) return fail(fmt::format("frontmatter key `{}`: cannot find its `:`", dotted_key));
    std::size_t p = k + 1;
    while (p < y.size() && (y[p] == ' ' || y[p] == '\t')) ++p;
    if (p >= y.size() || y[p] == '#' || y[p] == '\r' || y[p] == '\n' ||
        (f.flow && (y[p] == ',' || y[p] == '}'))) {
      span.begin = span.end = k + 1;
      span.insert = true;
      return span;
    }
    start = p;
  }
  if (start >= y.size()) return fail(fmt::format("frontmatter key `{}`: value out of range", dotted_key));
  span.begin = start;
  span.end = CAIRN_TRY(scalar_end(y, start, f.flow, dotted_key));
  span.quote = (y[start] == '"' || y[start] == '\'') ? y[start] : 0;
  return span;
}

std::string render_scalar(std::string_view value, const ScalarSpan& span) {
  const bool control =
      std::any_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
  if (span.quote == '\'' && !control) {
    std::string out = "'";
    for (char c : value) {
      out += c;
      if (c == '\'') out += '\'';
    }
    return out + "'";
  }
  if (span.quote == '"' || needs_quotes(value, span.flow)) return double_quoted(value);
  return std::string(value);
}

std::optional<Value> read_simple(std::string_view yaml) {
  std::vector<Line> lines;
  lines.reserve(static_cast<std::size_t>(std::count(yaml.begin(), yaml.end(), '\n')) + 1);
  std::size_t pos = 0;
  int number = 0;
  while (pos < yaml.size()) {
    std::size_t nl = yaml.find('\n', pos);
    if (nl == std::string_view::npos) nl = yaml.size();
    std::size_t end = nl;
    if (end > pos && yaml[end - 1] == '\r') --end;
    lines.push_back({yaml.substr(pos, end - pos), number++});
    pos = nl + 1;
  }
  std::size_t first = 0;
  while (first < lines.size() && blank_or_comment(lines[first].text)) ++first;
  if (first < lines.size() && (indent_of(lines[first].text) != 0 || lines[first].text[0] == '\t'))
    return std::nullopt;
  Value root;
  if (!block(lines, 0, lines.size(), root)) return std::nullopt;
  if (root.kind == Value::Kind::seq) return std::nullopt;
  if (root.kind == Value::Kind::null) root.kind = Value::Kind::map;
  return root;
}

Value::Value() = default;
Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;
Value::~Value() = default;

const Value* Value::find(std::string_view key) const {
  for (const auto& kv : map) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

Value to_value(const YAML::Node& node) {
  Value v;
  const YAML::Mark m = node.Mark();
  if (!m.is_null()) {
    v.line = m.line;
    v.column = m.column;
  }
  if (node.IsScalar()) {
    v.kind = Value::Kind::scalar;
    v.scalar = node.Scalar();
  } else if (node.IsMap()) {
    v.kind = Value::Kind::map;
    for (const auto& kv : node) {
      Value child = to_value(kv.second);
      if (const YAML::Mark k = kv.first.Mark(); !k.is_null()) {
        child.key_line = k.line;
        child.key_column = k.column;
      }
      v.map.emplace_back(kv.first.IsScalar() ? kv.first.Scalar() : std::string(), std::move(child));
    }
  } else if (node.IsSequence()) {
    v.kind = Value::Kind::seq;
    for (const auto& item : node) v.seq.push_back(to_value(item));
  }
  return v;
}

std::optional<bool> to_bool(std::string_view s) {
  static constexpr std::string_view kTrue[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                               "True", "TRUE", "on",  "On",  "ON"};
  static constexpr std::string_view kFalse[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                                "False", "FALSE", "off", "Off", "OFF"};
  for (auto t : kTrue) {
    if (s == t) return true;
  }
  for (auto f : kFalse) {
    if (s == f) return false;
  }
  return std::nullopt;
}

std::optional<double> to_double(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double d = 0;
  const char* b = s.data();
  if (*b == '+') ++b;
  const auto [ptr, ec] = std::from_chars(b, s.data() + s.size(), d);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

std::optional<std::string> read_scalar(const std::string& yaml, std::string_view dotted_key) {
  if (const auto root = read_simple(yaml)) {
    bool flow = false;
    const Value* v = walk_simple(*root, yaml, dotted_key, &flow);
    if (v == nullptr || !(v->kind == Value::Kind::scalar || v->kind == Value::Kind::null))
      return std::nullopt;
    return v->kind == Value::Kind::null ? std::string() : v->scalar;
  }
  try {
    const YAML::Node root = YAML::Load(yaml);
    auto f = walk(root, dotted_key);
    if (!f || !(f->value.IsScalar() || f->value.IsNull())) return std::nullopt;
    return f->value.IsNull() ? std::string() : f->value.Scalar();
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

}  // namespace cairn::parse::fm

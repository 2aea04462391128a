#pragma once

// The YAML frontmatter of a WORKFLOW.md: locating it between `---` lines, refusing
// anchors and aliases before any node is built, and locating one scalar's bytes so it
// can be rewritten in place (keeping its quoting style and trailing comment).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/node/node.h>

#include <cairn/parse/markdown.hpp>
#include <cairn/util/expected.hpp>

namespace cairn::parse::fm {

// The frontmatter's place in the file (0-based lines).
struct Bounds {
  int open_line = 0;           // the opening `---`
  int close_line = 0;          // the closing `---` (or `...`)
  std::size_t yaml_begin = 0;  // first byte of the YAML text (start of open_line + 1)
  std::size_t yaml_end = 0;    // first byte of close_line
};

// Finds the frontmatter. Fails (message only; the caller adds path:line:col) when the
// first line is not `---` or no closing `---` follows. `line` receives the 0-based line
// the failure refers to.
Expected<Bounds> locate(std::string_view text, const md::LineIndex& lines, int* line);

// A YAML position inside the frontmatter, as yaml-cpp reports it (0-based).
struct YamlPosition {
  int line = 0;
  int column = 0;
  std::string message;
};

// Scans `yaml` with yaml-cpp's event parser (no nodes are built) and returns the
// first anchor or alias, or the syntax error yaml-cpp reports; nullopt when the text
// is plain YAML. Cheap for texts without `&`/`*`: they are not scanned at all.
std::optional<YamlPosition> find_anchor_or_error(std::string_view yaml);

// The bytes of one scalar value inside the YAML text.
struct ScalarSpan {
  std::size_t begin = 0;  // offset in the YAML text
  std::size_t end = 0;
  char quote = 0;       // '"', '\'' or 0 for plain
  bool flow = false;    // inside a `{...}`/`[...]` collection
  bool insert = false;  // the key has no value yet: write " value" at `begin`
};

// Locates the value of `dotted_key` (`budget.spent_usd`) in `yaml`. Fails when the
// YAML does not parse, the key is absent, or its value is not a one-line scalar.
Expected<ScalarSpan> locate_scalar(const std::string& yaml, std::string_view dotted_key);

// Whether `yaml` parses and its top-level mapping has no key `key`.
bool lacks_top_level_key(const std::string& yaml, std::string_view key);

// Renders `value` for a scalar written in the style `span` describes: the same quotes,
// or plain unless YAML would misread it (then double-quoted).
std::string render_scalar(std::string_view value, const ScalarSpan& span);

// A YAML value as cairn reads it: the frontmatter's fields without yaml-cpp's node
// machinery (cheap to build, cheap to walk).
struct Value {
  enum class Kind { null, scalar, map, seq };
  Kind kind = Kind::null;
  std::string scalar;
  std::vector<std::pair<std::string, Value>> map;
  std::vector<Value> seq;
  int line = 0;    // 0-based line in the YAML text
  int column = 0;  // 0-based byte column
  // Where the key of this value is, for a value inside a map (else -1): diagnostics
  // about an entry point at its key, since an empty value has no place of its own.
  int key_line = -1;
  int key_column = -1;

  // The value of `key` in a map, or nullptr.
  const Value* find(std::string_view key) const;

  // Defined where Value is complete: clang with libstdc++ 12 rejects the implicit ones
  // (they need std::pair<std::string, Value> complete inside Value's own definition).
  Value();
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;
  ~Value();
};

// Reads `yaml` (the root: a map) when it stays within the plain subset cairn writes:
// nested block maps, flow `{}`/`[]` of scalars, lists of scalars or small maps,
// comments. Returns nullopt for anything else -- anchors, tags, block scalars,
// multi-line values, odd indentation, duplicate keys -- and the caller falls back to
// yaml-cpp, which then also reports any syntax error. yaml-cpp's scanner costs ~150 ns
// a byte; this reader a few.
std::optional<Value> read_simple(std::string_view yaml);

// Converts a yaml-cpp node (with its marks) to a Value.
Value to_value(const YAML::Node& node);

// YAML 1.1/yaml-cpp booleans (`true`, `no`, `On`...); nullopt when not a boolean.
std::optional<bool> to_bool(std::string_view s);
// A number as yaml-cpp's as<double> reads the common forms; nullopt otherwise.
std::optional<double> to_double(std::string_view s);

// Reads the value of `dotted_key` back, for checking an edit; nullopt when absent.
std::optional<std::string> read_scalar(const std::string& yaml, std::string_view dotted_key);

}  // namespace cairn::parse::fm

#pragma once

// Files shipped inside the binary (templates/, catalogs/, hooks/, ci/ templates),
// generated at build time by cmake/embed.cmake.

#include <optional>
#include <string_view>
#include <vector>

namespace cairn::resources {

struct Resource {
  std::string_view path;  // relative to the project root, e.g. "templates/cairn.yaml"
  std::string_view bytes;
};

const std::vector<Resource>& all();

// The resource at `path`, or nullopt.
inline std::optional<std::string_view> get(std::string_view path) {
  for (const auto& r : all()) {
    if (r.path == path) return r.bytes;
  }
  return std::nullopt;
}

}  // namespace cairn::resources

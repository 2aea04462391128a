#pragma once

// Plain-text tables for humans: columns padded to their widest cell.

#include <string>
#include <vector>

namespace cairn::cli {

// Renders `rows` under `header`, two spaces between columns, widths in code points.
std::string render_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace cairn::cli

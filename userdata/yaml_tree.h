// A YAML document loaded with libyaml into a small tree whose nodes remember
// their line and column, so errors about cloud-config can point at the line.
// Loading is bounded (depth, node count) so hostile input cannot exhaust the
// stack or memory; aliases share their anchor's node and are never expanded.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/base.h"

namespace userdata {

struct YamlNode {
  enum class Kind { kScalar, kSequence, kMapping };
  Kind kind = Kind::kScalar;
  std::size_t line = 0, column = 0;  ///< 1-based, of the node's first character
  std::string value;                 ///< scalars: the text
  bool plain = false;                ///< scalars: written without quotes (so `true`, `~`, `12` are typed)
  std::vector<std::shared_ptr<const YamlNode>> items;  ///< sequences
  std::vector<std::pair<std::shared_ptr<const YamlNode>, std::shared_ptr<const YamlNode>>> entries;  ///< mappings

  /// "line 3, column 5".
  std::string Where() const;
  /// A plain scalar that YAML reads as null: empty, `~`, `null`.
  bool IsNull() const;
};

using YamlRef = std::shared_ptr<const YamlNode>;

/// Deepest nesting and most nodes one document may have; cloud-configs have a few hundred nodes.
inline constexpr std::size_t kMaxYamlDepth = 64;
inline constexpr std::size_t kMaxYamlNodes = 100000;

/// Loads the single document in `text`. An empty stream gives a null scalar.
/// Errors are kUsage and name the line and column libyaml stopped at.
[[nodiscard]] base::Result<YamlRef> LoadYaml(std::string_view text);

}  // namespace userdata

#pragma once
// Where a value sits in the policy text. Boost.JSON values carry no positions,
// so a small scanner walks the (already accepted) text a second time and
// reports the line and column of the value at a given JSON path.
//
// Paths are written like "roles[0].simple_urls.meet[2]"; a key that is not a
// plain identifier is written ["like this"]. Columns count characters
// (UTF-8 code points), both line and column start at 1.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent::policy {

struct Position {
  int line = 1;
  int column = 1;
  friend bool operator==(const Position&, const Position&) = default;
};

// Path building, shared by the scanner and the policy reader so both agree.
[[nodiscard]] std::string member_path(std::string_view parent, std::string_view key);
[[nodiscard]] std::string element_path(std::string_view parent, std::size_t index);
// "(top level)" for the root, the path otherwise.
[[nodiscard]] std::string display_path(std::string_view path);

// The position of byte `offset` of `text` (clamped to the end).
[[nodiscard]] Position position_at(std::string_view text, std::size_t offset);

// "FILE:LINE:COLUMN: message", control characters in the message escaped (\n, \xNN).
[[nodiscard]] std::string located(std::string_view file, Position pos, std::string_view message);

enum class Anchor { Value, Key };

// Where the value (or, for an object member, its key) at `path` starts in
// `text`; nullopt when the path is not in the text. `text` must be JSON that
// Boost.JSON accepted with comments and trailing commas allowed.
[[nodiscard]] std::optional<Position> find_position(std::string_view text, std::string_view path,
                                                    Anchor anchor = Anchor::Value);

// Boost.JSON keeps the last of duplicate keys silently; a policy must not be
// ambiguous, so the first duplicate key is reported ("FILE:L:C: ...").
[[nodiscard]] Result<void> check_duplicate_keys(std::string_view text, std::string_view file);

}  // namespace certagent::policy

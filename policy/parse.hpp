#pragma once
// The policy file's text to a validated Policy. Pure: the caller reads the
// file; `file` is used only in messages. Every error, syntax or semantic, is
// one line "FILE:LINE:COLUMN: PATH: what is wrong; how to fix it".
#include <string_view>

#include "common/error.hpp"
#include "policy/model.hpp"

namespace certagent::policy {

[[nodiscard]] Result<Policy> parse_policy(std::string_view text, std::string_view file);

}  // namespace certagent::policy

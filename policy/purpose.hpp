#pragma once
// The purposes a certificate can be bound to, with Lync's names.
#include <optional>
#include <string_view>

namespace certagent::policy {

// Lync's three certificate uses (Get-CsCertificate's "Use" column). Non-Lync
// services name their purposes freely in the generic policy form; these three
// are the ones the Lync presets use.
enum class LyncPurpose { Default, WebServicesInternal, WebServicesExternal };

[[nodiscard]] std::string_view to_string(LyncPurpose p);
// Case-insensitive, as the cmdlets accept it.
[[nodiscard]] std::optional<LyncPurpose> parse_lync_purpose(std::string_view s);

}  // namespace certagent::policy

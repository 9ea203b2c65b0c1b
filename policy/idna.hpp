#pragma once
// The A-label (xn--) form of an internationalised name, for error messages: a policy must spell
// such names in A-label form, and the message tells the user what to write. libidn2 computes it:
// IDNA2008 with UTS #46 non-transitional mapping (IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL), so
// upper-case and non-NFC input map as a browser or resolver would ("BÜCHER.example" ->
// "xn--bcher-kva.example", "straße.de" -> "xn--strae-oqa.de"). Pure: no I/O.
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent::policy {

// Invalid, with libidn2's reason, when the text is not UTF-8 or the name has no IDNA2008 form.
// A leading "*." (wildcard) is kept as it is.
[[nodiscard]] Result<std::string> to_a_label_form(std::string_view unicode_name);

}  // namespace certagent::policy

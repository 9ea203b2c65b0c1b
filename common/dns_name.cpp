#include "common/dns_name.hpp"

#include "common/escape.hpp"
#include "common/text.hpp"

#include <cctype>

namespace certagent {
namespace {

bool is_ldh(unsigned char c) { return std::isalnum(c) || c == '-'; }

// Names reach messages escaped: they may come from a CA or a hostile policy.
std::string quoted(std::string_view name) { return "'" + escape_control(name, 300) + "'"; }

Result<void> check_label(const std::string& name, std::string_view label, size_t label_no) {
  if (label.empty()) return fail(ErrorKind::Invalid, "DNS name " + quoted(name) + " has an empty label");
  if (label.size() > 63)
    return fail(ErrorKind::Invalid, "DNS name " + quoted(name) + " has a label of " +
                                        std::to_string(label.size()) + " octets (at most 63)");
  if (label == "*") {
    if (label_no != 0)
      return fail(ErrorKind::Invalid,
                  "DNS name " + quoted(name) + ": a wildcard may only be the whole left-most label");
    return ok();
  }
  for (unsigned char c : label) {
    if (c >= 0x80)
      return fail(ErrorKind::Invalid,
                  "DNS name " + quoted(name) +
                      " is not ASCII: write internationalised names in their A-label form (xn--...)");
    if (!is_ldh(c))
      return fail(ErrorKind::Invalid, "DNS name " + quoted(name) + " contains '" +
                                          escape_control(std::string(1, static_cast<char>(c))) +
                                          "' (only letters, digits, hyphens and dots are allowed)");
  }
  if (label.front() == '-' || label.back() == '-')
    return fail(ErrorKind::Invalid,
                "DNS name " + quoted(name) + " has a label that starts or ends with a hyphen");
  return ok();
}

}  // namespace

Result<std::string> normalize_dns_name(std::string_view in) {
  std::string name = canonical_dns_name(in);
  if (name.empty()) return fail(ErrorKind::Invalid, "empty DNS name");
  if (name.size() > 253)
    return fail(ErrorKind::Invalid, "DNS name " + quoted(name.substr(0, 40)) + "... is " +
                                        std::to_string(name.size()) + " octets long (at most 253)");
  size_t start = 0;
  for (size_t label_no = 0;; ++label_no) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    auto checked = check_label(name, std::string_view(name).substr(start, dot - start), label_no);
    if (!checked) return std::unexpected(checked.error());
    if (dot == name.size()) break;
    start = dot + 1;
  }
  return name;
}

}  // namespace certagent

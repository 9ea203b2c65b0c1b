#include "policy/json_text.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cctype>

#include "policy/source.hpp"

namespace certagent::policy {
namespace {

namespace json = boost::json;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Boost.JSON stops on the digit after a leading 0 ("0640"); point at the 0.
bool leading_zero(std::string_view text, std::size_t offset) {
  return offset >= 1 && offset < text.size() && is_digit(text[offset]) && text[offset - 1] == '0' &&
         (offset < 2 || !(is_digit(text[offset - 2]) || text[offset - 2] == '.'));
}

std::string describe(const json::error_code& ec, std::string_view text, std::size_t offset) {
  if (ec == json::error::syntax && leading_zero(text, offset))
    return "syntax error: a number does not start with 0; write file modes as strings, like \"0640\"";
  if (ec == json::error::incomplete)
    return "the text ends inside a value: a closing '}', ']' or '\"' is missing";
  if (ec == json::error::extra_data)
    return "unexpected text after the end of the policy object; the file holds exactly one {...}";
  if (ec == json::error::too_deep)
    return fmt::format("nested deeper than {} levels; a policy needs far fewer", kMaxPolicyDepth);
  char c = offset < text.size() ? text[offset] : '\0';
  if (c == '\'') return "syntax error: strings and keys take double quotes \"...\", not single quotes";
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_')
    return "syntax error: expected a value or a \"quoted\" key here (unquoted words other than true, "
           "false and null are not JSON)";
  if (c == '"') return "syntax error: a ',' or ':' is missing before this";
  return fmt::format("syntax error ({}): check for a missing ',' or ':', a stray character, or an "
                     "unescaped control character in a string",
                     ec.message());
}

}  // namespace

Result<json::value> parse_json(std::string_view text, std::string_view file) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return fail(ErrorKind::Policy, located(file, Position{}, "the policy is empty; it is one JSON object {...}"));
  json::parse_options options;
  options.allow_comments = true;
  options.allow_trailing_commas = true;
  options.max_depth = kMaxPolicyDepth;
  json::stream_parser parser({}, options);
  json::error_code ec;
  std::size_t consumed = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    if (ec == json::error::incomplete) consumed = text.size();
    const std::string what = describe(ec, text, consumed);
    if (ec == json::error::syntax && leading_zero(text, consumed)) --consumed;
    return fail(ErrorKind::Policy, located(file, position_at(text, consumed), what));
  }
  return parser.release();
}

}  // namespace certagent::policy

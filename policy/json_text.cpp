#include "policy/json_text.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <cctype>

#include "policy/source.hpp"

namespace certagent::policy {
namespace {

namespace json = boost::json;

std::string describe(const json::error_code& ec, std::string_view text, std::size_t offset) {
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
  if (c == '0' && offset + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[offset + 1])))
    return "syntax error: numbers do not start with 0; quote modes like \"0640\"";
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
    return fail(ErrorKind::Policy, located(file, position_at(text, consumed), describe(ec, text, consumed)));
  }
  return parser.release();
}

}  // namespace certagent::policy

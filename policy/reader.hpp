#pragma once
// Typed, located access to a parsed policy document. Every failure becomes
// "FILE:LINE:COLUMN: PATH: what is wrong; how to fix it", pointing at the
// offending value (or, for an unknown key, at the key).
#include <boost/json/value.hpp>

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "policy/model.hpp"
#include "policy/source.hpp"

namespace certagent::policy {

namespace json = boost::json;

class Reader {
 public:
  Reader(std::string_view text, std::string_view file) : text_(text), file_(file) {}

  [[nodiscard]] std::string_view file() const { return file_; }

  // The located error for `path`; if the path is not in the text (a default
  // or derived value) the nearest enclosing path that is gives the position.
  [[nodiscard]] Error error(std::string_view path, std::string_view message,
                            Anchor anchor = Anchor::Value) const;
  [[nodiscard]] std::unexpected<Error> fail(std::string_view path, std::string_view message,
                                            Anchor anchor = Anchor::Value) const {
    return std::unexpected(error(path, message, anchor));
  }

  // "FILE:LINE:COLUMN: PATH" of the value at `path`, to prefix a message written later.
  [[nodiscard]] std::string where(std::string_view path) const;
  // A profile name (printable ASCII, no spaces), kept with where it is written.
  [[nodiscard]] Result<ProfileChoice> profile(const json::value& v, std::string_view path) const;

  // An object whose keys are all in `allowed` (else: unknown key, with a
  // suggestion when one is close).
  [[nodiscard]] Result<const json::object*> object(const json::value& v, std::string_view path,
                                                   std::initializer_list<std::string_view> allowed) const;
  [[nodiscard]] Result<const json::object*> object(const json::value& v, std::string_view path) const;
  [[nodiscard]] Result<const json::array*> array(const json::value& v, std::string_view path) const;
  [[nodiscard]] Result<const json::value*> required(const json::object& o, std::string_view path,
                                                    std::string_view key, std::string_view hint) const;

  [[nodiscard]] Result<std::string> string(const json::value& v, std::string_view path) const;
  [[nodiscard]] Result<std::string> choice(const json::value& v, std::string_view path,
                                           std::initializer_list<std::string_view> choices) const;
  // A string, or an array of strings.
  [[nodiscard]] Result<std::vector<std::string>> strings(const json::value& v, std::string_view path) const;
  // A DNS name (lower-cased, trailing dot removed, validated by normalize_dns_name).
  [[nodiscard]] Result<std::string> dns_name(const json::value& v, std::string_view path) const;
  // A DNS name or an array of them; each error points at the element.
  [[nodiscard]] Result<std::vector<std::string>> dns_names(const json::value& v, std::string_view path) const;
  [[nodiscard]] Result<std::string> absolute_path(const json::value& v, std::string_view path) const;
  // The absolute path in o[key], which must be there (required's error, with `hint`, when it is not).
  [[nodiscard]] Result<std::string> required_path(const json::object& o, std::string_view path, std::string_view key,
                                                  std::string_view hint) const;
  // "30s", "15m", "12h", "30d".
  [[nodiscard]] Result<std::chrono::seconds> duration(const json::value& v, std::string_view path) const;

 private:
  std::string_view text_;
  std::string_view file_;
};

[[nodiscard]] std::string_view json_kind(const json::value& v);  // "a string", "a number", ...
[[nodiscard]] std::optional<std::chrono::seconds> parse_duration(std::string_view s);

}  // namespace certagent::policy

#include "policy/source.hpp"

#include <fmt/format.h>

#include <cctype>
#include <map>

namespace certagent::policy {
namespace {

bool is_identifier(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (unsigned char c : key)
    if (!std::isalnum(c) && c != '_' && c != '-') return false;
  return true;
}

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Walks JSON text (with comments and trailing commas) that Boost.JSON has
// already accepted, keeping the current path and position. It either looks
// for one path or checks every object for duplicate keys.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  std::optional<Position> find(std::string_view target, Anchor anchor) {
    target_ = target;
    anchor_ = anchor;
    std::string path;
    value(path, 0);
    return found_;
  }

  std::optional<std::string> first_duplicate(std::string_view file) {
    check_duplicates_ = true;
    file_ = file;
    std::string path;
    value(path, 0);
    return duplicate_;
  }

 private:
  static constexpr int kMaxDepth = 64;

  bool done() const { return found_.has_value() || duplicate_.has_value(); }
  char peek() const { return i_ < text_.size() ? text_[i_] : '\0'; }
  char peek2() const { return i_ + 1 < text_.size() ? text_[i_ + 1] : '\0'; }

  void advance() {
    if (i_ >= text_.size()) return;
    unsigned char c = static_cast<unsigned char>(text_[i_++]);
    if (c == '\n') {
      ++pos_.line;
      pos_.column = 1;
    } else if ((c & 0xC0) != 0x80 && c != '\r') {
      ++pos_.column;
    }
  }

  void skip_space() {
    while (i_ < text_.size()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (c == '/' && peek2() == '/') {
        while (i_ < text_.size() && peek() != '\n') advance();
      } else if (c == '/' && peek2() == '*') {
        advance();
        advance();
        while (i_ < text_.size() && !(peek() == '*' && peek2() == '/')) advance();
        advance();
        advance();
      } else {
        return;
      }
    }
  }

  unsigned read_hex4() {
    unsigned v = 0;
    for (int k = 0; k < 4 && i_ < text_.size(); ++k, advance()) {
      char c = peek();
      v = v * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(c))
                                             ? c - '0'
                                             : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
    }
    return v;
  }

  void read_escape(std::string& out) {
    char e = peek();
    advance();
    switch (e) {
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'u': break;
      default: out += e; return;  // \" \\ \/
    }
    unsigned cp = read_hex4();
    if (cp >= 0xD800 && cp < 0xDC00 && peek() == '\\' && peek2() == 'u') {
      advance();
      advance();
      unsigned low = read_hex4();
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
  }

  std::string read_string() {
    std::string out;
    advance();  // opening quote
    while (i_ < text_.size() && peek() != '"') {
      if (peek() == '\\') {
        advance();
        read_escape(out);
      } else {
        out += peek();
        advance();
      }
    }
    advance();  // closing quote
    return out;
  }

  void skip_scalar() {
    while (i_ < text_.size()) {
      char c = peek();
      if (c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '/')
        return;
      advance();
    }
  }

  void value(std::string& path, int depth) {
    skip_space();
    if (target_ && anchor_ == Anchor::Value && path == *target_) found_ = pos_;
    if (done() || depth > kMaxDepth) return;
    switch (peek()) {
      case '{': object(path, depth); return;
      case '[': array(path, depth); return;
      case '"': read_string(); return;
      default: skip_scalar(); return;
    }
  }

  void array(std::string& path, int depth) {
    advance();  // [
    const size_t keep = path.size();
    for (size_t index = 0;; ++index) {
      skip_space();
      if (peek() == ']' || i_ >= text_.size()) break;
      path = element_path(path, index);
      value(path, depth + 1);
      if (done()) return;
      path.resize(keep);
      skip_space();
      if (peek() == ',') advance();
    }
    advance();  // ]
  }

  void object(std::string& path, int depth) {
    advance();  // {
    const size_t keep = path.size();
    std::map<std::string, Position> seen;
    for (;;) {
      skip_space();
      if (peek() == '}' || i_ >= text_.size()) break;
      const Position key_pos = pos_;
      std::string key = read_string();
      path = member_path(path, key);
      if (target_ && anchor_ == Anchor::Key && path == *target_) found_ = key_pos;
      if (check_duplicates_) note_key(seen, key, key_pos, path);
      if (done()) return;
      skip_space();
      advance();  // :
      value(path, depth + 1);
      if (done()) return;
      path.resize(keep);
      skip_space();
      if (peek() == ',') advance();
    }
    advance();  // }
  }

  void note_key(std::map<std::string, Position>& seen, const std::string& key, Position at,
                const std::string& path) {
    auto [it, inserted] = seen.emplace(key, at);
    if (inserted) return;
    duplicate_ = located(file_, at,
                         fmt::format("{}: duplicate key '{}' (first at line {}, column {}); keep only "
                                     "one — JSON would silently use the last",
                                     path, key, it->second.line, it->second.column));
  }

  std::string_view text_;
  size_t i_ = 0;
  Position pos_;
  std::optional<std::string_view> target_;
  Anchor anchor_ = Anchor::Value;
  std::optional<Position> found_;
  bool check_duplicates_ = false;
  std::string_view file_;
  std::optional<std::string> duplicate_;
};

}  // namespace

std::string member_path(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (is_identifier(key)) {
    if (!out.empty()) out += '.';
    out += key;
  } else {
    out += "[\"";
    for (char c : key) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\"]";
  }
  return out;
}

std::string element_path(std::string_view parent, std::size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

std::string display_path(std::string_view path) {
  return path.empty() ? std::string("(top level)") : std::string(path);
}

Position position_at(std::string_view text, std::size_t offset) {
  Position pos;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++pos.line;
      pos.column = 1;
    } else if ((c & 0xC0) != 0x80 && c != '\r') {
      ++pos.column;
    }
  }
  return pos;
}

std::string located(std::string_view file, Position pos, std::string_view message) {
  // Messages quote the user's values; keep them one printable line.
  // UTF-8 stays readable, but C0, DEL and C1 controls (U+0080..U+009F, which some
  // terminals obey) are escaped.
  std::string text;
  for (size_t i = 0; i < message.size(); ++i) {
    const char c = message[i];
    const auto u = static_cast<unsigned char>(c);
    const auto next = i + 1 < message.size() ? static_cast<unsigned char>(message[i + 1]) : 0;
    if (c == '\n') text += "\\n";
    else if (c == '\t') text += "\\t";
    else if (u < 0x20 || u == 0x7f) text += fmt::format("\\x{:02x}", u);
    else if (u == 0xc2 && next >= 0x80 && next <= 0x9f) text += fmt::format("\\u{:04x}", next), ++i;
    else text += c;
  }
  return fmt::format("{}:{}:{}: {}", file, pos.line, pos.column, text);
}

std::optional<Position> find_position(std::string_view text, std::string_view path, Anchor anchor) {
  return Scanner(text).find(path, anchor);
}

Result<void> check_duplicate_keys(std::string_view text, std::string_view file) {
  if (auto dup = Scanner(text).first_duplicate(file)) return fail(ErrorKind::Policy, *dup);
  return ok();
}

}  // namespace certagent::policy

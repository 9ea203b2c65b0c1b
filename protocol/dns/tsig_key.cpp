#include "protocol/dns/tsig_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "common/dns_name.hpp"
#include "common/escape.hpp"
#include "common/secret_file.hpp"

namespace certagent::protocol {
namespace {

constexpr std::size_t kMaxKeyFileSize = 64 * 1024;
constexpr std::array<std::string_view, 3> kAlgorithms{"hmac-sha256", "hmac-sha384", "hmac-sha512"};

struct Token {
  enum class Kind { Word, String, Punct, End } kind = Kind::End;
  std::string text;
  int line = 1;
};

// Splits the text into words, "strings" and the punctuation { } ; — skipping comments.
class Lexer {
 public:
  Lexer(std::string_view text, std::string_view file) : text_(text), file_(file) {}

  Result<Token> next() {
    if (auto skipped = skip_space_and_comments(); !skipped) return std::unexpected(skipped.error());
    Token t;
    t.line = line_;
    if (pos_ >= text_.size()) return t;
    const char c = text_[pos_];
    if (c == '{' || c == '}' || c == ';') {
      ++pos_;
      return Token{Token::Kind::Punct, std::string(1, c), t.line};
    }
    if (c == '"') return quoted(t.line);
    std::size_t end = pos_;
    while (end < text_.size() && !is_space(text_[end]) && std::strchr("{};\"", text_[end]) == nullptr) ++end;
    Token w{Token::Kind::Word, std::string(text_.substr(pos_, end - pos_)), t.line};
    pos_ = end;
    return w;
  }

  [[nodiscard]] Error error(int line, const std::string& what) const {
    return Error(ErrorKind::Invalid, fmt::format("{}:{}: {}", file_, line, what));
  }

 private:
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

  Result<void> skip_space_and_comments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') ++line_;
      if (is_space(c)) {
        ++pos_;
      } else if (c == '#' || text_.substr(pos_, 2) == "//") {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else if (text_.substr(pos_, 2) == "/*") {
        const int start = line_;
        auto end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return std::unexpected(error(start, "a /* comment is never closed"));
        for (std::size_t i = pos_; i < end; ++i) line_ += text_[i] == '\n';
        pos_ = end + 2;
      } else {
        break;
      }
    }
    return {};
  }

  Result<Token> quoted(int line) {
    auto end = text_.find('"', pos_ + 1);
    auto newline = text_.find('\n', pos_ + 1);
    if (end == std::string_view::npos || (newline != std::string_view::npos && newline < end))
      return std::unexpected(error(line, "a quoted string is not closed on its line"));
    Token t{Token::Kind::String, std::string(text_.substr(pos_ + 1, end - pos_ - 1)), line};
    pos_ = end + 1;
    return t;
  }

  std::string_view text_;
  std::string_view file_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

// What a token looks like in a message: never a secret (callers only describe tokens
// that are in the grammar's place of a keyword or punctuation, and then only 40 bytes).
std::string shown(const Token& t) {
  if (t.kind == Token::Kind::End) return "the end of the file";
  return "'" + escape_control(t.text, 40) + "'";
}

bool is_base64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '=') {
      if (i + 2 < s.size()) return false;
      ++pad;
    } else if (pad > 0 || !(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) {
      return false;
    }
  }
  return true;
}

class KeyParser {
 public:
  KeyParser(std::string_view text, std::string_view file) : lex_(text, file) {}

  Result<TsigKey> parse() {
    auto kw = expect_word("key", "a key file starts with: key \"NAME\" {");
    if (!kw) return std::unexpected(kw.error());
    auto name = take();
    if (!name) return std::unexpected(name.error());
    if (name->kind != Token::Kind::String && name->kind != Token::Kind::Word)
      return std::unexpected(lex_.error(name->line, "expected the key's name after 'key', found " + shown(*name)));
    auto normal = normalize_dns_name(name->text);
    if (!normal)
      return std::unexpected(lex_.error(name->line, "the key name " + shown(*name) + " is not a DNS name"));
    key_.name = *normal;
    if (auto open = expect_punct("{", "after the key's name"); !open) return std::unexpected(open.error());
    if (auto body = statements(); !body) return std::unexpected(body.error());
    if (auto semi = expect_punct(";", "after the key's closing '}'"); !semi) return std::unexpected(semi.error());
    auto end = take();
    if (!end) return std::unexpected(end.error());
    if (end->kind != Token::Kind::End)
      return std::unexpected(lex_.error(end->line, "only one key statement is allowed; found " + shown(*end)));
    return key_;
  }

 private:
  Result<Token> take() { return lex_.next(); }

  Result<void> expect_word(std::string_view word, const std::string& hint) {
    auto t = take();
    if (!t) return std::unexpected(t.error());
    if (t->kind != Token::Kind::Word || t->text != word)
      return std::unexpected(lex_.error(t->line, fmt::format("expected '{}', found {}; {}", word, shown(*t), hint)));
    return {};
  }

  Result<void> expect_punct(std::string_view p, const std::string& where) {
    auto t = take();
    if (!t) return std::unexpected(t.error());
    if (t->kind != Token::Kind::Punct || t->text != p)
      return std::unexpected(lex_.error(t->line, fmt::format("expected '{}' {}, found {}", p, where, shown(*t))));
    return {};
  }

  Result<void> statements() {
    std::optional<int> algorithm_line, secret_line;
    int close_line = 0;
    for (;;) {
      auto t = take();
      if (!t) return std::unexpected(t.error());
      if (t->kind == Token::Kind::Punct && t->text == "}") {
        close_line = t->line;
        break;
      }
      if (t->kind == Token::Kind::Word && t->text == "algorithm") {
        if (algorithm_line) return std::unexpected(lex_.error(t->line, "a second 'algorithm'"));
        algorithm_line = t->line;
        if (auto a = algorithm(); !a) return a;
      } else if (t->kind == Token::Kind::Word && t->text == "secret") {
        if (secret_line) return std::unexpected(lex_.error(t->line, "a second 'secret'"));
        secret_line = t->line;
        if (auto s = secret(t->line); !s) return s;
      } else {
        return std::unexpected(lex_.error(t->line, "expected 'algorithm', 'secret' or '}', found " + shown(*t)));
      }
    }
    if (!algorithm_line) return std::unexpected(lex_.error(close_line, "the key has no 'algorithm'"));
    if (!secret_line) return std::unexpected(lex_.error(close_line, "the key has no 'secret'"));
    return {};
  }

  Result<void> algorithm() {
    auto t = take();
    if (!t) return std::unexpected(t.error());
    std::string a = t->text;
    for (auto& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t->kind == Token::Kind::Punct || std::find(kAlgorithms.begin(), kAlgorithms.end(), a) == kAlgorithms.end())
      return std::unexpected(lex_.error(t->line, "the algorithm " + shown(*t) +
                                                     " is not supported; use hmac-sha256, hmac-sha384 or hmac-sha512"));
    key_.algorithm = a;
    return expect_punct(";", "after the algorithm");
  }

  Result<void> secret(int line) {
    auto t = take();
    if (!t) return std::unexpected(t.error());
    if (t->kind != Token::Kind::String)  // never show the token: it may be the secret
      return std::unexpected(lex_.error(line, "the secret must be a quoted base64 string"));
    if (!is_base64(t->text) || t->text.size() < 16)
      return std::unexpected(lex_.error(t->line, "the secret is not base64 of at least 12 bytes (its text is not shown)"));
    key_.secret = t->text;
    return expect_punct(";", "after the secret");
  }

  Lexer lex_;
  TsigKey key_;
};

Result<std::string> read_key_text(const std::string& path) {
  return read_secret_file(path, "the TSIG key file", kMaxKeyFileSize);
}

}  // namespace

Result<TsigKey> parse_tsig_key(std::string_view text, std::string_view file) { return KeyParser(text, file).parse(); }

Result<TsigKey> read_tsig_key_file(const std::string& path) {
  auto text = read_key_text(path);
  if (!text) return std::unexpected(text.error());
  return parse_tsig_key(*text, path);
}

}  // namespace certagent::protocol

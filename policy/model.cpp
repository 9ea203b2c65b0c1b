#include "policy/model.hpp"

#include <array>
#include <utility>

namespace certagent::policy {
namespace {

constexpr std::array<std::pair<KeyType, std::string_view>, 5> kKeyNames{{
    {KeyType::EcP256, "ec-p256"},
    {KeyType::EcP384, "ec-p384"},
    {KeyType::Rsa2048, "rsa-2048"},
    {KeyType::Rsa3072, "rsa-3072"},
    {KeyType::Rsa4096, "rsa-4096"},
}};

}  // namespace

std::string_view to_string(KeyType k) {
  for (const auto& [key, name] : kKeyNames)
    if (key == k) return name;
  return "ec-p256";
}

std::optional<KeyType> parse_key_type(std::string_view s) {
  for (const auto& [key, name] : kKeyNames)
    if (name == s) return key;
  return std::nullopt;
}

std::string_view to_string(Layout l) {
  switch (l) {
    case Layout::Shared: return "shared";
    case Layout::Separate: return "separate";
    case Layout::Auto: return "auto";
  }
  return "auto";
}

std::string_view to_string(Challenge::Type t) {
  switch (t) {
    case Challenge::Type::Http01: return "http-01";
    case Challenge::Type::Dns01: return "dns-01";
    case Challenge::Type::DnsPersist01: return "dns-persist-01";
  }
  return "http-01";
}

bool validates_wildcards(Challenge::Type t) { return t != Challenge::Type::Http01; }

}  // namespace certagent::policy

// Mutated policies never crash the parser, and every error it gives is one
// located line. (Seeded, so a failure reproduces.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

#include "policy/parse.hpp"
#include "policy/required.hpp"

namespace certagent::policy {
namespace {

namespace fs = std::filesystem;

std::string mutate(std::string text, std::mt19937& rng) {
  static const std::string alphabet = "{}[]\",:/*\\\n x0-.{}A\xc3\xbc";
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits && !text.empty(); ++e) {
    size_t at = rng() % text.size();
    char c = alphabet[rng() % alphabet.size()];
    switch (rng() % 3) {
      case 0: text.erase(at, 1); break;
      case 1: text.insert(at, 1, c); break;
      default: text[at] = c; break;
    }
  }
  return text;
}

TEST(Robustness, MutatedExamplesGiveLocatedErrorsOrValidPolicies) {
  const std::regex located(R"(^m\.json:[0-9]+:[0-9]+: [^\n]+$)");
  std::mt19937 rng(20261128);
  size_t errors = 0, valid = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(CERTAGENT_SOURCE_DIR) / "docs" / "examples")) {
    std::ifstream in(entry.path());
    std::stringstream s;
    s << in.rdbuf();
    const std::string original = s.str();
    for (int i = 0; i < 400; ++i) {
      const std::string text = mutate(original, rng);
      auto p = parse_policy(text, "m.json");
      if (p) {
        ++valid;
        EXPECT_FALSE(required_certificates(*p).empty());
        continue;
      }
      ++errors;
      ASSERT_TRUE(std::regex_match(p.error().message, located)) << p.error().message << "\n--- from ---\n" << text;
    }
  }
  EXPECT_GT(errors, 0u);
  EXPECT_GT(valid, 0u);
}

}  // namespace
}  // namespace certagent::policy

#include "protocol/acme/webroot_solver.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace certagent::protocol {
namespace {

namespace fs = std::filesystem;
const std::string kThumb = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

ChallengeTask task(const std::string& token) { return ChallengeTask{"a.example", "http-01", token, token + "." + kThumb, ""}; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

unsigned mode_of(const fs::path& p) {
  struct stat st{};
  ::lstat(p.c_str(), &st);
  return st.st_mode & 07777;
}

// <tmp>/outside/ holds a canary; <tmp>/www is the webroot.
class Webroot : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(www);
    fs::create_directories(outside);
    std::ofstream(outside / "canary") << "precious";
  }

  // Everything under base, to prove nothing was written anywhere else.
  std::set<std::string> tree() const {
    std::set<std::string> out;
    for (auto& e : fs::recursive_directory_iterator(base)) out.insert(fs::relative(e.path(), base).string());
    return out;
  }

  certagent::testing::TempDir tmp{"certagent-webroot"};
  fs::path base = tmp.path(), www = base / "www", outside = base / "outside";
};

TEST_F(Webroot, WritesTheKeyAuthorizationCreatingTheDirectories) {
  mode_t old = ::umask(077);  // a strict umask must not make the answer unreadable to the web server
  auto s = make_webroot_solver(www);
  auto r = s->present(task("tok-1_A"));
  ::umask(old);
  ASSERT_TRUE(r) << r.error().message;
  auto file = www / ".well-known/acme-challenge/tok-1_A";
  EXPECT_EQ(slurp(file), "tok-1_A." + kThumb);
  EXPECT_EQ(mode_of(file), 0644u);
  EXPECT_EQ(mode_of(www / ".well-known"), 0755u);
  EXPECT_EQ(mode_of(www / ".well-known/acme-challenge"), 0755u);
  EXPECT_EQ(s->type(), "http-01");
}

TEST_F(Webroot, CleanUpRemovesTheFileAndOnlyTheDirectoriesItCreated) {
  {
    auto s = make_webroot_solver(www);
    ASSERT_TRUE(s->present(task("one")));
    ASSERT_TRUE(s->present(task("two")));
    ASSERT_TRUE(s->clean_up(task("one")));
    EXPECT_FALSE(fs::exists(www / ".well-known/acme-challenge/one"));
    EXPECT_TRUE(fs::exists(www / ".well-known/acme-challenge/two"));
    ASSERT_TRUE(s->clean_up(task("two")));
    EXPECT_FALSE(fs::exists(www / ".well-known"));  // it made them, it removes them
    EXPECT_TRUE(s->clean_up(task("never")));
    EXPECT_TRUE(s->clean_up(task("../../x")));
  }
  // Pre-existing directories (with the operator's own files) stay.
  fs::create_directories(www / ".well-known/acme-challenge");
  std::ofstream(www / ".well-known/security.txt") << "x";
  auto s = make_webroot_solver(www);
  ASSERT_TRUE(s->present(task("three")));
  ASSERT_TRUE(s->clean_up(task("three")));
  EXPECT_TRUE(fs::exists(www / ".well-known/acme-challenge"));
  EXPECT_TRUE(fs::exists(www / ".well-known/security.txt"));
}

TEST_F(Webroot, HostileTokensAreRefusedAndNothingIsWrittenOutside) {
  auto before = tree();
  auto s = make_webroot_solver(www);
  for (const std::string t : {"../../..", "../../outside/canary", "..", ".", "a/b", "/etc/passwd", "", "tok.en",
                              "x\ny", "$(id)"}) {
    auto r = s->present(task(t));
    EXPECT_FALSE(r) << "accepted: " << t;
  }
  auto nul = task(std::string("ab\0cd", 5));
  EXPECT_FALSE(s->present(nul));
  EXPECT_FALSE(s->present(task(std::string(10 * 1024, 'a'))));
  EXPECT_EQ(tree(), before);
  EXPECT_EQ(slurp(outside / "canary"), "precious");
}

TEST_F(Webroot, SymlinkedWellKnownIsRefused) {
  fs::create_directory_symlink(outside, www / ".well-known");
  auto s = make_webroot_solver(www);
  auto r = s->present(task("tok"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Storage);
  EXPECT_NE(r.error().message.find("symlink"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(outside / "acme-challenge"));
  std::ofstream(outside / "tok") << "victim";
  EXPECT_FALSE(s->clean_up(task("tok")));  // refuses to walk through the symlink
  EXPECT_EQ(slurp(outside / "tok"), "victim");
}

TEST_F(Webroot, SymlinkedAcmeChallengeIsRefused) {
  fs::create_directories(www / ".well-known");
  fs::create_directory_symlink(outside, www / ".well-known/acme-challenge");
  auto s = make_webroot_solver(www);
  auto r = s->present(task("tok"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symlink"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(outside / "tok"));
  // Clean-up must not delete through the symlink either.
  std::ofstream(outside / "tok") << "victim";
  EXPECT_FALSE(s->clean_up(task("tok")));
  EXPECT_EQ(slurp(outside / "tok"), "victim");
}

TEST_F(Webroot, PlantedSymlinkOrHardLinkAtTheTokenIsReplacedNotFollowed) {
  fs::create_directories(www / ".well-known/acme-challenge");
  fs::create_symlink(outside / "canary", www / ".well-known/acme-challenge/sym");
  fs::create_hard_link(outside / "canary", www / ".well-known/acme-challenge/hard");
  auto s = make_webroot_solver(www);
  ASSERT_TRUE(s->present(task("sym")));
  ASSERT_TRUE(s->present(task("hard")));
  EXPECT_EQ(slurp(outside / "canary"), "precious");
  EXPECT_FALSE(fs::is_symlink(www / ".well-known/acme-challenge/sym"));
  EXPECT_EQ(slurp(www / ".well-known/acme-challenge/sym"), "sym." + kThumb);
  EXPECT_EQ(slurp(www / ".well-known/acme-challenge/hard"), "hard." + kThumb);
}

TEST_F(Webroot, MissingWebrootIsAClearError) {
  auto s = make_webroot_solver(base / "no-such-dir");
  auto r = s->present(task("tok"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::Storage);
  EXPECT_NE(r.error().message.find("no-such-dir"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(base / "no-such-dir"));
}

TEST_F(Webroot, WebrootThatIsASymlinkMadeByTheOperatorIsFine) {
  fs::create_directory_symlink(www, base / "www-link");
  auto s = make_webroot_solver(base / "www-link");
  ASSERT_TRUE(s->present(task("tok")));
  EXPECT_TRUE(fs::exists(www / ".well-known/acme-challenge/tok"));
}

}  // namespace
}  // namespace certagent::protocol

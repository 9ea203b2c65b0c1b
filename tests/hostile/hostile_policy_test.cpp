// Hostile policies: every value of a real policy replaced by each wrong JSON type, huge
// arrays, nesting 100,000 deep, names carrying shell metacharacters and terminal escapes,
// and policy "files" that are /dev/zero, a FIFO, a 1 GiB sparse file, NUL bytes or bad
// UTF-8. Each gets FILE:LINE:COLUMN or a clear refusal, never a crash or a hang, and
// `certagent plan` stays under the suite's memory bound (max_rss_kib()).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "agent/engine/policy_file.hpp"
#include "common/process.hpp"
#include "hostile/hostile_harness.hpp"
#include "policy/parse.hpp"

namespace certagent::hostile {
namespace {
namespace json = boost::json;
using ::testing::HasSubstr;

struct PlanRun {
  ProcessOutcome outcome;
  long peak_rss_kib = -1;
  std::string output() const { return outcome.out + outcome.err; }
};

class HostilePolicy : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(ws_.root / name, std::ios::binary) << text;
    return (ws_.root / name).string();
  }
  // `certagent --policy FILE --state-dir ... plan` under /usr/bin/time, killed after 60 s.
  PlanRun plan(const std::string& file) const {
    const fs::path rss = ws_.ca / "plan.rss";
    ProcessSpec spec;
    spec.argv = {"/usr/bin/time", "-f", "%M", "-o", rss.string(), CERTAGENT_BINARY, "--policy", file,
                 "--state-dir", (ws_.root / "state").string(), "plan"};
    spec.working_dir = ws_.cwd.string();
    spec.env = {"HOME=" + ws_.home.string(), "TMPDIR=" + ws_.tmp.string()};
    spec.inherit_path = true;
    spec.timeout = std::chrono::seconds(60);
    auto outcome = run_process(spec);
    if (!outcome) throw std::runtime_error(outcome.error().message);
    PlanRun run{*outcome, -1};
    std::ifstream in(rss);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) run.peak_rss_kib = std::stol(line);
    std::printf("plan %s: exit %d, %lld ms, %ld KiB peak\n", fs::path(file).filename().c_str(), outcome->exit_code,
                static_cast<long long>(outcome->elapsed.count()), run.peak_rss_kib);
    return run;
  }
  // A refusal: exit 2 (usage), no signal, no time-out, bounded memory, no ESC byte.
  void expect_refused(const PlanRun& r, const std::string& want) const {
    EXPECT_FALSE(r.outcome.timed_out);
    EXPECT_EQ(r.outcome.signal, 0);
    EXPECT_EQ(r.outcome.exit_code, 2) << r.output();
    EXPECT_THAT(r.output(), HasSubstr(want));
    EXPECT_EQ(r.output().find('\x1b'), std::string::npos);
    EXPECT_GT(r.peak_rss_kib, 0);
    EXPECT_LE(r.peak_rss_kib, max_rss_kib());
  }
  Workspace ws_;
};

// The output starts with ".../NAME.json:LINE:COLUMN: ".
bool located(const std::string& output, const std::string& name, const std::string& line = "[0-9]+") {
  return std::regex_search(output, std::regex("^[^\n]*/" + name + "\\.json:" + line + ":[0-9]+: "));
}

std::string example_text() {
  std::ifstream in(std::string(CERTAGENT_SOURCE_DIR) + "/docs/examples/enterprise-pool-separate.json");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- wrong types everywhere ----------------------------------------------------------

// The JSON pointer of every value in `v` (the root excluded).
void pointers(const json::value& v, const std::string& at, std::vector<std::string>& out) {
  if (v.is_object())
    for (const auto& kv : v.as_object()) {
      const std::string here = at + "/" + std::string(kv.key());
      out.push_back(here);
      pointers(kv.value(), here, out);
    }
  if (v.is_array())
    for (std::size_t i = 0; i < v.as_array().size(); ++i) {
      const std::string here = at + "/" + std::to_string(i);
      out.push_back(here);
      pointers(v.as_array()[i], here, out);
    }
}

std::vector<json::value> other_types(const json::value& v) {
  std::vector<json::value> all = {json::value(7), json::value(-1.5), json::value("x;$(id)"), json::value(true),
                                  json::value(nullptr), json::array{1, 2}, json::object{{"k", 1}}};
  std::vector<json::value> out;
  for (auto& c : all)
    if (c.kind() != v.kind() && !(c.is_number() && v.is_number())) out.push_back(std::move(c));
  return out;
}

TEST_F(HostilePolicy, EveryValueReplacedByEveryWrongTypeGivesFileLineColumn) {
  const json::value base = json::parse(example_text(), {}, json::parse_options{.allow_comments = true,
                                                                               .allow_trailing_commas = true});
  std::vector<std::string> ptrs;
  pointers(base, "", ptrs);
  const std::regex location_re("^policy\\.json:[0-9]+:[0-9]+: ");
  std::size_t cases = 0, accepted = 0;
  for (const auto& ptr : ptrs) {
    for (const auto& wrong : other_types(base.at_pointer(ptr))) {
      json::value mutated = base;
      mutated.at_pointer(ptr) = wrong;
      // One line: the column is what locates the mutated value.
      std::string text = json::serialize(mutated);
      Result<policy::Policy> parsed = std::unexpected(Error{});
      try {
        parsed = policy::parse_policy(text, "policy.json");
      } catch (const std::exception& e) {
        ADD_FAILURE() << ptr << " = " << json::serialize(wrong) << ": the parser threw " << e.what();
        continue;
      }
      ++cases;
      if (parsed) {
        ++accepted;  // e.g. an optional value given as null
        EXPECT_TRUE(wrong.is_null()) << ptr << " = " << json::serialize(wrong) << " was accepted";
        continue;
      }
      EXPECT_TRUE(std::regex_search(parsed.error().message, location_re))
          << ptr << " = " << json::serialize(wrong) << ": " << parsed.error().message;
      EXPECT_EQ(parsed.error().kind, ErrorKind::Policy) << parsed.error().message;
    }
  }
  std::printf("wrong types: %zu mutated policies (%zu values), %zu accepted (null for an optional value)\n", cases,
              ptrs.size(), accepted);
  EXPECT_GT(cases, 200u);
}

TEST_F(HostilePolicy, PlanOnAWrongTypeNamesFileLineAndColumn) {
  auto file = write("policy.json", "{\"ca\": {\"directory\": \"https://ca.example/d\"},\n"
                                   " \"sip_domains\": {\"contoso.com\": true},\n \"roles\": []}\n");
  auto r = plan(file);
  expect_refused(r, file + ":2:17: sip_domains: expected an array");
}

// --- size and depth ------------------------------------------------------------------

std::string pool_policy_with_domains(std::size_t n, std::size_t width) {
  std::string domains;
  domains.reserve(n * (width + 12));
  for (std::size_t i = 0; i < n; ++i) {
    std::string label = std::to_string(i);
    label.insert(0, width > label.size() ? width - label.size() : 0, 'd');
    domains += (i ? ",\"" : "\"") + label + ".io\"";
  }
  return "{\"ca\": {\"directory\": \"https://ca.example/d\"}, \"sip_domains\": [" + domains +
         "], \"roles\": [{\"role\": \"front-end-standard\", \"server_fqdn\": \"se.contoso.com\"}]}";
}

TEST_F(HostilePolicy, AHundredThousandSipDomainsAreRefusedForSizeBeforeParsing) {
  auto file = write("sip100k.json", pool_policy_with_domains(100'000, 8));
  auto r = plan(file);
  expect_refused(r, "a policy is at most 1048576 bytes");
}

TEST_F(HostilePolicy, AsManySipDomainsAsFitInTheSizeCapAreRefusedOrPlannedInBoundedMemory) {
  // 90,000 SIP domains of "N.io" fit in 1 MiB: 180,000 lyncdiscover names to compute.
  const std::string text = pool_policy_with_domains(90'000, 1);
  ASSERT_LE(text.size(), agent::kMaxPolicyBytes);
  auto file = write("sip-cap.json", text);
  auto r = plan(file);
  EXPECT_FALSE(r.outcome.timed_out);
  EXPECT_EQ(r.outcome.signal, 0);
  EXPECT_THAT(r.outcome.exit_code, ::testing::AnyOf(0, 2)) << r.output().substr(0, 2000);
  if (r.outcome.exit_code == 2) {
    EXPECT_TRUE(located(r.output(), "sip-cap")) << r.output().substr(0, 2000);
  }
  EXPECT_LE(r.peak_rss_kib, max_rss_kib());
}

TEST_F(HostilePolicy, NestingAHundredThousandDeepIsRefusedWithALocationAndNoStackOverflow) {
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"deep-array.json", std::string(100'000, '[') + std::string(100'000, ']')},
           {"deep-object.json", [] {
              std::string t;
              for (int i = 0; i < 100'000; ++i) t += "{\"a\":";
              return t + "1" + std::string(100'000, '}');
            }()},
           {"deep-in-ca.json", "{\"ca\": " + std::string(100'000, '[') + std::string(100'000, ']') + "}"}}) {
    SCOPED_TRACE(name);
    auto file = write(name, text);
    auto r = plan(file);
    expect_refused(r, file + ":1:");
  }
}

// --- names with shell metacharacters and escapes -------------------------------------

TEST_F(HostilePolicy, NamesWithShellMetacharactersAreRefusedAndNothingRuns) {
  const std::vector<std::string> hostile = {"$(touch pwned).contoso.com", "`touch pwned`.contoso.com",
                                            "a;touch pwned.contoso.com", "a|b.contoso.com", "a b.contoso.com",
                                            "a&&b.contoso.com", "../../etc.contoso.com", "a\\u001b[31mred.contoso.com",
                                            "a\\u0000b.contoso.com", "*.*.contoso.com", "-rf.contoso.com"};
  for (const auto& name : hostile) {
    SCOPED_TRACE(name);
    for (const char* field : {"sip", "server_fqdn", "pool_fqdn"}) {
      std::string sip = std::string(field) == "sip" ? name : "contoso.com";
      std::string server = std::string(field) == "server_fqdn" ? name : "fe01.contoso.net";
      std::string pool = std::string(field) == "pool_fqdn" ? name : "pool01.contoso.net";
      auto file = write("names.json", "{\"ca\": {\"directory\": \"https://ca.example/d\"},\n \"sip_domains\": [\"" + sip +
                                          "\"],\n \"roles\": [{\"role\": \"front-end-enterprise\", \"pool_fqdn\": \"" +
                                          pool + "\", \"server_fqdn\": \"" + server + "\"}]}\n");
      auto r = plan(file);
      expect_refused(r, file + ":");
      EXPECT_TRUE(located(r.output(), "names", "[23]")) << r.output();
    }
  }
  EXPECT_FALSE(fs::exists(ws_.cwd / "pwned"));
  EXPECT_FALSE(fs::exists(ws_.root / "pwned"));
}

// --- files that are not policies -----------------------------------------------------

TEST_F(HostilePolicy, DevZeroFifoAndAOneGibSparseFileAreRefusedAtOnce) {
  fs::create_symlink("/dev/zero", ws_.root / "zero.json");
  expect_refused(plan((ws_.root / "zero.json").string()), "it is a character device; a policy is a regular file");
  ASSERT_EQ(::mkfifo((ws_.root / "fifo.json").c_str(), 0600), 0);
  auto fifo = plan((ws_.root / "fifo.json").string());
  expect_refused(fifo, "it is a FIFO");
  EXPECT_LT(fifo.outcome.elapsed.count(), 5000);
  const fs::path sparse = ws_.root / "sparse.json";
  {
    int fd = ::open(sparse.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, off_t{1} << 30), 0);
    ::close(fd);
  }
  auto big = plan(sparse.string());
  expect_refused(big, "it is 1073741824 bytes; a policy is at most 1048576 bytes");
  EXPECT_LT(big.outcome.elapsed.count(), 5000);
  fs::create_directory(ws_.root / "dir.json");
  expect_refused(plan((ws_.root / "dir.json").string()), "it is a directory");
}

TEST_F(HostilePolicy, NulBytesBadUtf8AndEmptyFilesGiveALocatedError) {
  std::string with_nul = "{\"ca\": {\"directory\": \"https://ca.ex";
  with_nul += '\0';
  with_nul += "ample/d\"}}";
  auto nul = write("nul.json", with_nul);
  expect_refused(plan(nul), nul + ":1:");
  auto utf8 = write("utf8.json", "{\"ca\": {\"directory\": \"https://ca.\xff\xfe.example/d\"}}");
  expect_refused(plan(utf8), utf8 + ":1:");
  auto empty = write("empty.json", "");
  expect_refused(plan(empty), empty + ":");
}

}  // namespace
}  // namespace certagent::hostile

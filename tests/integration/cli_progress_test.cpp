// `run --once` at a terminal shows a progress line on stderr, redrawn in place (issue 26 item 4);
// not when stderr is not a terminal, not with --quiet. The terminal is a real pty: util-linux's
// `script` runs certagent on one. Each certificate's hook sleeps, so the orders (one at a time,
// against the fixture's pebble) outlast the one-second redraw.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/process.hpp"
#include "engine_support.hpp"

namespace certagent::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kRedraw = "\r\x1b[K";  // back to column 0, erase the line

PoolPolicy slow_pool() {
  PoolPolicy p = pool("separate");
  p.concurrency = 1;
  for (const char* purpose : {"Default", "WebServicesInternal", "WebServicesExternal"})
    p.hooks[purpose] = {"/bin/sh", "-c", "sleep 1.5", "hook"};
  return p;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// `certagent ... run --once EXTRA` on a pty; what the terminal showed (stdout and stderr).
std::string on_a_terminal(const EngineSandbox& box, const std::string& extra) {
  const std::string command = quoted(CERTAGENT_BINARY) + " --policy " + quoted(box.policy_file().string()) +
                              " --state-dir " + quoted(box.state().string()) + " run --once" + extra;
  ProcessSpec spec;
  spec.argv = {"script", "-qefc", command, "/dev/null"};
  spec.inherit_path = true;
  spec.timeout = std::chrono::seconds(120);
  auto r = run_process(spec);
  if (!r) throw std::runtime_error("cannot run script: " + r.error().message);
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  return r->out;
}

TEST(CliProgress, ATerminalShowsTheProgressLineRedrawnInPlace) {
  EngineSandbox box;
  box.write_policy(slow_pool());
  const std::string shown = on_a_terminal(box, "");
  EXPECT_THAT(shown, HasSubstr(std::string(kRedraw) + "ordering: ")) << shown;
  EXPECT_THAT(shown, HasSubstr("in progress: ")) << shown;
  EXPECT_THAT(shown, HasSubstr("done")) << shown;
}

TEST(CliProgress, NoProgressLineWhenStderrIsNotATerminal) {
  EngineSandbox box;
  box.write_policy(slow_pool());
  auto r = box.certagent({"run", "--once"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("\x1b[K")));
  EXPECT_THAT(r.err, HasSubstr("bound to")) << "the pass did its work";
}

TEST(CliProgress, NoProgressLineWithQuiet) {
  EngineSandbox box;
  box.write_policy(slow_pool());
  const std::string shown = on_a_terminal(box, " --quiet");
  EXPECT_THAT(shown, Not(HasSubstr("\x1b[K"))) << shown;
  EXPECT_THAT(shown, Not(HasSubstr("in progress: "))) << shown;
}

}  // namespace
}  // namespace certagent::integration

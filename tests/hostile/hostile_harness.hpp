#pragma once
// The harness of the hostile-CA suite: a throwaway directory tree per test,
// the adversarial ACME server (tests/hostile/hostile_ca.py) started on a free
// port and stopped afterwards, and one run of `certagent acme issue` against
// it under a wall-clock bound with its peak memory measured.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/process.hpp"

namespace certagent::hostile {

namespace fs = std::filesystem;

// root/                      the tree whose every change is checked
//   ca/                      the server's files (trust.pem, requests.log)
//   out/                     the client's --out (must stay empty on a refusal)
//   home/, tmp/              HOME and TMPDIR of the client
//   work/a/b/                the client's working directory ("../../x" stays inside root)
struct Workspace {
  fs::path root, ca, out, home, tmp, cwd;

  Workspace();  // under $TMPDIR (or /tmp); removed by the destructor unless CERTAGENT_HOSTILE_KEEP is set
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
};

// Every file and directory under `root` except the ca/ subtree: path → size and
// modification time. Two equal snapshots mean nothing was written there.
using Snapshot = std::map<std::string, std::string>;
[[nodiscard]] Snapshot snapshot(const Workspace& ws);
// The entries of `after` that are new or changed since `before`, and those gone.
[[nodiscard]] std::vector<std::string> changes(const Snapshot& before, const Snapshot& after);
// The files under ws.out (recursively).
[[nodiscard]] std::vector<std::string> files_in_out(const Workspace& ws);

// A port on 127.0.0.1 that nothing is bound to right now, chosen at random in
// 10000-19999: outside the ephemeral range and pebble-ctl's ports.
[[nodiscard]] int free_port();

class HostileCa {
 public:
  // Starts the server for `scenario`; waits (at most 20 s) for its READY line.
  HostileCa(const Workspace& ws, const std::string& scenario, int http01_port);
  ~HostileCa();  // SIGKILL and reap
  HostileCa(const HostileCa&) = delete;
  HostileCa& operator=(const HostileCa&) = delete;

  [[nodiscard]] bool ready() const { return !directory_.empty(); }
  [[nodiscard]] const std::string& directory() const { return directory_; }
  [[nodiscard]] const std::string& failure() const { return failure_; }
  [[nodiscard]] fs::path trust() const { return ca_dir_ / "trust.pem"; }
  // Requests the server has seen (lines of requests.log), optionally only those whose path starts with `prefix`.
  [[nodiscard]] std::size_t requests(const std::string& prefix = "") const;

 private:
  fs::path ca_dir_;
  pid_t pid_ = -1;
  std::string directory_;
  std::string failure_;
};

struct ClientRun {
  ProcessOutcome outcome;
  long peak_rss_kib = -1;  // from /usr/bin/time -f %M; -1 when unknown
  std::string time_note;   // what /usr/bin/time said besides the figure (e.g. "Command terminated by signal 11")
  [[nodiscard]] std::string output() const { return outcome.out + outcome.err; }
  [[nodiscard]] double seconds() const { return static_cast<double>(outcome.elapsed.count()) / 1000.0; }
};

// The names every scenario asks for.
[[nodiscard]] std::vector<std::string> requested_names();

// Runs `certagent acme issue` against `ca` with ws.out as --out, the responder
// on `http01_port`, plus `extra` arguments; killed after `kill_after`. The binary
// is CERTAGENT_BINARY, or $CERTAGENT_HOSTILE_BINARY when set (another build).
[[nodiscard]] ClientRun run_issue(const Workspace& ws, const HostileCa& ca, int http01_port,
                                  std::chrono::milliseconds kill_after, const std::vector<std::string>& extra = {});

// The peak-RSS ceiling the suite asserts (100 MiB, or CERTAGENT_HOSTILE_MAX_RSS_MIB).
[[nodiscard]] long max_rss_kib();

}  // namespace certagent::hostile

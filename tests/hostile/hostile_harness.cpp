#include "hostile/hostile_harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace certagent::hostile {
namespace {

using Clock = std::chrono::steady_clock;

fs::path make_temp_root() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/certagent-hostile-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  return pattern;
}

std::string stamp(const fs::directory_entry& e) {
  std::error_code ec;
  auto type = e.symlink_status(ec).type();
  if (type == fs::file_type::directory) return "dir";
  if (type != fs::file_type::regular) return "other";
  auto size = e.file_size(ec);
  auto mtime = e.last_write_time(ec).time_since_epoch().count();
  return std::to_string(size) + "@" + std::to_string(mtime);
}

// Reads the server's stdout until its READY line (or EOF, or the deadline).
std::string read_ready_line(int fd, Clock::time_point deadline) {
  std::string text;
  while (Clock::now() < deadline && text.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left, 0))) <= 0) break;
    char buf[512];
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (!text.starts_with("READY ") || text.find('\n') == std::string::npos) return "";
  return text.substr(6, text.find('\n') - 6);
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

Workspace::Workspace() : root(make_temp_root()) {
  ca = root / "ca";
  out = root / "out";
  home = root / "home";
  tmp = root / "tmp";
  cwd = root / "work" / "a" / "b";
  for (const auto& d : {ca, home, tmp, cwd}) fs::create_directories(d);
}

Workspace::~Workspace() {
  if (std::getenv("CERTAGENT_HOSTILE_KEEP") != nullptr) return;
  std::error_code ec;
  fs::remove_all(root, ec);
}

Snapshot snapshot(const Workspace& ws) {
  Snapshot snap;
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(ws.root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->path() == ws.ca) {
      it.disable_recursion_pending();
      continue;
    }
    snap[fs::relative(it->path(), ws.root).string()] = stamp(*it);
  }
  return snap;
}

std::vector<std::string> changes(const Snapshot& before, const Snapshot& after) {
  std::vector<std::string> out;
  for (const auto& [path, st] : after) {
    auto b = before.find(path);
    if (b == before.end()) out.push_back("new " + path);
    else if (b->second != st) out.push_back("changed " + path);
  }
  for (const auto& [path, st] : before)
    if (!after.contains(path)) out.push_back("gone " + path);
  return out;
}

std::vector<std::string> files_in_out(const Workspace& ws) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::exists(ws.out, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(ws.out, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (!it->is_directory()) files.push_back(fs::relative(it->path(), ws.out).string());
  return files;
}

int free_port() {
  // Not the kernel's pick (bind to port 0): that comes from the ephemeral range,
  // where any test's outgoing connection may take it before certagent's http-01
  // responder binds it (seen in CI: "Address already in use"). Below that range,
  // and apart from pebble-ctl's 20000-32699, only another hostile test could
  // choose the same port in the moment between this check and the bind.
  std::random_device seed;
  std::mt19937 rng(seed());
  std::uniform_int_distribution<int> pick(10000, 19999);
  for (int attempt = 0; attempt < 500; ++attempt) {
    const int port = pick(rng);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return port;
  }
  throw std::runtime_error("no free port in 127.0.0.1:10000-19999 after 500 tries");
}

HostileCa::HostileCa(const Workspace& ws, const std::string& scenario, int http01_port) : ca_dir_(ws.ca) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::string script = std::string(CERTAGENT_SOURCE_DIR) + "/tests/hostile/hostile_ca.py";
  std::string port = std::to_string(http01_port);
  std::string err_file = (ws.ca / "server.err").string();
  std::vector<std::string> args = {"python3", script, "--scenario", scenario, "--dir", ws.ca.string(), "--http-01-port", port};
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("python3", argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  if (pid_ > 0) directory_ = read_ready_line(out[0], Clock::now() + std::chrono::seconds(20));
  ::close(out[0]);
  if (directory_.empty()) failure_ = "the hostile CA did not start: " + slurp(err_file);
}

HostileCa::~HostileCa() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::size_t HostileCa::requests(const std::string& prefix) const {
  std::ifstream in(ca_dir_ / "requests.log");
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    auto space = line.find(' ');
    if (prefix.empty() || (space != std::string::npos && line.compare(space + 1, prefix.size(), prefix) == 0)) ++n;
  }
  return n;
}

std::vector<std::string> requested_names() { return {"a.hostile.test", "b.hostile.test"}; }

ClientRun run_issue(const Workspace& ws, const HostileCa& ca, int http01_port, std::chrono::milliseconds kill_after,
                    const std::vector<std::string>& extra) {
  fs::path rss_file = ws.ca / "client.rss";
  ProcessSpec spec;
  const char* binary = std::getenv("CERTAGENT_HOSTILE_BINARY");  // another build of certagent, for comparison
  spec.argv = {"/usr/bin/time", "-f", "%M", "-o", rss_file.string(), binary != nullptr ? binary : CERTAGENT_BINARY,
               "acme", "issue",
               "--directory", ca.directory(), "--trust", ca.trust().string(),
               "--http-01-listen", "127.0.0.1:" + std::to_string(http01_port), "--out", ws.out.string()};
  for (const auto& n : requested_names()) spec.argv.insert(spec.argv.end(), {"--name", n});
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  spec.env = {"HOME=" + ws.home.string(), "TMPDIR=" + ws.tmp.string(), "LC_ALL=C"};
  spec.inherit_path = true;
  spec.working_dir = ws.cwd.string();
  spec.timeout = kill_after;
  spec.kill_grace = std::chrono::seconds(1);
  spec.output_cap = 256 * 1024;
  auto outcome = run_process(spec);
  if (!outcome) throw std::runtime_error("cannot run certagent: " + outcome.error().message);
  ClientRun run{std::move(*outcome), -1, ""};
  std::string rss = slurp(rss_file);
  // On a signal, time writes "Command terminated by signal N" before the figure: take the last line.
  auto last = rss.find_last_not_of("\n");
  if (last != std::string::npos) {
    auto start = rss.find_last_of('\n', last);
    auto figure = start == std::string::npos ? 0 : start + 1;
    run.peak_rss_kib = std::strtol(rss.c_str() + figure, nullptr, 10);
    run.time_note = rss.substr(0, figure);
  }
  return run;
}

long max_rss_kib() {
  if (const char* mib = std::getenv("CERTAGENT_HOSTILE_MAX_RSS_MIB")) return std::strtol(mib, nullptr, 10) * 1024;
  return 100 * 1024;
}

}  // namespace certagent::hostile

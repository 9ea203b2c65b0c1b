#include "agent/daemon/daemon.hpp"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "agent/engine/options.hpp"
#include "agent/store/logging.hpp"
#include "agent/daemon/metrics.hpp"
#include "common/time.hpp"

namespace certagent::agent {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using std::chrono::steady_clock;
using std::chrono::system_clock;

namespace {

// What the worker thread hands back to the loop.
struct PassOutcome {
  std::optional<PassSummary> summary;
  std::string exception;  // what() when the pass threw
  steady_clock::duration took{};
};

// Shared with the worker thread, which may outlive the loop when a pass is abandoned.
struct WorkerLink {
  std::atomic<bool> cancel{false};
  std::mutex mu;
  bool loop_alive = true;  // guarded by mu: the worker posts its outcome only while true
};

class Loop {
 public:
  Loop(const DaemonOptions& options, const PassFn& pass, const Notifier& notifier)
      : options_(options), pass_(pass), notifier_(notifier), signals_(io_), wake_timer_(io_),
        watchdog_timer_(io_), debounce_timer_(io_), stop_timer_(io_), inotify_(io_),
        link_(std::make_shared<WorkerLink>()), log_(module_logger("daemon")) {}

  ~Loop() {
    {
      std::lock_guard lock(link_->mu);
      link_->loop_alive = false;
    }
    if (worker_.joinable()) worker_.detach();  // abandoned: it ignored the cancel flag
  }

  DaemonResult run();

 private:
  Result<void> start_signals();
  void wait_signal();
  void watch_policy_directory();
  void read_inotify();
  void on_policy_event();
  void start_metrics_if_asked(DaemonResult& result);
  void arm_watchdog();
  void trigger(WakeReason reason);
  void start_pass(WakeReason reason);
  void finish_pass(PassOutcome outcome, WakeReason reason, std::chrono::sys_seconds started);
  void report(const PassOutcome& outcome, WakeReason reason);
  void arm_wake(std::optional<std::chrono::sys_seconds> next_wake);
  void wait_until_target();
  void begin_stop(int signal);
  void abandon_pass();

  const DaemonOptions& options_;
  const PassFn& pass_;
  const Notifier& notifier_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer wake_timer_, watchdog_timer_, debounce_timer_, stop_timer_;
  asio::posix::stream_descriptor inotify_;
  alignas(inotify_event) std::array<char, 8192> inotify_buf_{};
  std::shared_ptr<WorkerLink> link_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<MetricsServer> metrics_server_;
  MetricsState metrics_;

  std::thread worker_;
  bool running_ = false;
  std::optional<WakeReason> queued_;
  steady_clock::time_point pass_started_{};
  system_clock::time_point wake_target_{};
  bool stopping_ = false;
  bool ready_sent_ = false;
  bool stall_reported_ = false;
  DaemonResult result_;
};

DaemonResult Loop::run() {
  if (auto r = start_signals(); !r) {
    log_->error("{}", r.error().message);
    result_.exit_code = kExitFailed;
    return result_;
  }
  if (!options_.once) {
    start_metrics_if_asked(result_);
    if (result_.exit_code != kExitOk) return result_;
    watch_policy_directory();
    arm_watchdog();
  }
  start_pass(WakeReason::Startup);
  io_.run();
  return result_;
}

Result<void> Loop::start_signals() {
  boost::system::error_code ec;
  for (int s : {SIGHUP, SIGTERM, SIGINT}) {
    if (signals_.add(s, ec))
      return fail(ErrorKind::Invalid, fmt::format("installing the handler for signal {}: {}", s, ec.message()));
  }
  wait_signal();
  return ok();
}

void Loop::wait_signal() {
  signals_.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      log_->info("SIGHUP: reloading the policy");
      trigger(WakeReason::Reload);
    } else {
      begin_stop(signal);
    }
    wait_signal();
  });
}

void Loop::start_metrics_if_asked(DaemonResult& result) {
  if (!options_.metrics) return;
  auto server = MetricsServer::start(io_, *options_.metrics, [this] { return render_metrics(metrics_); });
  if (!server) {
    log_->error("{}", server.error().message);
    result.exit_code = kExitFailed;
    return;
  }
  metrics_server_ = std::move(*server);
  log_->info("serving metrics on http://{}:{}/metrics", options_.metrics->host, metrics_server_->port());
  if (options_.on_metrics_listening) options_.on_metrics_listening(metrics_server_->port());
}

// inotify on the policy file's directory, not the file: an editor that writes a temporary and
// renames it over the file replaces the inode a watch on the file would follow.
void Loop::watch_policy_directory() {
  if (options_.policy_file.empty()) return;
  const std::filesystem::path dir = options_.policy_file.has_parent_path() ? options_.policy_file.parent_path() : ".";
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    log_->warn("not watching {} for changes (inotify: {}); SIGHUP still reloads", dir.string(), std::strerror(errno));
    return;
  }
  constexpr std::uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                 IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB;
  if (::inotify_add_watch(fd, dir.c_str(), mask) < 0) {
    log_->warn("not watching {} for changes ({}); SIGHUP still reloads", dir.string(), std::strerror(errno));
    ::close(fd);
    return;
  }
  inotify_.assign(fd);
  log_->debug("watching {} for changes of {}", dir.string(), options_.policy_file.filename().string());
  read_inotify();
}

void Loop::read_inotify() {
  inotify_.async_read_some(asio::buffer(inotify_buf_), [this](boost::system::error_code ec, std::size_t n) {
    if (ec || stopping_) return;
    const std::string name = options_.policy_file.filename().string();
    bool touched = false;
    for (std::size_t at = 0; at + sizeof(inotify_event) <= n;) {
      inotify_event event;
      std::memcpy(&event, inotify_buf_.data() + at, sizeof event);
      const char* event_name = inotify_buf_.data() + at + sizeof(inotify_event);
      if ((event.mask & IN_Q_OVERFLOW) || (event.len > 0 && name == event_name)) touched = true;
      if (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF))
        log_->warn("the policy directory was removed or moved; no longer watching it (SIGHUP still reloads)");
      at += sizeof(inotify_event) + event.len;
    }
    if (touched) on_policy_event();
    read_inotify();
  });
}

// Restarts the quiet period on every event; the pass starts once the directory is quiet.
void Loop::on_policy_event() {
  debounce_timer_.expires_after(options_.debounce);
  debounce_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    log_->info("{} changed: reloading the policy", options_.policy_file.string());
    trigger(WakeReason::PolicyChanged);
  });
}

void Loop::arm_watchdog() {
  if (!options_.watchdog) return;
  watchdog_timer_.expires_after(*options_.watchdog / 2);
  watchdog_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    const bool stalled = running_ && steady_clock::now() - pass_started_ > options_.pass_stall_limit;
    if (!stalled) {
      if (auto r = notifier_.watchdog(); !r) log_->warn("{}", r.error().message);
    } else if (!stall_reported_) {
      stall_reported_ = true;
      log_->error("the pass has been running for more than {}; no longer pinging the systemd watchdog",
                  format_duration(options_.pass_stall_limit));
    }
    arm_watchdog();
  });
}

void Loop::trigger(WakeReason reason) {
  if (stopping_) return;
  if (running_) {
    queued_ = queued_ ? merge_reasons(*queued_, reason) : reason;
    log_->debug("a pass is running; one more ({}) will follow it", to_string(*queued_));
    return;
  }
  start_pass(reason);
}

void Loop::start_pass(WakeReason reason) {
  wake_timer_.cancel();
  running_ = true;
  stall_reported_ = false;
  pass_started_ = steady_clock::now();
  const auto started = std::chrono::floor<std::chrono::seconds>(system_clock::now());
  const PassRequest request{reason, started, &link_->cancel, options_.retry_now && reason == WakeReason::Startup};
  log_->debug("pass ({}) starting", to_string(reason));
  // The pass thread, and every thread it starts (curl, concurrent orders), blocks the signals
  // the loop handles: the kernel delivers them to the loop's thread, and no system call of a
  // pass is interrupted by a SIGHUP meant for the loop.
  sigset_t handled, previous;
  sigemptyset(&handled);
  for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&handled, s);
  pthread_sigmask(SIG_BLOCK, &handled, &previous);
  worker_ = std::thread([this, link = link_, pass = pass_, request, reason, started] {
    ::prctl(PR_SET_NAME, kPassThreadName);  // before the pass does anything (and see below)
    PassOutcome outcome;
    const auto t0 = steady_clock::now();
    try {
      outcome.summary = pass(request);
    } catch (const std::exception& e) {
      outcome.exception = e.what();
    } catch (...) {
      outcome.exception = "an exception that is not a std::exception";
    }
    outcome.took = steady_clock::now() - t0;
    std::lock_guard lock(link->mu);
    if (!link->loop_alive) return;
    asio::post(io_, [this, outcome = std::move(outcome), reason, started]() mutable {
      finish_pass(std::move(outcome), reason, started);
    });
  });
  // Named by itself before the pass starts and by the loop before it sleeps again, whichever runs
  // first, so that `top -H` (and the tests, through /proc/<pid>/task/*/comm) tell the pass from the
  // loop at any time; the threads a pass starts inherit the name.
  pthread_setname_np(worker_.native_handle(), kPassThreadName);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

void Loop::finish_pass(PassOutcome outcome, WakeReason reason, std::chrono::sys_seconds started) {
  worker_.join();
  running_ = false;
  ++result_.passes;
  report(outcome, reason);
  // Only the metrics endpoint reads what record_pass keeps (every certificate's status: 3 MiB at
  // 10,000 certificates that an idle daemon without it need not hold).
  if (outcome.summary && options_.metrics) {
    record_pass(metrics_, reason, started, *outcome.summary);
    if (!options_.state_dir.empty()) {  // a pool member's pool, as the pass saw it (agent/store/pool_view.hpp)
      auto pool = read_pool_view(options_.state_dir);
      metrics_.pool = pool ? std::move(*pool) : std::nullopt;
    }
  }
  // The pass's plan, inventory and TLS state are freed by now, but glibc keeps
  // the freed pages (mostly in the pass thread's arena) mapped: hand them back,
  // so that an idle daemon holds only what it uses until the next pass.
  ::malloc_trim(0);
  if (stopping_ || options_.once) {
    if (options_.once)
      result_.exit_code = stopping_ || !outcome.summary ? kExitFailed : once_exit_code(*outcome.summary);
    stop_timer_.cancel();
    io_.stop();
    return;
  }
  if (queued_) {
    const WakeReason next = *queued_;
    queued_.reset();
    start_pass(next);
    return;
  }
  arm_wake(outcome.summary ? outcome.summary->next_wake
                           : std::optional{std::chrono::floor<std::chrono::seconds>(system_clock::now()) +
                                           kRetryAfterThrow});
}

void Loop::report(const PassOutcome& outcome, WakeReason reason) {
  const std::string took = fmt::format("{:.1f}s", std::chrono::duration<double>(outcome.took).count());
  std::string status;
  if (outcome.summary) {
    const PassSummary& s = *outcome.summary;
    status = s.status_line;
    if (s.policy_error) log_->error("the policy is invalid; the previous policy stays in force: {}", *s.policy_error);
    log_->info("pass ({}) done in {}: {}", to_string(reason), took, s.status_line);
  } else {
    status = "the last pass failed with an internal error; retrying in " + format_duration(kRetryAfterThrow);
    log_->error("pass ({}) threw after {}: {}; retrying in {}", to_string(reason), took, outcome.exception,
                format_duration(kRetryAfterThrow));
  }
  const Result<void> sent = ready_sent_ ? notifier_.status(status) : notifier_.ready(status);
  if (!sent) log_->warn("{}", sent.error().message);
  ready_sent_ = true;
}

void Loop::arm_wake(std::optional<std::chrono::sys_seconds> next_wake) {
  const auto now = system_clock::now();
  const auto delay = sleep_duration(next_wake, now, options_.min_sleep, options_.max_sleep);
  wake_target_ = now + delay;
  log_->info("next pass at {} (in {})", format_rfc3339(std::chrono::floor<std::chrono::seconds>(wake_target_)),
             format_duration(std::chrono::ceil<std::chrono::seconds>(delay)));
  wake_timer_.expires_after(delay);
  wait_until_target();
}

// The steady timer fired; the wall clock decides whether the target has come (it may have
// been set back in the meantime, or the steady clock may have stood still during a suspend).
void Loop::wait_until_target() {
  wake_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || stopping_ || running_) return;
    const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(wake_target_ - system_clock::now());
    if (remaining > 0ms) {
      log_->debug("woke {} before the due time (the wall clock moved); sleeping again", format_duration(
          std::chrono::ceil<std::chrono::seconds>(remaining)));
      wake_timer_.expires_after(std::min<std::chrono::milliseconds>(remaining, options_.max_sleep));
      wait_until_target();
      return;
    }
    start_pass(WakeReason::Timer);
  });
}

void Loop::begin_stop(int signal) {
  if (stopping_) {
    log_->info("signal {} again: already stopping", signal);
    return;
  }
  stopping_ = true;
  link_->cancel = true;
  log_->info("signal {}: stopping{}", signal, running_ ? " after the current pass is cancelled" : "");
  if (auto r = notifier_.stopping(); !r) log_->warn("{}", r.error().message);
  wake_timer_.cancel();
  watchdog_timer_.cancel();
  debounce_timer_.cancel();
  boost::system::error_code ignored;
  inotify_.close(ignored);
  if (metrics_server_) metrics_server_->close();
  if (!running_) {
    if (options_.once) result_.exit_code = kExitFailed;
    io_.stop();
    return;
  }
  stop_timer_.expires_after(options_.stop_grace);
  stop_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) abandon_pass();
  });
}

void Loop::abandon_pass() {
  log_->error("the pass did not stop within {} ms of the cancel request; exiting without it (store writes are "
              "atomic: at worst a temporary file is left)", options_.stop_grace.count());
  result_.pass_abandoned = true;
  result_.exit_code = kExitFailed;
  io_.stop();
}

}  // namespace

DaemonResult run_daemon(const DaemonOptions& options, const PassFn& pass, const Notifier& notifier) {
  Loop loop(options, pass, notifier);
  return loop.run();
}

}  // namespace certagent::agent

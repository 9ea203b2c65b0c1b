#include "agent/engine/progress.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>

#include "agent/engine/env_seconds.hpp"
#include "agent/store/logging.hpp"

namespace certagent::agent {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr std::size_t kShownInProgress = 8;
constexpr std::chrono::seconds kTerminalInterval{1};
constexpr const char* kClearLine = "\r\x1b[K";  // to column 0, erase to the end of the line

std::atomic<bool> terminal_on{false};

void draw(std::string_view text) {
  std::fputs(text.data(), stderr);
  std::fflush(stderr);
}

}  // namespace

void enable_terminal_progress() {
  terminal_on = true;
  // Every log line first clears the progress line; the next tick draws it again.
  spdlog::set_pattern(std::string(kClearLine) + "[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %v");
}

bool terminal_progress_enabled() { return terminal_on; }

BatchProgress::BatchProgress(std::vector<std::string> names)
    : names_(std::move(names)), started_ns_(names_.size()), ended_(names_.size()) {}

void BatchProgress::started(std::size_t i) { started_ns_.at(i).store(now_ns()); }

void BatchProgress::ended(std::size_t i, bool failed) {
  ended_.at(i).store(true);
  if (failed) failed_.fetch_add(1);
  done_.fetch_add(1);
}

std::string BatchProgress::describe() const {
  const std::int64_t now = now_ns();
  std::vector<std::string> running;
  std::size_t in_progress = 0;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const std::int64_t s = started_ns_[i].load();
    if (s == 0 || ended_[i].load()) continue;
    ++in_progress;
    if (running.size() < kShownInProgress) running.push_back(fmt::format("{} (for {}s)", names_[i], (now - s) / 1'000'000'000));
  }
  std::string line = fmt::format("{} of {} done", done_.load(), names_.size());
  if (const auto f = failed_.load(); f > 0) line += fmt::format(" ({} failed)", f);
  if (in_progress > 0) {
    line += fmt::format(", {} in progress: {}", in_progress, fmt::join(running, ", "));
    if (in_progress > running.size()) line += ", ...";
  }
  return line;
}

std::chrono::milliseconds ProgressReporter::default_interval() {
  static const auto s = seconds_from_environment("CERTAGENT_PROGRESS_INTERVAL", Seconds(1), Seconds(600),
                                                 "a progress line every {} s during long work");
  return s ? std::chrono::milliseconds(*s) : std::chrono::milliseconds(10'000);
}

ProgressReporter::ProgressReporter(std::string what, const BatchProgress& progress)
    : ProgressReporter(std::move(what), progress, default_interval()) {}

ProgressReporter::ProgressReporter(std::string what, const BatchProgress& progress, std::chrono::milliseconds interval)
    : thread_([this, what, &progress, interval] {
        std::unique_lock lock(mu_);
        while (!cv_.wait_for(lock, interval, [this] { return stop_; }))
          module_logger("engine")->info("{}: {}", what, progress.describe());
      }) {
  if (!terminal_on) return;
  terminal_ = std::thread([this, what, &progress] {
    std::unique_lock lock(mu_);
    bool drawn = false;
    while (!cv_.wait_for(lock, kTerminalInterval, [this] { return stop_; })) {
      draw(fmt::format("{}{}: {}", kClearLine, what, progress.describe()));
      drawn = true;
    }
    if (drawn) draw(kClearLine);
  });
}

ProgressReporter::~ProgressReporter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (terminal_.joinable()) terminal_.join();
}

}  // namespace certagent::agent

#pragma once
// Everything one spdlog logger writes while a LogCapture lives, at every level: for tests that
// check what reaches the log (and what must not).
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

namespace certagent::testing {

class LogCapture {
 public:
  explicit LogCapture(spdlog::logger& logger)
      : logger_(logger), sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)), level_(logger.level()) {
    logger_.sinks().push_back(sink_);
    logger_.set_level(spdlog::level::trace);
  }
  ~LogCapture() {
    logger_.sinks().pop_back();
    logger_.set_level(level_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  [[nodiscard]] std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const auto& m : sink_->last_raw()) out.emplace_back(m.payload.data(), m.payload.size());
    return out;
  }

 private:
  spdlog::logger& logger_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  spdlog::level::level_enum level_;
};

}  // namespace certagent::testing

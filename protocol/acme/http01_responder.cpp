#include "protocol/acme/http01_responder.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/logger.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "common/escape.hpp"
#include "common/http_server.hpp"
#include "protocol/acme/challenge_check.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/x509/base64.hpp"

namespace certagent::protocol {
namespace {

namespace asio = boost::asio;
constexpr std::string_view kChallengePrefix = "/.well-known/acme-challenge/";

}  // namespace

struct Http01Responder::Impl {
  Http01ResponderOptions options;
  mutable std::mutex mu;
  std::map<std::string, std::string, std::less<>> tokens;

  std::unique_ptr<asio::io_context> io;
  std::unique_ptr<http_server::Server> server;  // lives on the thread's io_context
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  std::atomic<bool> serving{false};
  std::uint16_t bound_port = 0;
  std::atomic<std::uint64_t> connections{0}, answered{0}, not_found{0}, refused{0};
  bool starved = false;  // out of descriptors, logged once until a connection is accepted again

  std::optional<std::string> lookup(std::string_view token) const {
    std::lock_guard lock(mu);
    auto it = tokens.find(token);
    if (it == tokens.end()) return std::nullopt;
    return it->second;
  }

  // The one resource this server has: GET/HEAD of a held token.
  http_server::Reply route(const http_server::Request& r) const {
    if (r.method != "GET" && r.method != "HEAD") return {405, "method not allowed\n", "text/plain", "GET, HEAD"};
    if (!r.target.starts_with(kChallengePrefix)) return {404, "not found\n"};
    std::string_view token = r.target.substr(kChallengePrefix.size());
    if (!is_base64url(token) || token.size() > kMaxTokenLength) return {404, "not found\n"};
    if (auto ka = lookup(token)) return {200, *ka};
    return {404, "not found\n"};
  }

  void note(http_server::Event e, unsigned status) {
    using E = http_server::Event;
    switch (e) {
      case E::Accepted: ++connections, starved = false; break;
      case E::Replied: ++(status == 200 ? answered : status == 404 ? not_found : refused); break;
      case E::TimedOut:
      case E::OverClientCap: ++refused; break;
      case E::OutOfDescriptors:
        if (!std::exchange(starved, true))
          acme_log().warn("http-01 responder: out of file descriptors; not accepting until a connection closes");
        break;
      case E::ClosedEarly: break;
    }
  }

  http_server::Limits limits() const {
    return {.max_connections = options.max_connections,
            .max_per_client = options.max_connections_per_client,
            .max_request_bytes = options.max_request_bytes,
            .head_timeout = options.head_timeout,
            .connection_timeout = options.connection_timeout,
            .reply_when_oversized = true};
  }
};

Http01Responder::Http01Responder(Http01ResponderOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

Http01Responder::~Http01Responder() { stop(); }

Result<void> Http01Responder::start() {
  if (impl_->serving) return fail(ErrorKind::Invalid, "the http-01 responder is already running");
  std::string address = impl_->options.address;
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
  impl_->io = std::make_unique<asio::io_context>(1);
  auto server = http_server::Server::listen(
      *impl_->io, address, impl_->options.port, impl_->limits(),
      {[impl = impl_.get()](const http_server::Request& r) { return impl->route(r); },
       [impl = impl_.get()](http_server::Event e, unsigned status) { impl->note(e, status); }});
  if (!server) {
    impl_->io.reset();
    return std::unexpected(server.error().context("http-01 responder"));
  }
  impl_->server = std::move(*server);
  impl_->bound_port = impl_->server->port();
  impl_->serving = true;
  try {
    impl_->work.emplace(impl_->io->get_executor());  // runs until stop() closes the server
    impl_->thread = std::thread([impl = impl_.get()] {
      impl->io->run();
      impl->serving = false;
    });
  } catch (const std::system_error& e) {
    impl_->serving = false;
    impl_->work.reset();
    impl_->server.reset();
    impl_->io.reset();
    return fail(ErrorKind::Transport, std::string("cannot start the http-01 responder thread: ") + e.what());
  }
  return ok();
}

void Http01Responder::stop() {
  if (!impl_->thread.joinable()) return;
  // Close on the serving thread; run() returns once every aborted handler has run.
  asio::post(*impl_->io, [impl = impl_.get()] {
    impl->server->close();
    impl->work.reset();
  });
  impl_->thread.join();
  impl_->server.reset();
  impl_->io.reset();
  impl_->bound_port = 0;
}

bool Http01Responder::running() const { return impl_->serving; }

std::uint16_t Http01Responder::port() const { return impl_->serving ? impl_->bound_port : 0; }

Http01ResponderStats Http01Responder::stats() const {
  return {impl_->connections, impl_->answered, impl_->not_found, impl_->refused};
}

Result<void> Http01Responder::present(const ChallengeTask& task) {
  if (auto c = check_http01_task(task); !c) return std::unexpected(c.error().context("presenting http-01 for '" + escape_control(task.identifier, 300) + "'"));
  std::lock_guard lock(impl_->mu);
  if (impl_->tokens.size() >= impl_->options.max_tokens && !impl_->tokens.contains(task.token))
    return fail(ErrorKind::Invalid, "the http-01 responder already holds " + std::to_string(impl_->tokens.size()) +
                                        " tokens (the maximum)");
  impl_->tokens.insert_or_assign(task.token, task.key_authorization);
  return ok();
}

Result<void> Http01Responder::clean_up(const ChallengeTask& task) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->tokens.find(task.token);
  if (it != impl_->tokens.end()) impl_->tokens.erase(it);
  return ok();
}

}  // namespace certagent::protocol

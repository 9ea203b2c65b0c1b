// `certagent acme directory --directory URL [--trust FILE]`: fetches the CA's
// ACME directory (RFC 8555 §7.1.1) over verified HTTPS and prints it, so that
// the trust bundle and the network path to a CA can be checked on their own.
#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "agent/cli/commands.hpp"
#include "agent/cli/directory_fetch.hpp"
#include "agent/cli/json_pretty.hpp"
#include "protocol/http/curl_transport.hpp"

namespace certagent::agent {

namespace {

struct DirectoryOptions {
  std::string directory_url;
  std::string trust_file;
};

Result<boost::json::value> fetch_directory(const DirectoryOptions& o) {
  auto body = fetch_directory_body(o.directory_url, o.trust_file);
  if (!body) return std::unexpected(body.error());
  boost::system::error_code ec;
  auto json = boost::json::parse(*body, ec);
  if (ec || !json.is_object())
    return fail(ErrorKind::Protocol, fmt::format("the directory at {} is not a JSON object{}", o.directory_url,
                                                 ec ? ": " + ec.message() : ""));
  return json;
}

int run_directory(const DirectoryOptions& o) {
  auto directory = fetch_directory(o);
  if (!directory) {
    std::cerr << "certagent: fetching the ACME directory: " << directory.error().message << "\n";
    return directory.error().kind == ErrorKind::Invalid ? kExitUsage : kExitFailed;
  }
  std::cout << pretty_json(*directory);
  return kExitOk;
}

}  // namespace

Result<std::string> fetch_directory_body(const std::string& url, const std::string& trust_file) {
  protocol::CurlTransportOptions options;
  options.trust_file = trust_file;
  auto transport = protocol::CurlTransport::create(options);
  if (!transport) return std::unexpected(transport.error());
  protocol::HttpRequest request;
  request.url = url;
  auto response = (*transport)->send(request);
  if (!response) return std::unexpected(response.error());
  if (response->status != 200)
    return fail(ErrorKind::Protocol, fmt::format("the CA answered HTTP {} for {}", response->status, url));
  return std::move(response->body);
}

void register_acme_directory_command(CLI::App& acme, GlobalOptions& /*globals*/, int& exit_code) {
  auto options = std::make_shared<DirectoryOptions>();
  auto* cmd = acme.add_subcommand("directory", "Fetch and print a CA's ACME directory over verified HTTPS");
  cmd->add_option("--directory", options->directory_url, "The CA's directory URL (https:// only)")->required();
  cmd->add_option("--trust", options->trust_file,
                  "PEM bundle of roots to trust instead of the system store (for a private CA)")
      ->check(CLI::ExistingFile);
  cmd->callback([options, &exit_code] { exit_code = run_directory(*options); });
}

}  // namespace certagent::agent

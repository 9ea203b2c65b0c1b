// `certagent acme issue`: one certificate from an ACME CA, end to end, without
// a policy — the low-level way to try a CA (and to measure the client).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "agent/cli/commands.hpp"
#include "agent/engine/system_waiter.hpp"
#include "agent/store/fsutil.hpp"
#include "protocol/acme/account.hpp"
#include "protocol/acme/issue.hpp"
#include "protocol/acme/log.hpp"
#include "protocol/x509/base64.hpp"
#include "protocol/http/curl_transport.hpp"
#include "protocol/acme/http01_responder.hpp"
#include "common/host_port.hpp"

namespace certagent::agent {
namespace {
namespace fs = std::filesystem;
using namespace certagent::protocol;

struct IssueOptions {
  std::string directory;
  std::string trust;
  std::vector<std::string> names;
  std::string http01_listen = "0.0.0.0:80";
  std::string key_type = "ec-p256";
  std::string account_key_file;
  std::string eab_kid;
  std::string eab_hmac_key_file;
  std::string preferred_chain;
  int timeout_seconds = 300;  // bound on waiting for validation, and again for issuance
  std::string out;
  int verbose = 0;
};

Result<std::string> read_small_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorKind::Storage, "cannot read " + file.string());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > 64 * 1024) return fail(ErrorKind::Storage, file.string() + " is too large");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

// The account key from --account-key: loaded when the file exists, else generated and saved (0600).
Result<std::shared_ptr<const PrivateKey>> account_key(const IssueOptions& o) {
  if (!o.account_key_file.empty() && fs::exists(o.account_key_file)) {
    auto key = PrivateKey::load(o.account_key_file);
    if (!key) return std::unexpected(key.error());
    return std::make_shared<const PrivateKey>(std::move(*key));
  }
  auto key = PrivateKey::generate(KeyType::EcP256);
  if (!key) return std::unexpected(key.error());
  if (!o.account_key_file.empty())
    if (auto w = key->write_new_file(o.account_key_file); !w) return std::unexpected(w.error());
  return std::make_shared<const PrivateKey>(std::move(*key));
}

Result<Http01ResponderOptions> listen_options(const std::string& listen) {
  auto address = parse_host_port(listen);
  if (!address) return std::unexpected(address.error().context("--http-01-listen '" + listen + "'"));
  Http01ResponderOptions options;
  options.address = address->host;
  options.port = address->port;
  return options;
}

// Each file through a temporary of a random name, created exclusively without following a
// symlink, then renamed into place (the store's own writes): a name planted in --out, a symlink
// to /etc/shadow for instance, is never opened, and an existing symlink is refused, not followed.
Result<void> write_outputs(const fs::path& dir, const IssuedCertificate& issued) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(ErrorKind::Storage, "creating " + dir.string() + ": " + ec.message());
  auto key_pem = issued.key->to_pem();
  if (!key_pem) return std::unexpected(key_pem.error());
  if (auto w = fsutil::write_file_atomic(dir / "key.pem", *key_pem, 0600); !w) return w;
  for (auto [name, text] : {std::pair{"cert.pem", &issued.certificate_pem}, std::pair{"chain.pem", &issued.chain_pem},
                            std::pair{"fullchain.pem", &issued.fullchain_pem}})
    if (auto w = fsutil::write_file_atomic(dir / name, *text, 0644); !w) return w;
  return ok();
}

Result<AcmeSession> open_session(const IssueOptions& o, Transport& transport, SystemClock& clock,
                                 SleepingWaiter& waiter) {
  auto session = AcmeSession::open(transport, clock, waiter, o.directory);
  if (!session) return session;
  auto key = account_key(o);
  if (!key) return std::unexpected(key.error());
  NewAccountOptions account{{}, true, std::nullopt};
  if (!o.eab_kid.empty()) {
    auto mac = read_small_file(o.eab_hmac_key_file);
    if (!mac) return std::unexpected(mac.error());
    account.eab = ExternalAccountBinding{o.eab_kid, *mac};
  }
  auto acct = create_account(*session, *key, account);
  if (!acct) return std::unexpected(acct.error());
  protocol::acme_log().debug("ACME account {}", acct->ref.url);
  return session;
}

Result<void> run_issue(const IssueOptions& o) {
  auto key_type = parse_key_type(o.key_type);
  if (!key_type) return std::unexpected(key_type.error());
  auto listen = listen_options(o.http01_listen);
  if (!listen) return std::unexpected(listen.error());
  auto start = std::chrono::steady_clock::now();
  CurlTransportOptions transport_options;
  transport_options.trust_file = o.trust;
  auto transport = CurlTransport::create(transport_options);
  if (!transport) return std::unexpected(transport.error());
  Http01Responder responder(*listen);
  if (auto r = responder.start(); !r) return r;
  SystemClock clock;
  SleepingWaiter waiter;
  auto session = open_session(o, **transport, clock, waiter);
  if (!session) return std::unexpected(session.error());
  IssueRequest request;
  request.names = o.names;
  request.key_type = *key_type;
  request.preferred_chain = o.preferred_chain;
  request.authorize.poll.total = std::chrono::seconds(o.timeout_seconds);
  request.issuance.total = std::chrono::seconds(o.timeout_seconds);
  auto issued = issue_certificate(*session, request, responder);
  if (!issued) return std::unexpected(issued.error());
  if (auto w = write_outputs(o.out, *issued); !w) return w;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  if (o.verbose > 0)
    std::cerr << fmt::format("issued {} name(s) in {} ms with {} HTTP requests ({} connection(s))\n", o.names.size(), ms,
                             (*transport)->requests_sent(), (*transport)->connections_opened());
  std::cout << fmt::format("certificate for {} name(s) written to {}\n", o.names.size(), o.out);
  return ok();
}

}  // namespace

void register_acme_issue_command(CLI::App& acme, GlobalOptions& globals, int& exit_code) {
  auto opts = std::make_shared<IssueOptions>();
  auto* cmd = acme.add_subcommand("issue", "Obtain one certificate (http-01 answered by a built-in responder)");
  cmd->add_option("--directory", opts->directory, "The CA's ACME directory URL (https)")->required();
  cmd->add_option("--trust", opts->trust, "PEM trust bundle for the CA's TLS certificate (private CA)");
  cmd->add_option("--name", opts->names, "A DNS name for the certificate (repeat)")->required();
  cmd->add_option("--http-01-listen", opts->http01_listen, "Address:port of the http-01 responder")
      ->capture_default_str();
  cmd->add_option("--key", opts->key_type, "Certificate key: ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096")
      ->capture_default_str();
  cmd->add_option("--account-key", opts->account_key_file, "Account key file (created, 0600, when missing)");
  cmd->add_option("--eab-kid", opts->eab_kid, "External account binding key id");
  cmd->add_option("--eab-hmac-key-file", opts->eab_hmac_key_file, "File holding the EAB MAC key (base64url/base64)");
  cmd->add_option("--preferred-chain", opts->preferred_chain, "Issuer CN of the preferred chain's top certificate");
  cmd->add_option("--out", opts->out, "Directory for key.pem (0600), cert.pem, chain.pem, fullchain.pem")->required();
  cmd->add_option("--timeout", opts->timeout_seconds, "Seconds to wait for validation, and for issuance")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->add_flag("-v,--verbose", opts->verbose, "Print timing and request count");
  cmd->callback([opts, &globals, &exit_code] {
    opts->verbose += globals.verbosity;
    if (!opts->eab_kid.empty() && opts->eab_hmac_key_file.empty()) {
      std::cerr << "certagent acme issue: --eab-kid needs --eab-hmac-key-file\n";
      exit_code = kExitUsage;
      return;
    }
    auto r = run_issue(*opts);
    if (!r) {
      std::cerr << "certagent acme issue: " << r.error().message << (r.error().retryable ? " (retryable)" : "") << "\n";
      exit_code = r.error().kind == ErrorKind::Invalid ? kExitUsage : kExitFailed;
    }
  });
}

}  // namespace certagent::agent

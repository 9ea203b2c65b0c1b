#pragma once
// The CA profiles the `pebble.start` CTest fixture runs (tests/integration/pebble-ctl),
// read from $CERTAGENT_PEBBLE_DIR/<profile>.env. Integration tests never skip: a
// missing fixture is a failure with a message that says how to run them.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace certagent::integration {

struct PebbleEnv {
  std::string profile;         // default, eab, nonce50, chains, shortlived
  std::string directory_url;   // https://127.0.0.1:<port>/dir
  std::string tls_root;        // PEM file: the root that signs pebble's HTTPS certificate
  std::string tls_cert;        // pebble's HTTPS leaf (localhost, 127.0.0.1) and its key,
  std::string tls_key;         //   usable by test servers that must be trusted via tls_root
  std::string management_url;  // https://127.0.0.1:<port> (/roots/0, /intermediates/0)
  std::uint16_t http01_port = 0;    // where pebble's validator connects for http-01
  std::uint16_t tlsalpn01_port = 0;
  std::string dns_server;      // 127.0.0.1:<port> (pebble-challtestsrv; every name → 127.0.0.1)
  std::string dns_management_url;  // http://127.0.0.1:<port>: challtestsrv's /set-txt, /clear-txt
  bool eab_required = false;
  std::string key_id;          // EAB key id and base64url MAC key (eab profile only)
  std::string mac_key;
  int nonce_reject_percent = 0;
  long cert_validity_seconds = 0;  // 0: pebble's default (five years)
  std::string log;             // pebble's log file
  long pid = 0;

  // ACME requests pebble has handled so far (its "calling handler()" log lines,
  // including the fixture's own readiness probe): take the difference around a flow.
  [[nodiscard]] Result<std::size_t> request_count() const;
};

// Reads a profile's env file; fails when CERTAGENT_PEBBLE_DIR is unset or the file
// is missing or incomplete.
[[nodiscard]] Result<PebbleEnv> load_pebble_env(std::string_view profile);
// The same from an explicit run directory (a private pebble a test started with pebble-ctl).
[[nodiscard]] Result<PebbleEnv> load_pebble_env_from(const std::string& run_dir, std::string_view profile);

// load_pebble_env, or throws std::runtime_error (GoogleTest reports it as a failure
// of the test, with the message).
[[nodiscard]] PebbleEnv require_pebble_env(std::string_view profile);

}  // namespace certagent::integration

#include "pebble_env.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

namespace certagent::integration {

namespace {

Result<std::map<std::string, std::string>> read_key_values(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return fail(ErrorKind::Invalid,
                fmt::format("the pebble fixture is not running: cannot read {} (run the integration tests "
                            "through ctest, whose `pebble.start` fixture starts the CA)", path));
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

template <class Int>
Result<Int> to_int(const std::map<std::string, std::string>& kv, const std::string& key, const std::string& path) {
  auto it = kv.find(key);
  Int v{};
  if (it == kv.end() ||
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), v).ec != std::errc{})
    return fail(ErrorKind::Invalid, fmt::format("{}: {} is missing or not a number", path, key));
  return v;
}

Result<std::string> text(const std::map<std::string, std::string>& kv, const std::string& key,
                         const std::string& path) {
  auto it = kv.find(key);
  if (it == kv.end()) return fail(ErrorKind::Invalid, fmt::format("{}: {} is missing", path, key));
  return it->second;
}

}  // namespace

Result<PebbleEnv> load_pebble_env(std::string_view profile) {
  const char* dir = std::getenv("CERTAGENT_PEBBLE_DIR");
  if (dir == nullptr || *dir == '\0')
    return fail(ErrorKind::Invalid,
                "the pebble fixture is not running: CERTAGENT_PEBBLE_DIR is not set (run the integration "
                "tests through ctest, whose `pebble.start` fixture starts the CA)");
  return load_pebble_env_from(dir, profile);
}

Result<PebbleEnv> load_pebble_env_from(const std::string& dir, std::string_view profile) {
  const std::string path = fmt::format("{}/{}.env", dir, profile);
  auto kv = read_key_values(path);
  if (!kv) return std::unexpected(kv.error());

  PebbleEnv env;
  try {
    auto must = [](auto r) { if (!r) throw r.error(); return *r; };
    env.profile = must(text(*kv, "PROFILE", path));
    env.directory_url = must(text(*kv, "DIRECTORY_URL", path));
    env.tls_root = must(text(*kv, "TLS_ROOT", path));
    env.tls_cert = must(text(*kv, "TLS_CERT", path));
    env.tls_key = must(text(*kv, "TLS_KEY", path));
    env.management_url = must(text(*kv, "MANAGEMENT_URL", path));
    env.http01_port = must(to_int<std::uint16_t>(*kv, "HTTP01_PORT", path));
    env.tlsalpn01_port = must(to_int<std::uint16_t>(*kv, "TLSALPN01_PORT", path));
    env.dns_server = must(text(*kv, "DNS_SERVER", path));
    env.dns_management_url = text(*kv, "DNS_MANAGEMENT_URL", path).value_or("");  // absent in older run dirs
    env.eab_required = must(text(*kv, "EAB_REQUIRED", path)) == "true";
    env.key_id = must(text(*kv, "KEY_ID", path));
    env.mac_key = must(text(*kv, "MAC_KEY", path));
    env.nonce_reject_percent = must(to_int<int>(*kv, "NONCE_REJECT", path));
    env.cert_validity_seconds = must(to_int<long>(*kv, "CERT_VALIDITY_SECONDS", path));
    env.log = must(text(*kv, "LOG", path));
    env.pid = must(to_int<long>(*kv, "PID", path));
  } catch (const Error& e) {
    return std::unexpected(e);
  }
  return env;
}

PebbleEnv require_pebble_env(std::string_view profile) {
  auto env = load_pebble_env(profile);
  if (!env) throw std::runtime_error(env.error().message);
  return *env;
}

Result<std::size_t> PebbleEnv::request_count() const {
  std::ifstream in(log);
  if (!in) return fail(ErrorKind::Storage, fmt::format("reading pebble's log {}", log));
  std::size_t count = 0;
  std::string line;
  while (std::getline(in, line))
    if (line.find("calling handler()") != std::string::npos) ++count;
  return count;
}

}  // namespace certagent::integration

#include "engine_support.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace certagent::integration {
namespace fs = std::filesystem;

EngineSandbox::EngineSandbox(const std::string& profile) : EngineSandbox(require_pebble_env(profile)) {}

EngineSandbox::EngineSandbox(PebbleEnv pebble) : pebble_(std::move(pebble)) {
  std::random_device rd;
  dir_ = fs::temp_directory_path() / fmt::format("certagent-engine-{}-{:08x}", ::getpid(), rd());
  fs::create_directories(dir_);
}

EngineSandbox::~EngineSandbox() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void EngineSandbox::write_policy(const PoolPolicy& p) const { std::ofstream(policy_file()) << policy_text(p); }

void EngineSandbox::replace_policy(const std::string& text) const {
  const fs::path temp = dir_ / ".policy.json.swp";
  std::ofstream(temp) << text;
  fs::rename(temp, policy_file());
}

std::string EngineSandbox::policy_text(const PoolPolicy& p) const {
  namespace json = boost::json;
  json::array domains(p.sip_domains.begin(), p.sip_domains.end());
  json::object purposes;
  for (const auto& [purpose, argv] : p.hooks)
    purposes[purpose] = json::object{{"hooks", json::array{json::object{{"argv", json::array(argv.begin(), argv.end())}}}}};
  for (const auto& [purpose, settings] : p.outputs) {
    if (!purposes.contains(purpose)) purposes[purpose] = json::object{};
    for (const auto& [key, value] : settings) purposes[purpose].as_object()[key] = value;
  }
  json::object ca{{"directory", p.directory.empty() ? pebble_.directory_url : p.directory}};
  if (p.trust_pebble) ca["trust_bundle"] = pebble_.tls_root;
  json::object policy{
      {"ca", ca},
      {"challenge", json::object{{"type", "http-01"}, {"listen", fmt::format("127.0.0.1:{}", pebble_.http01_port)}}},
      {"sip_domains", domains},
      {"roles", json::array{json::object{{"role", "front-end-enterprise"},
                                         {"pool_fqdn", "pool01.contoso.net"},
                                         {"server_fqdn", "fe01.contoso.net"},
                                         {"simple_urls", json::object{{"meet", "meet.contoso.com"},
                                                                      {"dialin", "dialin.contoso.com"}}},
                                         {"web_services", json::object{{"internal", "webpool01.contoso.net"},
                                                                       {"external", "webpool01.contoso.com"}}},
                                         {"layout", p.layout}}}},
      {"purposes", purposes}};
  if (!p.renewal.empty()) policy["renewal"] = p.renewal;
  if (!p.key.empty()) policy["key"] = p.key;
  if (!p.dns01_hook.empty()) policy["challenge"] = json::object{{"type", "dns-01"}, {"hook", p.dns01_hook}};
  if (!p.preferred_chain.empty()) policy["ca"].as_object()["preferred_chain"] = p.preferred_chain;
  if (p.concurrency > 0) policy["ca"].as_object()["concurrency"] = p.concurrency;
  return json::serialize(policy) + "\n";
}

std::string EngineSandbox::make_hook(const std::string& name, int exit_code) const {
  fs::path script = dir_ / name;
  // One line per purpose told (a hook several purposes share runs once for them: CERTAGENT_PURPOSES).
  std::ofstream(script) << "#!/bin/sh\nfor p in $CERTAGENT_PURPOSES; do echo \"$p $CERTAGENT_ACTION "
                           "$CERTAGENT_OLD_THUMBPRINT $CERTAGENT_NEW_THUMBPRINT\"; done >> '"
                        << (dir_ / "hooks.log").string() << "'\nexit " << exit_code << "\n";
  fs::permissions(script, fs::perms::owner_all);
  return script.string();
}

std::vector<std::string> EngineSandbox::hook_log() const {
  std::ifstream in(dir_ / "hooks.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

ProcessOutcome EngineSandbox::certagent(const std::vector<std::string>& args, const std::vector<std::string>& env) const {
  ProcessSpec spec;
  spec.argv = {CERTAGENT_BINARY, "--policy", policy_file().string(), "--state-dir", state().string()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env;
  spec.inherit_path = true;
  spec.timeout = std::chrono::seconds(120);
  auto outcome = run_process(spec);
  if (!outcome) throw std::runtime_error("cannot run certagent: " + outcome.error().message);
  return *outcome;
}

std::map<std::string, boost::json::object> EngineSandbox::certs() const {
  auto r = certagent({"--json", "certs"});
  if (r.exit_code != 0) throw std::runtime_error("certs --json failed: " + r.err);
  std::map<std::string, boost::json::object> out;
  const boost::json::value parsed = boost::json::parse(r.out);
  for (const auto& v : parsed.as_array())
    out[std::string(v.as_object().at("purpose").as_string())] = v.as_object();
  return out;
}

namespace {

std::size_t lines_containing(const PebbleEnv& pebble, const std::string& needle) {
  std::ifstream in(pebble.log);
  if (!in) throw std::runtime_error("cannot read pebble's log " + pebble.log);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) ++n;
  return n;
}

}  // namespace

// Not "POST /order-plz": a newOrder rejected with badNonce and retried repeats that.
std::size_t new_order_count(const PebbleEnv& pebble) { return lines_containing(pebble, "Added order \""); }

std::size_t handled_count(const PebbleEnv& pebble, const std::string& method_and_path) {
  return lines_containing(pebble, " " + method_and_path + " -> calling handler()");
}

std::vector<std::string> names_of(const boost::json::object& cert) {
  std::vector<std::string> out;
  for (const auto& n : cert.at("names").as_array()) out.emplace_back(n.as_string());
  return out;
}

std::string thumbprint_of(const boost::json::object& cert) {
  const auto& t = cert.at("thumbprint");
  return t.is_string() ? std::string(t.as_string()) : std::string();
}

}  // namespace certagent::integration

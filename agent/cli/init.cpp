// `certagent init --role R --ca-directory URL [...] [FILE]`: writes a starting policy from
// flags — the form of docs/examples, for the operator to edit. It is validated by the same
// parser as `certagent policy check` before anything is written, never replaces an existing
// file, and appears whole or not at all (a temporary file in the same directory, then link()).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/cli/commands.hpp"
#include "agent/cli/json_pretty.hpp"
#include "common/unique_fd.hpp"
#include "policy/parse.hpp"

namespace certagent::agent {
namespace {

namespace json = boost::json;

struct InitOptions {
  std::string file;
  std::string role;
  std::string server_fqdn, pool_fqdn, web_internal;
  std::vector<std::string> sip_domains, web_external, meet, dialin, admin, contacts;
  std::string ca_directory, trust_bundle;
  std::string challenge = "http-01";
};

// One name as a string, several as an array (as the examples write them).
json::value names(const std::vector<std::string>& v) {
  if (v.size() == 1) return json::value(v.front());
  return json::value_from(v);
}

json::object role_object(const InitOptions& o) {
  json::object role{{"role", o.role}};
  if (!o.server_fqdn.empty()) role["server_fqdn"] = o.server_fqdn;
  if (!o.pool_fqdn.empty()) role["pool_fqdn"] = o.pool_fqdn;
  json::object urls;
  if (!o.meet.empty()) urls["meet"] = names(o.meet);
  if (!o.dialin.empty()) urls["dialin"] = names(o.dialin);
  if (!o.admin.empty()) urls["admin"] = names(o.admin);
  if (!urls.empty()) role["simple_urls"] = std::move(urls);
  json::object web;
  if (!o.web_internal.empty()) web["internal"] = o.web_internal;
  if (!o.web_external.empty()) web["external"] = names(o.web_external);
  if (!web.empty()) role["web_services"] = std::move(web);
  return role;
}

std::string policy_text(const InitOptions& o) {
  json::object ca{{"directory", o.ca_directory}};
  if (!o.trust_bundle.empty()) ca["trust_bundle"] = o.trust_bundle;
  if (!o.contacts.empty()) ca["contacts"] = json::value_from(o.contacts);
  json::object challenge{{"type", o.challenge}};
  if (o.challenge == "http-01") challenge["listen"] = ":80";
  json::object doc{{"ca", std::move(ca)}, {"key", "ec-p256"}, {"renewal", "auto"}, {"challenge", std::move(challenge)}};
  if (!o.sip_domains.empty()) doc["sip_domains"] = json::value_from(o.sip_domains);
  doc["roles"] = json::array{role_object(o)};
  return "// Written by `certagent init`: a starting policy to edit. Every key, with its default:\n"
         "// certagent-policy(5) and /usr/share/doc/certagent/policy.md (examples beside it).\n"
         "// Check an edit with `certagent policy check`, see its effect with `certagent plan`.\n" +
         pretty_json(doc) + "\n";
}

// The flag a policy error is about: the key in the error's PATH ("roles[0].pool_fqdn: ..."), else
// the first key its message names ("roles[0]: missing required key 'server_fqdn'").
std::string flag_for(const std::string& message) {
  static const std::pair<const char*, const char*> kKeys[] = {
      {"trust_bundle", "--trust-bundle"}, {"contacts", "--contact"},       {"directory", "--ca-directory"},
      {"server_fqdn", "--server-fqdn"},   {"pool_fqdn", "--pool-fqdn"},    {"sip_domains", "--sip-domain"},
      {"meet", "--meet"},                 {"dialin", "--dialin"},          {"admin", "--admin"},
      {"internal", "--web-internal"},     {"external", "--web-external"}, {"challenge", "--challenge"}};
  const std::string path = message.substr(0, message.find(": "));
  for (const std::string* text : {&path, &message})
    for (const auto& [key, flag] : kKeys)
      if (text->find(key) != std::string::npos) return std::string(flag) + ": ";
  return "";
}

// The parser's "FILE:LINE:COLUMN: " points into text the operator never saw: drop it.
std::string without_location(const std::string& message, const std::string& file) {
  if (!message.starts_with(file + ":")) return message;
  std::size_t at = file.size() + 1;
  for (int field = 0; field < 2; ++field) {
    const std::size_t colon = message.find(':', at);
    if (colon == std::string::npos) return message;
    at = colon + 1;
  }
  return message.substr(at + (at < message.size() && message[at] == ' ' ? 1 : 0));
}

int refuse_existing(const std::string& file) {
  std::cerr << fmt::format("certagent init: {} exists; init never replaces a policy: edit it (check it with "
                           "`certagent policy check {}`), or remove it first, or name another file\n",
                           file, file);
  return kExitFailed;
}

int write_failed(const std::string& file, const std::string& step) {
  std::cerr << fmt::format("certagent init: cannot write {}: {}: {}; nothing written\n", file, step,
                           std::strerror(errno));
  return kExitFailed;
}

bool write_all(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// The file appears complete, mode 0644, or not at all: a temporary file in the same directory,
// then link() — not rename(), which would replace a file created since the check above.
int write_new_file(const std::string& file, const std::string& text) {
  const std::filesystem::path path(file);
  const std::string dir = path.parent_path().empty() ? "." : path.parent_path().string();
  std::string tmp = (std::filesystem::path(dir) / ("." + path.filename().string() + ".init-XXXXXX")).string();
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) return write_failed(file, "creating a temporary file in " + dir);
  auto fail = [&](const char* step) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return write_failed(file, step);
  };
  if (::fchmod(fd.get(), 0644) != 0) return fail("fchmod");
  if (!write_all(fd.get(), text)) return fail("write");
  if (::fsync(fd.get()) != 0) return fail("fsync");
  if (::link(tmp.c_str(), file.c_str()) != 0) {
    if (errno != EEXIST) return fail("link");
    ::unlink(tmp.c_str());
    return refuse_existing(file);
  }
  ::unlink(tmp.c_str());
  if (UniqueFd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); d) (void)::fsync(d.get());
  return kExitOk;
}

int run_init(const GlobalOptions& globals, const InitOptions& o) {
  const std::string file = o.file.empty() ? globals.policy : o.file;
  struct stat st {};
  if (::lstat(file.c_str(), &st) == 0) return refuse_existing(file);
  const std::string text = policy_text(o);
  auto parsed = policy::parse_policy(text, file);
  if (!parsed) {
    const std::string why = without_location(parsed.error().message, file);
    std::cerr << fmt::format("certagent init: {}{}; nothing written\n", flag_for(why), why);
    return kExitUsage;
  }
  if (const int code = write_new_file(file, text); code != kExitOk) return code;
  std::cout << fmt::format("certagent init: wrote {} ({} role, {} SIP domain(s)); check it with `certagent plan`, "
                           "then `certagent run --once`\n",
                           file, o.role, parsed->sip_domains.size());
  return kExitOk;
}

}  // namespace

void register_init_command(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  auto o = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "Write a starting policy from flags, to edit: checked as `policy check` "
                                         "does first (a bad value: exit 2, nothing written); never replaces an "
                                         "existing file (exit 1); mode 0644");
  cmd->add_option("FILE", o->file, "Where to write it (default: --policy, /etc/certagent/policy.json)");
  cmd->add_option("--role", o->role, "What this host is")
      ->required()
      ->check(CLI::IsMember({"front-end-standard", "front-end-enterprise", "director", "reverse-proxy"}));
  cmd->add_option("--server-fqdn", o->server_fqdn, "This server's FQDN (Front End, Director)");
  cmd->add_option("--pool-fqdn", o->pool_fqdn, "The pool's FQDN (Enterprise Edition; default the server's)");
  cmd->add_option("--sip-domain", o->sip_domains, "A SIP domain (repeat, or a,b)")->delimiter(',')->allow_extra_args(false);
  cmd->add_option("--web-internal", o->web_internal, "Internal web services FQDN (default the pool's)");
  cmd->add_option("--web-external", o->web_external, "External web services FQDN (repeat, or a,b: a reverse "
                                                     "proxy's published pools)")
      ->delimiter(',')->allow_extra_args(false);
  cmd->add_option("--meet", o->meet, "Meet simple URL's FQDN (repeat, or a,b)")->delimiter(',')->allow_extra_args(false);
  cmd->add_option("--dialin", o->dialin, "Dial-in simple URL's FQDN (repeat, or a,b)")->delimiter(',')->allow_extra_args(false);
  cmd->add_option("--admin", o->admin, "Admin simple URL's FQDN (repeat, or a,b)")->delimiter(',')->allow_extra_args(false);
  cmd->add_option("--ca-directory", o->ca_directory, "The CA's ACME directory URL (https://)")->required();
  cmd->add_option("--trust-bundle", o->trust_bundle, "PEM bundle to trust for the CA's HTTPS (a private CA)");
  cmd->add_option("--contact", o->contacts, "Account contact, mailto: URL (repeat)")->allow_extra_args(false);
  cmd->add_option("--challenge", o->challenge, "http-01 (answered on :80) or dns-persist-01")
      ->capture_default_str()
      ->check(CLI::IsMember({"http-01", "dns-persist-01"}));
  cmd->callback([&globals, &exit_code, o] { exit_code = run_init(globals, *o); });
}

}  // namespace certagent::agent

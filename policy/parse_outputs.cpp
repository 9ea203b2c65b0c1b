// "purposes": where each purpose's bound certificate is written for its
// consumers, and the hooks that tell them. Validated here, used by the store.
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/escape.hpp"
#include "policy/parse_internal.hpp"
#include "policy/required.hpp"

namespace certagent::policy {
namespace {

constexpr std::chrono::seconds kMaxHookTimeout{3600};

Result<unsigned> read_mode(const Reader& r, const json::value& v, const std::string& path) {
  auto s = r.string(v, path);
  if (!s) return std::unexpected(s.error());
  unsigned mode = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), mode, 8);
  if (ec != std::errc{} || end != s->data() + s->size() || s->size() < 3 || s->size() > 4 || mode > 0777)
    return r.fail(path, fmt::format("'{}' is not a file mode; write it in octal as a string, e.g. \"0640\"", *s));
  return mode;
}

Result<std::string> read_account(const Reader& r, const json::value& v, const std::string& path) {
  auto s = r.string(v, path);
  if (!s) return s;
  bool ok_name = s->size() <= 32 && std::all_of(s->begin(), s->end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  }) && s->front() != '-';
  if (!ok_name) return r.fail(path, fmt::format("'{}' is not a user or group name", *s));
  return s;
}

Result<Hook> read_hook(const Reader& r, const json::value& v, const std::string& path) {
  auto o = r.object(v, path, {"argv", "timeout"});
  if (!o) return std::unexpected(o.error());
  auto argv_v = r.required(**o, path, "argv", "the command as an array, e.g. [\"/usr/local/lib/certagent/copy-to-app\", \"--quiet\"]; no shell (a systemd unit is reloaded with \"reload_units\" instead)");
  if (!argv_v) return std::unexpected(argv_v.error());
  const std::string at = member_path(path, "argv");
  if (!(*argv_v)->is_array()) return r.fail(at, "expected an array of strings (no shell parses it), e.g. [\"/usr/local/lib/certagent/copy-to-app\", \"--quiet\"]");
  auto argv = r.strings(**argv_v, at);
  if (!argv) return std::unexpected(argv.error());
  if (argv->empty()) return r.fail(at, "is empty; give the program and its arguments");
  if (argv->front().front() != '/')
    return r.fail(element_path(at, 0), fmt::format("'{}' is not an absolute path; hooks run without a PATH search",
                                                   argv->front()));
  Hook hook{std::move(*argv), std::chrono::seconds(60)};
  if (const auto* t = (*o)->if_contains("timeout")) {
    auto d = r.duration(*t, member_path(path, "timeout"));
    if (!d) return std::unexpected(d.error());
    if (d->count() < 1 || *d > kMaxHookTimeout)
      return r.fail(member_path(path, "timeout"), "a hook timeout is between 1s and 1h");
    hook.timeout = *d;
  }
  return hook;
}

// A unit name as systemd's D-Bus API takes it: the whole name with its suffix
// (systemctl adds ".service"; the API does not), systemd's characters, at most 255 bytes.
bool is_service_unit(const std::string& name) {
  constexpr std::string_view suffix = ".service";
  if (name.size() <= suffix.size() || name.size() > 255 || !name.ends_with(suffix)) return false;
  if (name.front() == '@' || name.front() == '.' || name.front() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' ||
           c == '.' || c == '-' || c == '@' || c == '\\';
  });
}

Result<std::vector<std::string>> read_units(const Reader& r, const json::value& v, const std::string& path) {
  if (!v.is_array())
    return r.fail(path, "expected an array of unit names, e.g. [\"nginx.service\"]");
  auto units = r.strings(v, path);
  if (!units) return units;
  for (size_t i = 0; i < units->size(); ++i) {
    const std::string& u = (*units)[i];
    if (!is_service_unit(u))  // names reach the message escaped: the text may hold anything
      return r.fail(element_path(path, i),
                    fmt::format("'{}' is not a service unit name; write the whole name as systemctl shows it, e.g. "
                                "\"{}.service\"", escape_control(u, 300),
                                u.empty() ? "nginx" : escape_control(u.substr(0, u.find('.')), 300)));
    if (std::find(units->begin(), units->begin() + static_cast<long>(i), u) != units->begin() + static_cast<long>(i))
      return r.fail(element_path(path, i), fmt::format("'{}' is listed twice", u));
  }
  return units;
}

// "reload_units" and "restart_units": what certagent asks systemd to do after the hooks.
Result<void> read_unit_lists(const Reader& r, const json::object& o, const std::string& path, PurposeOutput& out) {
  for (auto [key, field] : {std::pair{"reload_units", &out.reload_units}, std::pair{"restart_units", &out.restart_units}}) {
    const json::value* v = o.if_contains(key);
    if (!v) continue;
    auto units = read_units(r, *v, member_path(path, key));
    if (!units) return std::unexpected(units.error());
    *field = std::move(*units);
  }
  for (size_t i = 0; i < out.restart_units.size(); ++i)
    if (std::find(out.reload_units.begin(), out.reload_units.end(), out.restart_units[i]) != out.reload_units.end())
      return r.fail(element_path(member_path(path, "restart_units"), i),
                    fmt::format("'{}' is also in \"reload_units\"; a restart reloads the certificate too, keep one",
                                out.restart_units[i]));
  return ok();
}

using Seen = std::vector<std::pair<std::string, std::string>>;  // file path, policy path

Result<void> read_files(const Reader& r, const json::object& o, const std::string& path, PurposeOutput& out,
                        Seen& seen) {
  std::pair<const char*, std::optional<std::string>*> files[] = {
      {"cert", &out.cert}, {"chain", &out.chain}, {"fullchain", &out.fullchain}, {"key", &out.key},
      {"combined_pem", &out.combined_pem}, {"pkcs12", &out.pkcs12}, {"pkcs12_password_file", &out.pkcs12_password_file}};
  for (auto& [key, field] : files) {
    const json::value* v = o.if_contains(key);
    if (!v) continue;
    const std::string at = member_path(path, key);
    auto file = r.absolute_path(*v, at);
    if (!file) return std::unexpected(file.error());
    for (const auto& [other, other_path] : seen)
      if (other == *file)
        return r.fail(at, fmt::format("'{}' is also written as {}; give each output its own file", *file, other_path));
    seen.emplace_back(*file, at);
    *field = std::move(*file);
  }
  if (out.pkcs12_password_file && !out.pkcs12)
    return r.fail(member_path(path, "pkcs12_password_file"), "applies only with \"pkcs12\"", Anchor::Key);
  return ok();
}

// A PKCS#12 bundle's password comes from a file, or the policy says in so
// many words that it has none.
Result<void> read_pkcs12_password(const Reader& r, const json::object& o, const std::string& path, PurposeOutput& out) {
  const std::string at = member_path(path, "pkcs12_empty_password");
  if (const auto* v = o.if_contains("pkcs12_empty_password")) {
    if (!v->is_bool()) return r.fail(at, "expected true or false");
    out.pkcs12_empty_password = v->as_bool();
    if (!out.pkcs12) return r.fail(at, "applies only with \"pkcs12\"", Anchor::Key);
    if (out.pkcs12_empty_password && out.pkcs12_password_file)
      return r.fail(at, "contradicts \"pkcs12_password_file\"; keep one of them", Anchor::Key);
  }
  if (out.pkcs12 && !out.pkcs12_password_file && !out.pkcs12_empty_password)
    return r.fail(member_path(path, "pkcs12"), "a PKCS#12 bundle needs a password: name the file holding it with "
                  "\"pkcs12_password_file\", or set \"pkcs12_empty_password\": true", Anchor::Key);
  return ok();
}

Result<void> read_ownership(const Reader& r, const json::object& o, const std::string& path, PurposeOutput& out) {
  for (auto [key, field] : {std::pair{"owner", &out.owner}, std::pair{"group", &out.group}}) {
    if (const auto* v = o.if_contains(key)) {
      auto name = read_account(r, *v, member_path(path, key));
      if (!name) return std::unexpected(name.error());
      *field = *name;
    }
  }
  for (auto [key, field] : {std::pair{"key_mode", &out.key_mode}, std::pair{"cert_mode", &out.cert_mode}}) {
    if (const auto* v = o.if_contains(key)) {
      auto mode = read_mode(r, *v, member_path(path, key));
      if (!mode) return std::unexpected(mode.error());
      *field = *mode;
    }
  }
  if (out.group && !o.contains("key_mode")) out.key_mode = 0640;  // the group is there to read the key
  if (out.key_mode & 0007)
    return r.fail(member_path(path, "key_mode"), fmt::format("{:04o} would let every user on the host read or change "
                                                             "the private key; use \"0600\" or \"0640\" with a group",
                                                             out.key_mode));
  return ok();
}

Result<PurposeOutput> read_output(const Reader& r, const json::value& v, const std::string& path, Seen& seen) {
  auto o = r.object(v, path, {"cert", "chain", "fullchain", "key", "combined_pem", "pkcs12", "pkcs12_password_file",
                              "pkcs12_empty_password", "owner", "group", "key_mode", "cert_mode", "hooks", "reload_units",
                              "restart_units", "profile"});
  if (!o) return std::unexpected(o.error());
  PurposeOutput out;
  if (auto files = read_files(r, **o, path, out, seen); !files) return std::unexpected(files.error());
  if (auto pass = read_pkcs12_password(r, **o, path, out); !pass) return std::unexpected(pass.error());
  if (auto own = read_ownership(r, **o, path, out); !own) return std::unexpected(own.error());
  if (const auto* p = (*o)->if_contains("profile")) {
    auto profile = r.profile(*p, member_path(path, "profile"));
    if (!profile) return std::unexpected(profile.error());
    out.profile = std::move(*profile);
  }
  if (const auto* h = (*o)->if_contains("hooks")) {
    auto list = r.array(*h, member_path(path, "hooks"));
    if (!list) return std::unexpected(list.error());
    for (size_t i = 0; i < (*list)->size(); ++i) {
      auto hook = read_hook(r, (**list)[i], element_path(member_path(path, "hooks"), i));
      if (!hook) return std::unexpected(hook.error());
      out.hooks.push_back(std::move(*hook));
    }
  }
  if (auto units = read_unit_lists(r, **o, path, out); !units) return std::unexpected(units.error());
  return out;
}

std::vector<std::string> served_purposes(const std::vector<Role>& roles) {
  std::vector<std::string> out;
  for (const auto& role : roles)
    for (const auto& p : role.purposes) out.push_back(p.purpose);
  return out;
}

}  // namespace

namespace {

std::string profile_text(const std::optional<ProfileChoice>& p) {
  return p ? fmt::format("profile '{}'", p->name) : std::string("no profile");
}

}  // namespace

Result<void> check_one_profile_per_certificate(const Policy& policy) {
  for (const auto& role : policy.roles) {
    if (role.layout == Layout::Separate || role.purposes.empty()) continue;
    const auto& first = role.purposes.front().purpose;
    const auto first_profile = purpose_profile(policy, role, first);
    for (const auto& p : role.purposes) {
      const auto profile = purpose_profile(policy, role, p.purpose);
      if (profile_text(profile) == profile_text(first_profile)) continue;
      return fail(ErrorKind::Policy,
                  fmt::format("{}: purposes {} ({}) and {} ({}) of role '{}' may share one certificate, and a "
                              "certificate has one profile; give the role \"layout\": \"separate\", or both "
                              "purposes the same profile",
                              (profile ? profile : first_profile)->at, first, profile_text(first_profile), p.purpose,
                              profile_text(profile), role.id));
    }
  }
  return ok();
}

Result<std::map<std::string, PurposeOutput>> read_outputs(const Reader& r, const json::value& v,
                                                          const std::vector<Role>& roles) {
  auto o = r.object(v, "purposes");
  if (!o) return std::unexpected(o.error());
  const auto served = served_purposes(roles);
  std::map<std::string, PurposeOutput> out;
  Seen seen;
  for (const auto& member : **o) {
    const std::string purpose(member.key());
    const std::string at = member_path("purposes", purpose);
    if (std::find(served.begin(), served.end(), purpose) == served.end())
      return r.fail(at, fmt::format("no role serves a purpose '{}' (served: {})", purpose, fmt::join(served, ", ")),
                    Anchor::Key);
    auto output = read_output(r, member.value(), at, seen);
    if (!output) return std::unexpected(output.error());
    out.emplace(purpose, std::move(*output));
  }
  return out;
}

}  // namespace certagent::policy

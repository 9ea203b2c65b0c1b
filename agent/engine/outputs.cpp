// Staging the per-purpose output files (agent/engine/outputs.hpp): what each format
// holds, where it may be written, and who owns it.
#include "agent/engine/outputs.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "agent/store/version_files.hpp"
#include "agent/store/fsutil.hpp"
#include "protocol/x509/pkcs12.hpp"

namespace certagent::agent {
namespace fs = std::filesystem;
namespace {

template <class Id>
std::optional<Id> numeric(std::string_view s) {
  unsigned long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return static_cast<Id>(v);
}

// A user or group (`kind`), by name or number; the error says how to create it or which policy
// key (`key`) to change.
template <class Id, class Entry>
Result<std::optional<Id>> resolve_id(const std::string& name, int (*lookup)(const char*, Entry*, char*, size_t, Entry**),
                                     Id Entry::*id, std::string_view kind, std::string_view key) {
  if (name.empty()) return std::nullopt;
  if (auto n = numeric<Id>(name)) return n;
  Entry entry{};
  Entry* found = nullptr;
  std::vector<char> buf(16384);
  if (lookup(name.c_str(), &entry, buf.data(), buf.size(), &found) != 0 || !found)
    return fail(ErrorKind::Invalid, fmt::format("no {0} named \"{1}\" on this host; create it ({0}add --system {1}) "
                                                "or change \"{2}\" for this purpose in the policy", kind, name, key));
  return found->*id;
}

Result<std::optional<uid_t>> resolve_user(const std::string& name) {
  return resolve_id(name, ::getpwnam_r, &passwd::pw_uid, "user", "owner");
}

Result<std::optional<gid_t>> resolve_group(const std::string& name) {
  return resolve_id(name, ::getgrnam_r, &group::gr_gid, "group", "group");
}

// The version's PEM files, read once per stage_outputs call.
struct Material {
  const StoredVersion& version;
  std::optional<std::string> key, cert, chain, fullchain;

  Result<std::string> get(std::optional<std::string>& slot, VersionFile file) {
    if (!slot) {
      auto text = read_version_file(version, file);
      if (!text) return std::unexpected(text.error());
      slot = std::move(*text);
    }
    return *slot;
  }
};

// The password: the file's first line. It is wiped from memory after use and
// never logged; errors name the file, never its content.
Result<std::string> read_password(const std::optional<fs::path>& file) {
  if (!file) return std::string();
  auto text = fsutil::read_file(*file, 4096);
  if (!text)
    return fail(ErrorKind::Invalid, fmt::format("cannot read the PKCS#12 password file: {}; create it (one line, "
                                                "mode 0600) or set \"pkcs12_empty_password\": true in the policy",
                                                text.error().message));
  std::string pass = std::move(*text);
  if (pass.ends_with('\n')) pass.pop_back();
  if (pass.ends_with('\r')) pass.pop_back();
  if (pass.find_first_of(std::string_view("\0\n", 2)) != std::string::npos) {
    ::explicit_bzero(pass.data(), pass.size());
    return fail(ErrorKind::Invalid, fmt::format("the PKCS#12 password file {} holds more than one line; write the "
                                                "password alone on one line", file->string()));
  }
  return pass;
}

Result<std::string> pkcs12_of(Material& m, const OutputSpec& spec) {
  auto key_pem = m.get(m.key, VersionFile::Key);
  auto cert_pem = m.get(m.cert, VersionFile::Cert);
  auto chain_pem = m.get(m.chain, VersionFile::Chain);
  for (const auto* r : {&key_pem, &cert_pem, &chain_pem})
    if (!*r) return std::unexpected(r->error());
  auto key = protocol::PrivateKey::from_pem(*key_pem);
  if (!key) return std::unexpected(key.error());
  auto leaf = protocol::parse_pem_chain(*cert_pem);
  if (!leaf) return std::unexpected(leaf.error());
  std::vector<protocol::Certificate> chain;
  if (chain_pem->find("-----BEGIN") != std::string::npos) {
    auto parsed = protocol::parse_pem_chain(*chain_pem);
    if (!parsed) return std::unexpected(parsed.error());
    chain = std::move(*parsed);
  }
  protocol::Pkcs12Input in{&*key, &leaf->front(), {}, spec.friendly_name};
  for (const auto& c : chain) in.chain.push_back(&c);
  auto password = read_password(spec.password_file);
  if (!password) return std::unexpected(password.error());
  auto der = protocol::make_pkcs12(in, *password);
  ::explicit_bzero(password->data(), password->size());
  return der;
}

Result<std::string> content_of(Material& m, const OutputSpec& spec) {
  switch (spec.format) {
    case OutputFormat::Key: return m.get(m.key, VersionFile::Key);
    case OutputFormat::Cert: return m.get(m.cert, VersionFile::Cert);
    case OutputFormat::Chain: return m.get(m.chain, VersionFile::Chain);
    case OutputFormat::Fullchain: return m.get(m.fullchain, VersionFile::Fullchain);
    case OutputFormat::Pkcs12: return pkcs12_of(m, spec);
    case OutputFormat::CombinedPem: {
      auto full = m.get(m.fullchain, VersionFile::Fullchain);
      if (!full) return full;
      auto key = m.get(m.key, VersionFile::Key);
      if (!key) return key;
      return *full + *key;
    }
  }
  return fail(ErrorKind::Invalid, "unknown output format");
}

// The target may be replaced: absent or a regular file, in an existing directory whose path
// from / no one but root and the agent (and the output's own group, when the policy names one)
// can change (fsutil::check_trusted_directory).
Result<void> check_target(const fs::path& target, std::optional<gid_t> group) {
  if (!target.is_absolute()) return fail(ErrorKind::Invalid, "the path is not absolute; give the full path in the policy");
  if (auto trusted = fsutil::check_trusted_directory(target.parent_path(), group); !trusted)
    return std::unexpected(trusted.error());
  auto kind = fsutil::entry_kind(target);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == fsutil::EntryKind::Symlink)
    return fail(ErrorKind::Storage, fmt::format("{} is a symbolic link; certagent does not write through links. "
                                                "Remove it (rm {}) or name the real file in the policy",
                                                target.string(), target.string()));
  if (*kind == fsutil::EntryKind::Directory || *kind == fsutil::EntryKind::Other)
    return fail(ErrorKind::Storage, target.string() + " exists and is not a regular file; remove it or choose another path");
  return ok();
}

Result<StagedOutputs::Entry> stage_one(Material& m, const OutputSpec& spec, StagedOutputs& staged) {
  auto uid = resolve_user(spec.owner);
  if (!uid) return std::unexpected(uid.error());
  auto gid = resolve_group(spec.group);
  if (!gid) return std::unexpected(gid.error());
  if (auto r = check_target(spec.path, *gid); !r) return std::unexpected(r.error());
  auto data = content_of(m, spec);
  if (!data) return std::unexpected(data.error());
  const fs::path dir = spec.path.parent_path();
  StagedOutputs::Entry e{spec.path, dir / fsutil::temp_name(spec.path.filename().string()), std::nullopt, false};
  auto written = fsutil::write_new_file(e.temp, *data, spec.mode, {*uid, *gid});
  if (spec.format == OutputFormat::Pkcs12 || spec.format == OutputFormat::Key ||
      spec.format == OutputFormat::CombinedPem)
    ::explicit_bzero(data->data(), data->size());
  if (!written)
    return fail(ErrorKind::Storage, fmt::format("{}; the agent (uid {}) must be able to create files in {}",
                                                written.error().message, ::geteuid(), dir.string()));
  auto kind = fsutil::entry_kind(spec.path);
  if (!kind) {
    staged.add(std::move(e));  // so that the temporary is removed
    return std::unexpected(kind.error());
  }
  if (*kind == fsutil::EntryKind::File) {
    fs::path backup = dir / fsutil::temp_name(spec.path.filename().string());
    if (::link(spec.path.c_str(), backup.c_str()) != 0) {
      Error err = fsutil::errno_error("keeping the previous file as", backup, errno);
      staged.add(std::move(e));  // so that the temporary is removed
      return std::unexpected(std::move(err));
    }
    e.backup = backup;
  }
  return e;
}

}  // namespace

std::string_view to_string(OutputFormat f) {
  switch (f) {
    case OutputFormat::Key: return "key";
    case OutputFormat::CombinedPem: return "combined_pem";
    case OutputFormat::Pkcs12: return "pkcs12";
    case OutputFormat::Chain: return "chain";
    case OutputFormat::Fullchain: return "fullchain";
    case OutputFormat::Cert: return "cert";
  }
  return "?";
}

Result<StagedOutputs> stage_outputs(const StoredVersion& version, std::span<const OutputSpec> specs) {
  std::vector<const OutputSpec*> ordered;
  for (const auto& s : specs) ordered.push_back(&s);
  std::stable_sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->format < b->format; });
  Material material{version, {}, {}, {}, {}};
  StagedOutputs staged;
  for (const OutputSpec* spec : ordered) {
    auto entry = stage_one(material, *spec, staged);
    if (!entry)
      return std::unexpected(entry.error().context(fmt::format("writing the \"{}\" output {} from version {}",
                                                               to_string(spec->format), spec->path.string(),
                                                               version.id)));
    staged.add(std::move(*entry));
  }
  return staged;
}

Result<void> write_outputs(const StoredVersion& version, std::span<const OutputSpec> specs) {
  auto staged = stage_outputs(version, specs);
  if (!staged) return std::unexpected(staged.error());
  return staged->commit();
}

Result<void> write_output(const StoredVersion& version, const OutputSpec& spec) {
  return write_outputs(version, std::span<const OutputSpec>(&spec, 1));
}

}  // namespace certagent::agent

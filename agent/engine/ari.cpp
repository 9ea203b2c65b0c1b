#include "agent/engine/ari.hpp"

#include <boost/json.hpp>

#include <set>

#include "agent/store/version_files.hpp"
#include "agent/engine/acme.hpp"
#include "agent/engine/env_seconds.hpp"
#include "agent/store/fsutil.hpp"
#include "agent/store/logging.hpp"
#include "agent/engine/system_waiter.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::agent {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// The distinct versions bound to some purpose.
std::vector<const StoredVersion*> bound_versions(const Inventory& inventory) {
  std::set<std::string> ids;
  for (const auto& b : inventory.bindings)
    if (b.complete) ids.insert(b.version_id);
  std::vector<const StoredVersion*> out;
  std::set<std::string> thumbprints;
  for (const auto& v : inventory.versions)
    if (ids.contains(v.id) && thumbprints.insert(v.meta.thumbprint).second) out.push_back(&v);
  return out;
}

std::shared_ptr<spdlog::logger> log() { return module_logger("engine"); }

// When to ask again `delay` from now: at most CERTAGENT_ARI_RECHECK_MAX later (env_seconds.hpp).
TimePoint recheck_after(TimePoint now, Seconds delay) {
  static const auto cap = seconds_from_environment("CERTAGENT_ARI_RECHECK_MAX", Seconds(1), Seconds(86400),
                                                   "renewal information is asked again at least every {} s, "
                                                   "whatever the CA's Retry-After");
  return now + (cap ? std::min(delay, *cap) : delay);
}

// The CA's renewalInfo URL: from the note when it is fresh and for this CA, else from the directory.
std::optional<std::string> renewal_info_url(SharedStore& store, const std::string& directory_url,
                                            const AriSource& source, TimePoint now) {
  auto note = read_ca_directory_note(store.unlocked());
  if (!note) log()->warn("{}", note.error().message);
  if (note && *note && (*note)->directory_url == directory_url && now - (*note)->checked_at < kCaDirectoryRecheck)
    return (*note)->renewal_info;
  auto url = source.renewal_info_url();
  if (!url) {
    log()->warn("cannot tell whether {} offers renewal information (ARI): {}", directory_url, url.error().message);
    return std::nullopt;
  }
  if (auto saved = note_ca_directory(store.lock(), CaDirectoryNote{directory_url, *url, now}); !saved)
    log()->warn("{}", saved.error().message);
  return *url;
}

void refresh_one(SharedStore& store, const StoredVersion& v, const AriSource& source, TimePoint now) {
  const std::string& thumbprint = v.meta.thumbprint;
  auto record = read_ari_record(store.unlocked(), thumbprint);
  if (record && *record && (*record)->recheck_at > now) return;
  auto cert_id = ari_cert_id_of(v);
  if (!cert_id) {
    log()->warn("{}: no renewal information (ARI) for certificate {}: {}", v.meta.certificate_id, thumbprint,
                cert_id.error().message);
    return;
  }
  auto info = source.fetch(*cert_id);
  if (!info) {
    const bool kept = record && *record;
    log()->warn("{}: renewal information for certificate {}: {}; keeping {}", v.meta.certificate_id, thumbprint,
                info.error().message, kept ? "the previous window, asking again in an hour" : "the lifetime rule");
    if (!kept) return;
    AriRecord later = **record;
    later.recheck_at = recheck_after(now, kAriRetryAfterFailure);
    if (auto saved = write_ari_record(store.lock(), thumbprint, later); !saved) log()->warn("{}", saved.error().message);
    return;
  }
  const AriRecord fresh{*cert_id, std::chrono::floor<Seconds>(info->window_start),
                        std::chrono::ceil<Seconds>(info->window_end), recheck_after(now, policy::ari_recheck_delay(info->retry_after)),
                        now};
  log()->info("{}: the CA suggests renewing certificate {} between {} and {}; asking again at {}{}",
              v.meta.certificate_id, thumbprint, format_rfc3339(fresh.start), format_rfc3339(fresh.end),
              format_rfc3339(fresh.recheck_at), info->explanation_url.empty() ? "" : " (" + info->explanation_url + ")");
  if (auto saved = write_ari_record(store.lock(), thumbprint, fresh); !saved) log()->warn("{}", saved.error().message);
}

}  // namespace

Result<std::string> ari_cert_id_of(const StoredVersion& version) {
  auto pem = read_version_file(version, VersionFile::Cert);
  if (!pem) return std::unexpected(pem.error());
  auto certs = protocol::parse_pem_chain(*pem);
  if (!certs) return std::unexpected(certs.error().context("reading " + path_of(version, VersionFile::Cert).string()));
  if (certs->empty()) return fail(ErrorKind::Storage, path_of(version, VersionFile::Cert).string() + " holds no certificate");
  const auto& info = certs->front().info();
  if (info.authority_key_id.empty())
    return fail(ErrorKind::Invalid, "the certificate has no authority key identifier, which ARI needs");
  return protocol::ari_cert_id(info.authority_key_id, info.serial_der);
}

void refresh_renewal_info(SharedStore& store, const Inventory& inventory,
                          const std::string& directory_url, const AriSource& source, TimePoint now) {
  const auto versions = bound_versions(inventory);
  if (versions.empty()) return;
  const auto url = renewal_info_url(store, directory_url, source, now);
  if (!url || url->empty()) return;
  for (const auto* v : versions) refresh_one(store, *v, source, now);
}

void refresh_renewal_info_from_ca(SharedStore& store, const Inventory& inventory,
                                  const policy::CaConfig& ca, TimePoint now, const std::atomic<bool>* cancel) {
  SystemClock clock;
  SleepingWaiter waiter(cancel);
  const std::string trust = ca.trust_bundle.value_or("");
  std::optional<CaConnection> conn;
  auto session = [&]() -> Result<protocol::AcmeSession*> {
    if (!conn) {
      auto opened = connect_to_ca(ca.directory_url, trust, clock, waiter, cancel);
      if (!opened) return std::unexpected(opened.error());
      conn = std::move(*opened);
    }
    return conn->session.get();
  };
  AriSource source;
  source.renewal_info_url = [&]() -> Result<std::string> {
    auto s = session();
    if (!s) return std::unexpected(s.error());
    return (*s)->directory().renewal_info;
  };
  source.fetch = [&](std::string_view cert_id) -> Result<protocol::RenewalInfo> {
    auto s = session();
    if (!s) return std::unexpected(s.error());
    return protocol::fetch_renewal_info(**s, cert_id);
  };
  refresh_renewal_info(store, inventory, ca.directory_url, source, now);
}

AriWindows ari_windows(const Store& store, const Inventory& inventory, const std::string& directory_url,
                       TimePoint now) {
  AriWindows out;
  auto note = read_ca_directory_note(store);
  if (!note || !*note || (*note)->directory_url != directory_url || (*note)->renewal_info.empty()) return out;
  for (const auto* v : bound_versions(inventory)) {
    auto record = read_ari_record(store, v->meta.thumbprint);
    if (!record || !*record) continue;
    const Seconds left = std::max((*record)->recheck_at - now, Seconds(0));
    out.windows[v->meta.thumbprint] = policy::AriWindow{(*record)->start, (*record)->end, left};
    if ((*record)->recheck_at > now && (!out.earliest_recheck || (*record)->recheck_at < *out.earliest_recheck))
      out.earliest_recheck = (*record)->recheck_at;
  }
  return out;
}

}  // namespace certagent::agent

#include "common/escape.hpp"
#include "protocol/acme/certificate.hpp"

#include <openssl/objects.h>

#include "protocol/acme/json.hpp"
#include "protocol/acme/link_header.hpp"

namespace certagent::protocol {
namespace {

constexpr std::string_view kPemChain = "application/pem-certificate-chain";

Result<std::vector<std::string>> alternates_of(const HttpResponse& resp, std::string_view url) {
  auto links = parse_link_headers(resp.headers_named("Link"), url);
  if (!links) return std::unexpected(links.error());
  std::vector<std::string> out;
  for (auto& target : links_with_rel(*links, kRelAlternate)) {
    if (!is_https_url(target)) continue;  // never follow a CA's link off https
    if (out.size() >= kMaxAlternateChains) break;
    out.push_back(std::move(target));
  }
  return out;
}

Result<void> check_links_up(const std::vector<Certificate>& certs) {
  for (size_t i = 0; i + 1 < certs.size(); ++i) {
    X509* child = certs[i].get();
    X509* parent = certs[i + 1].get();
    ossl::PKey parent_key(X509_get_pubkey(parent));
    if (X509_check_issued(parent, child) != X509_V_OK || !parent_key || X509_verify(child, parent_key.get()) != 1) {
      (void)ossl::drain_errors();
      return fail(ErrorKind::Protocol, "certificate " + std::to_string(i) + " of the chain (" +
                                           escape_control(certs[i].info().subject, 300) + ") is not issued by the next one (" +
                                           escape_control(certs[i + 1].info().subject, 300) + ")");
    }
  }
  return ok();
}

}  // namespace

Result<CertificateChain> download_chain(AcmeSession& session, std::string_view url) {
  const std::string doing = "downloading the certificate " + std::string(url);
  auto resp = session.post_as_get(url, doing);
  if (!resp) return std::unexpected(resp.error());
  auto type = resp->header("Content-Type").value_or("");
  if (!type.starts_with(kPemChain))
    return fail(ErrorKind::Protocol, doing + ": it came as '" + escape_control(type, 80) + "', not " + std::string(kPemChain));
  auto certs = parse_pem_chain(resp->body, session.intermediates());
  if (!certs) return std::unexpected(std::move(certs.error()).context(doing));
  auto alternates = alternates_of(*resp, url);
  if (!alternates) return std::unexpected(std::move(alternates.error()).context(doing));
  return CertificateChain{std::string(url), std::move(*certs), std::move(*alternates)};
}

std::string top_issuer_cn(const CertificateChain& chain) {
  if (chain.certificates.empty()) return "";
  X509_NAME* issuer = X509_get_issuer_name(chain.certificates.back().get());
  int idx = issuer == nullptr ? -1 : X509_NAME_get_index_by_NID(issuer, NID_commonName, -1);
  if (idx < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(issuer, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return cn;
}

Result<CertificateChain> download_preferred_chain(AcmeSession& session, std::string_view url,
                                                  const std::string& preferred_issuer_cn) {
  auto chain = download_chain(session, url);
  if (!chain || preferred_issuer_cn.empty() || top_issuer_cn(*chain) == preferred_issuer_cn) return chain;
  for (const auto& alt_url : chain->alternates) {
    auto alt = download_chain(session, alt_url);
    if (!alt) return std::unexpected(alt.error());
    if (top_issuer_cn(*alt) == preferred_issuer_cn) return alt;
  }
  return chain;  // §7.4.2: no match — the default chain is still a good chain
}

Result<void> verify_issued(const CertificateChain& chain, const PrivateKey& key, const std::vector<std::string>& names,
                           ClockTime now) {
  const std::string doing = "checking the certificate " + chain.url;
  if (chain.certificates.empty()) return fail(ErrorKind::Protocol, doing + ": the chain is empty");
  const Certificate& leaf = chain.certificates.front();
  if (auto m = check_key_matches(leaf, key); !m)
    return fail(ErrorKind::Protocol, doing + ": the certificate is not for our key (" + m.error().message + ")");
  const auto& info = leaf.info();
  if (!info.ip_addresses.empty() || normalized_names(info.dns_names) != normalized_names(names))
    return fail(ErrorKind::Protocol, doing + ": its names (" + std::to_string(info.dns_names.size() + info.ip_addresses.size()) +
                                         ") are not the " + std::to_string(names.size()) + " names of the order");
  constexpr auto kSkew = std::chrono::minutes(10);
  if (info.not_after <= now || info.not_before > now + kSkew || info.not_after <= info.not_before)
    return fail(ErrorKind::Protocol, doing + ": it is not valid now (expired, or not yet valid)");
  if (auto linked = check_links_up(chain.certificates); !linked) return std::unexpected(std::move(linked.error()).context(doing));
  return ok();
}

}  // namespace certagent::protocol

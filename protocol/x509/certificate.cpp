#include "protocol/x509/certificate.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <ctime>

#include <openssl/err.h>
#include <openssl/pem.h>

namespace certagent::protocol {
namespace {

using AuthorityKeyId = ossl::Ptr<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using OctetString = ossl::Ptr<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using BasicConstraints = ossl::Ptr<BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free>;

std::string bytes_of(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

Result<std::string> name_line(const X509_NAME* name, const char* what) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  // RFC 2253 order and escaping, but UTF-8 left readable instead of \XX escapes.
  if (!bio || name == nullptr || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
    return std::unexpected(ossl::crypto_error(std::string("printing the ") + what));
  return ossl::bio_to_string(bio.get());
}

// ASN1_TIME -> time_point; dates beyond what the clock can hold (e.g. the
// RFC 5280 "no expiry" 9999-12-31) are clamped to its range.
Result<std::chrono::system_clock::time_point> time_of(const ASN1_TIME* t, const char* what) {
  using namespace std::chrono;
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
    return std::unexpected(ossl::crypto_error(std::string("reading ") + what));
  year_month_day ymd{year{tm.tm_year + 1900}, month{static_cast<unsigned>(tm.tm_mon + 1)},
                     day{static_cast<unsigned>(tm.tm_mday)}};
  if (!ymd.ok()) return fail(ErrorKind::Crypto, std::string(what) + " is not a valid date");
  sys_seconds secs = sys_days(ymd) + hours(tm.tm_hour) + minutes(tm.tm_min) + seconds(tm.tm_sec);
  const auto lo = time_point_cast<seconds>(system_clock::time_point::min()) + seconds(1);
  const auto hi = time_point_cast<seconds>(system_clock::time_point::max()) - seconds(1);
  return time_point_cast<system_clock::duration>(std::clamp(secs, lo, hi));
}

Result<std::string> digest_hex(X509* x, const EVP_MD* md, const char* what) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (md == nullptr || X509_digest(x, md, buf, &len) != 1)
    return std::unexpected(ossl::crypto_error(std::string("computing the ") + what));
  return hex_upper(std::string_view(reinterpret_cast<const char*>(buf), len));
}

// The content octets of a DER TLV (tag and length stripped).
Result<std::string> der_content(const std::string& tlv) {
  if (tlv.size() < 2) return fail(ErrorKind::Crypto, "DER value too short");
  auto first = static_cast<unsigned char>(tlv[1]);
  size_t header = 2;
  size_t len = first;
  if (first & 0x80) {
    size_t n = first & 0x7f;
    if (n == 0 || n > 4 || tlv.size() < 2 + n) return fail(ErrorKind::Crypto, "bad DER length");
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>(tlv[2 + i]);
    header += n;
  }
  if (tlv.size() != header + len) return fail(ErrorKind::Crypto, "DER length does not match the value");
  return tlv.substr(header);
}

Result<void> read_serial(X509* x, CertificateInfo& info) {
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x);
  ossl::Bignum bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return std::unexpected(ossl::crypto_error("reading the serial number"));
  ossl::OsslString hex(BN_bn2hex(bn.get()));
  int len = i2d_ASN1_INTEGER(serial, nullptr);
  if (!hex || len <= 0) return std::unexpected(ossl::crypto_error("encoding the serial number"));
  info.serial_hex = hex.get();
  std::string tlv(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(tlv.data());
  if (i2d_ASN1_INTEGER(serial, &p) != len) return std::unexpected(ossl::crypto_error("encoding the serial number"));
  auto content = der_content(tlv);
  if (!content) return std::unexpected(std::move(content.error()).context("encoding the serial number"));
  info.serial_der = std::move(*content);
  return ok();
}

Result<void> add_general_name(const GENERAL_NAME* gn, CertificateInfo& info) {
  if (gn->type == GEN_DNS) {
    std::string dns = bytes_of(gn->d.dNSName);
    if (dns.find('\0') != std::string::npos)
      return fail(ErrorKind::Crypto, "a dNSName SAN contains a NUL byte");
    info.dns_names.push_back(std::move(dns));
  } else if (gn->type == GEN_IPADD) {
    std::string ip = bytes_of(gn->d.iPAddress);
    char text[INET6_ADDRSTRLEN] = {};
    if ((ip.size() != 4 && ip.size() != 16) ||
        inet_ntop(ip.size() == 4 ? AF_INET : AF_INET6, ip.data(), text, sizeof text) == nullptr)
      return fail(ErrorKind::Crypto, "an iPAddress SAN has " + std::to_string(ip.size()) + " octets (4 or 16 expected)");
    info.ip_addresses.emplace_back(text);
  }
  return ok();  // other SAN types (email, URI, ...) are not used by certagent
}

Result<void> read_sans(X509* x, CertificateInfo& info) {
  int crit = 0;
  ossl::GeneralNames gens(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &crit, nullptr)));
  if (!gens) {
    if (crit == -1) return ok();  // no SAN extension
    if (crit == -2) return fail(ErrorKind::Crypto, "the certificate has more than one subjectAltName extension");
    return std::unexpected(ossl::crypto_error("decoding the subjectAltName extension"));
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(gens.get()); ++i)
    if (auto r = add_general_name(sk_GENERAL_NAME_value(gens.get(), i), info); !r) return r;
  return ok();
}

// Decodes an optional extension; null with crit == -1 means absent.
template <class Owner>
Result<Owner> optional_ext(X509* x, int nid, const char* what) {
  int crit = 0;
  Owner ext(static_cast<typename Owner::pointer>(X509_get_ext_d2i(x, nid, &crit, nullptr)));
  if (!ext && crit != -1) {
    if (crit == -2) return fail(ErrorKind::Crypto, std::string("the certificate has more than one ") + what + " extension");
    return std::unexpected(ossl::crypto_error(std::string("decoding the ") + what + " extension"));
  }
  return ext;
}

Result<void> read_key_ids(X509* x, CertificateInfo& info) {
  auto aki = optional_ext<AuthorityKeyId>(x, NID_authority_key_identifier, "authorityKeyIdentifier");
  if (!aki) return std::unexpected(aki.error());
  if (*aki) info.authority_key_id = bytes_of((*aki)->keyid);
  auto ski = optional_ext<OctetString>(x, NID_subject_key_identifier, "subjectKeyIdentifier");
  if (!ski) return std::unexpected(ski.error());
  if (*ski) info.subject_key_id = bytes_of(ski->get());
  auto bc = optional_ext<BasicConstraints>(x, NID_basic_constraints, "basicConstraints");
  if (!bc) return std::unexpected(bc.error());
  info.is_ca = *bc && (*bc)->ca != 0;
  return ok();
}

Result<CertificateInfo> read_info(X509* x) {
  CertificateInfo info;
  auto subject = name_line(X509_get_subject_name(x), "subject");
  auto issuer = name_line(X509_get_issuer_name(x), "issuer");
  auto nb = time_of(X509_get0_notBefore(x), "notBefore");
  auto na = time_of(X509_get0_notAfter(x), "notAfter");
  auto sha1 = digest_hex(x, EVP_sha1(), "SHA-1 thumbprint");
  auto sha256 = digest_hex(x, EVP_sha256(), "SHA-256 fingerprint");
  for (const Error* e : {subject ? nullptr : &subject.error(), issuer ? nullptr : &issuer.error(),
                         nb ? nullptr : &nb.error(), na ? nullptr : &na.error(),
                         sha1 ? nullptr : &sha1.error(), sha256 ? nullptr : &sha256.error()})
    if (e != nullptr) return std::unexpected(*e);
  info.subject = std::move(*subject);
  info.issuer = std::move(*issuer);
  info.not_before = *nb;
  info.not_after = *na;
  info.sha1_thumbprint = std::move(*sha1);
  info.sha256_fingerprint = std::move(*sha256);
  if (auto r = read_serial(x, info); !r) return std::unexpected(r.error());
  if (auto r = read_sans(x, info); !r) return std::unexpected(r.error());
  if (auto r = read_key_ids(x, info); !r) return std::unexpected(r.error());
  return info;
}

Result<std::string> der_of(X509* x) {
  int len = i2d_X509(x, nullptr);
  if (len <= 0) return std::unexpected(ossl::crypto_error("encoding a certificate as DER"));
  std::string out(static_cast<size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (i2d_X509(x, &p) != len) return std::unexpected(ossl::crypto_error("encoding a certificate as DER"));
  return out;
}

}  // namespace

std::string hex_upper(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0x0f];
  }
  return out;
}

std::string to_utc_string(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  struct tm tm {};
  char buf[32] = {};
  if (gmtime_r(&tt, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    return "(unprintable time)";
  return buf;
}

Result<Certificate> Certificate::from_x509(ossl::X509Ptr x509) {
  if (!x509) return fail(ErrorKind::Invalid, "no certificate");
  auto info = read_info(x509.get());
  if (!info) return std::unexpected(std::move(info.error()).context("reading a certificate"));
  return Certificate(std::move(x509), std::move(*info));
}

Result<Certificate> Certificate::from_der(std::string_view der) {
  ERR_clear_error();
  if (der.empty() || der.size() > (1u << 20)) return fail(ErrorKind::Invalid, "certificate DER is empty or over 1 MiB");
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ossl::X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x) return std::unexpected(ossl::crypto_error("decoding a DER certificate"));
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
    return fail(ErrorKind::Crypto, "decoding a DER certificate: " +
                                       std::to_string(der.data() + der.size() - reinterpret_cast<const char*>(p)) +
                                       " unexpected bytes after the certificate");
  // OpenSSL also takes some BER (non-zero padding bits in the signature, long-form lengths) and
  // writes it back canonically; the thumbprints hash that re-encoding, so they would not match
  // the bytes the CA sent. RFC 5280 certificates are DER: refuse anything else.
  auto canonical = der_of(x.get());
  if (!canonical) return std::unexpected(std::move(canonical.error()).context("decoding a DER certificate"));
  if (*canonical != der)
    return fail(ErrorKind::Crypto, "decoding a DER certificate: it is not in canonical DER (OpenSSL would re-encode it, "
                                   "so its thumbprint would not match its bytes)");
  return from_x509(std::move(x));
}

Result<std::string> Certificate::der() const { return der_of(x509_.get()); }

Result<std::string> Certificate::pem() const {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), x509_.get()) != 1)
    return std::unexpected(ossl::crypto_error("encoding a certificate as PEM"));
  return ossl::bio_to_string(bio.get());
}

Result<Certificate> Certificate::clone() const {
  if (X509_up_ref(x509_.get()) != 1) return std::unexpected(ossl::crypto_error("sharing a certificate"));
  return Certificate(ossl::X509Ptr(x509_.get()), info_);
}

}  // namespace certagent::protocol

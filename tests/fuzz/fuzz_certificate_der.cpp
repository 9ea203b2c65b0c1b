// protocol::Certificate::from_der and the facts read from a certificate (names, SANs, serial,
// times, key identifiers) — the DER inside every PEM block a CA sends; mutating DER directly
// reaches far more of it than mutating base64. Invariants: an accepted certificate encodes
// back to exactly the input bytes and through PEM to the same fingerprint; thumbprints are
// upper-case hex of the right length; the serial is upper-case hex; every iPAddress reads back
// with inet_pton; subject and issuer are one line of valid UTF-8 without ASCII control
// characters (they reach logs and terminals).
#include <arpa/inet.h>

#include "fuzz_check.hpp"
#include "protocol/x509/certificate.hpp"

namespace {

bool is_upper_hex(std::string_view s) {
  return s.find_first_not_of("0123456789ABCDEF") == std::string_view::npos;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

bool printable_line(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return valid_utf8(s);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  const std::string_view der = certagent::fuzz::as_text(data, size);
  auto cert = p::Certificate::from_der(der);
  if (!cert) {
    FUZZ_CHECK(certagent::fuzz::clean_message(cert.error().message));
    return 0;
  }
  const p::CertificateInfo& info = cert->info();
  FUZZ_CHECK(info.sha1_thumbprint.size() == 40 && is_upper_hex(info.sha1_thumbprint));
  FUZZ_CHECK(info.sha256_fingerprint.size() == 64 && is_upper_hex(info.sha256_fingerprint));
  std::string_view serial = info.serial_hex;
  if (serial.starts_with('-')) serial.remove_prefix(1);
  FUZZ_CHECK(!serial.empty() && is_upper_hex(serial));
  FUZZ_CHECK(!info.serial_der.empty());
  for (const auto& ip : info.ip_addresses) {
    unsigned char buf[16];
    FUZZ_CHECK(inet_pton(ip.find(':') == std::string::npos ? AF_INET : AF_INET6, ip.c_str(), buf) == 1);
  }
  for (const auto& dns : info.dns_names) FUZZ_CHECK(dns.find('\0') == std::string::npos);
  FUZZ_CHECK(printable_line(info.subject));
  FUZZ_CHECK(printable_line(info.issuer));

  auto again = cert->der();
  FUZZ_CHECK(again && *again == der);
  auto pem = cert->pem();
  FUZZ_CHECK(pem.has_value());
  auto chain = p::parse_pem_chain(*pem);
  FUZZ_CHECK(chain && chain->size() == 1);
  FUZZ_CHECK(chain->front().info().sha256_fingerprint == info.sha256_fingerprint);
  return 0;
}

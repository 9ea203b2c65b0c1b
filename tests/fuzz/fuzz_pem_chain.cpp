// protocol::parse_pem_chain, the strict splitter for the chain an ACME CA delivers (RFC 8555
// §9.1), and the lenient trust-bundle mode. Invariants: an accepted chain re-serializes to PEM
// that parses to the same certificates (by SHA-256 fingerprint); whatever the strict mode
// accepts, the trust-bundle mode accepts too, with the same certificates; every message is
// non-empty.
#include "fuzz_check.hpp"
#include "protocol/x509/certificate.hpp"

namespace {

using certagent::protocol::Certificate;

std::vector<std::string> fingerprints(const std::vector<Certificate>& chain) {
  std::vector<std::string> out;
  for (const auto& cert : chain) {
    FUZZ_CHECK(cert.info().sha256_fingerprint.size() == 64);
    FUZZ_CHECK(cert.info().sha1_thumbprint.size() == 40);
    out.push_back(cert.info().sha256_fingerprint);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = certagent::protocol;
  const std::string_view text = certagent::fuzz::as_text(data, size);
  auto chain = p::parse_pem_chain(text);
  auto bundle = p::parse_trust_bundle(text);
  if (!bundle) FUZZ_CHECK(certagent::fuzz::clean_message(bundle.error().message));
  if (!chain) {
    FUZZ_CHECK(certagent::fuzz::clean_message(chain.error().message));
    return 0;
  }
  FUZZ_CHECK(!chain->empty() && chain->size() <= p::PemLimits{}.max_certificates);
  const auto original = fingerprints(*chain);
  FUZZ_CHECK(bundle && fingerprints(*bundle) == original);

  auto pem = p::to_pem_chain(*chain);
  FUZZ_CHECK(pem.has_value());
  auto again = p::parse_pem_chain(*pem);
  FUZZ_CHECK(again && fingerprints(*again) == original);
  for (const auto& cert : *chain) {
    auto der = cert.der();
    FUZZ_CHECK(der.has_value());
    auto from_der = Certificate::from_der(*der);
    FUZZ_CHECK(from_der && from_der->info().sha256_fingerprint == cert.info().sha256_fingerprint);
  }
  return 0;
}

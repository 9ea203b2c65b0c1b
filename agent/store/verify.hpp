#pragma once
// The checks the store makes before it keeps or binds a certificate version,
// on top of protocol/x509/certificate.hpp: PEM text holds only certificates, the key
// belongs to the certificate, and meta.json's facts are cert.pem's.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/store/certificate_meta.hpp"
#include "common/error.hpp"
#include "protocol/x509/certificate.hpp"

namespace certagent::agent {

// `leaf_pem` holds exactly one certificate (and nothing else).
[[nodiscard]] Result<protocol::Certificate> parse_leaf(std::string_view leaf_pem);
// `chain_pem` holds certificates only; empty (or blank) text is an empty chain.
[[nodiscard]] Result<std::vector<protocol::Certificate>> parse_chain(std::string_view chain_pem);

// The private key in `key_pem` is the one whose public half `leaf_pem` certifies.
[[nodiscard]] Result<void> check_key_matches(std::string_view key_pem, std::string_view leaf_pem);

// Copies the certificate's facts into `meta`: names (DNS SANs), subject,
// issuer, validity, thumbprint, SHA-256, serial. Other fields are kept.
void fill_from_certificate(CertificateMeta& meta, const protocol::CertificateInfo& info);

// Upper-case hex SHA-256 of `bytes`.
[[nodiscard]] std::string sha256_hex(std::string_view bytes);

// The version id <state>/live/<purpose> names; nullopt when there is no such
// link; an error when it is something certagent did not make.
class Store;
[[nodiscard]] Result<std::optional<std::string>> bound_version_id(const Store& store, std::string_view purpose);

}  // namespace certagent::agent

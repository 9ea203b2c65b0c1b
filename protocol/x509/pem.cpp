// Strict PEM chain parsing (RFC 7468 blocks; RFC 8555 §9.1 chains).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "protocol/x509/certificate.hpp"

namespace certagent::protocol {
namespace {

inline void free_bytes(unsigned char* p) { OPENSSL_free(p); }
using OsslBytes = ossl::Ptr<unsigned char, free_bytes>;

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kDashes = "-----";

struct PemBlock {
  std::string label;
  std::string_view text;  // BEGIN line through END line
  size_t line = 0;        // 1-based line of the BEGIN line
};

// Line numbers for messages, counted incrementally as the parser moves forward.
class LineCounter {
 public:
  explicit LineCounter(std::string_view in) : in_(in) {}
  size_t at(size_t pos) {
    line_ += static_cast<size_t>(std::count(in_.begin() + static_cast<std::ptrdiff_t>(counted_),
                                            in_.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
    counted_ = pos;
    return line_;
  }

 private:
  std::string_view in_;
  size_t counted_ = 0;
  size_t line_ = 1;
};

// A short printable excerpt of one line for error messages (never the whole input).
std::string excerpt(std::string_view s, size_t max = 24) {
  s = s.substr(0, s.find_first_of("\r\n"));
  std::string out;
  for (unsigned char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  if (s.size() > max) out += "...";
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Reads one block starting at `pos` (which points at "-----BEGIN "); advances pos.
Result<PemBlock> read_block(std::string_view in, size_t& pos, size_t line) {
  PemBlock block;
  block.line = line;
  size_t label_end = in.find(kDashes, pos + kBegin.size());
  size_t eol = in.find('\n', pos);
  if (label_end == std::string_view::npos || (eol != std::string_view::npos && label_end > eol))
    return fail(ErrorKind::Invalid, "malformed PEM BEGIN line at line " + std::to_string(block.line));
  block.label = std::string(in.substr(pos + kBegin.size(), label_end - pos - kBegin.size()));
  std::string end_line = "-----END " + block.label + "-----";
  size_t end = in.find(end_line, label_end + kDashes.size());
  size_t next_begin = in.find(kBegin, label_end + kDashes.size());
  if (end == std::string_view::npos || (next_begin != std::string_view::npos && next_begin < end))
    return fail(ErrorKind::Invalid, "truncated PEM: the '" + excerpt(block.label, 40) + "' block at line " +
                                        std::to_string(block.line) + " has no END line");
  block.text = in.substr(pos, end + end_line.size() - pos);
  pos = end + end_line.size();
  return block;
}

Result<std::vector<PemBlock>> split_blocks(std::string_view in, const PemLimits& limits) {
  std::vector<PemBlock> blocks;
  LineCounter lines(in);
  size_t pos = 0;
  while (true) {
    while (pos < in.size() && is_space(in[pos])) ++pos;
    if (pos == in.size()) break;
    if (in.substr(pos).starts_with(kBegin)) {
      auto block = read_block(in, pos, lines.at(pos));
      if (!block) return std::unexpected(block.error());
      blocks.push_back(std::move(*block));
      if (blocks.size() > limits.max_certificates)
        return fail(ErrorKind::Invalid, "more than " + std::to_string(limits.max_certificates) + " certificates");
      continue;
    }
    if (!limits.allow_text_between_blocks)
      return fail(ErrorKind::Invalid, "unexpected text outside PEM blocks at line " + std::to_string(lines.at(pos)) +
                                          ": '" + excerpt(in.substr(pos)) + "'");
    size_t next = in.find(kBegin, pos);
    if (next == std::string_view::npos) break;
    pos = next;
  }
  if (blocks.empty()) return fail(ErrorKind::Invalid, "no PEM CERTIFICATE block found");
  return blocks;
}

Result<Certificate> decode_block(const PemBlock& block, CertificateMemo* memo) {
  if (block.label != "CERTIFICATE")
    return fail(ErrorKind::Invalid, "found a '" + excerpt(block.label, 40) + "' PEM block at line " +
                                        std::to_string(block.line) + " (only CERTIFICATE blocks are accepted)");
  auto bio = ossl::mem_bio(block.text);
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  int rc = bio ? PEM_read_bio(bio.get(), &name, &header, &data, &len) : 0;
  ossl::OsslString name_owner(name), header_owner(header);
  OsslBytes data_owner(data);
  std::string where = "the CERTIFICATE block at line " + std::to_string(block.line);
  if (rc != 1) return std::unexpected(ossl::crypto_error("decoding " + where));
  if (header != nullptr && header[0] != '\0')
    return fail(ErrorKind::Invalid, where + " has PEM headers (encrypted or legacy PEM is not accepted)");
  const std::string_view der(reinterpret_cast<const char*>(data), static_cast<size_t>(len));
  auto cert = memo != nullptr ? memo->from_der(der) : Certificate::from_der(der);
  if (!cert) return std::unexpected(std::move(cert.error()).context(where));
  return cert;
}

Result<std::string> read_file_capped(const std::filesystem::path& file, size_t max) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorKind::Storage, "opening " + file.string() + ": " + std::strerror(errno));
  std::string text(max + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return fail(ErrorKind::Storage, "reading " + file.string());
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

Result<std::vector<Certificate>> parse_chain(std::string_view pem, const PemLimits& limits, CertificateMemo* memo) {
  ERR_clear_error();
  if (pem.size() > limits.max_bytes)
    return fail(ErrorKind::Invalid, "parsing a PEM certificate chain: " + std::to_string(pem.size()) +
                                        " bytes is over the limit of " + std::to_string(limits.max_bytes));
  auto blocks = split_blocks(pem, limits);
  if (!blocks) return std::unexpected(std::move(blocks.error()).context("parsing a PEM certificate chain"));
  std::vector<Certificate> certs;
  for (const auto& block : *blocks) {
    auto cert = decode_block(block, certs.empty() ? nullptr : memo);
    if (!cert) return std::unexpected(std::move(cert.error()).context("parsing a PEM certificate chain"));
    certs.push_back(std::move(*cert));
  }
  return certs;
}

}  // namespace

Result<std::vector<Certificate>> parse_pem_chain(std::string_view pem, const PemLimits& limits) {
  return parse_chain(pem, limits, nullptr);
}

Result<std::vector<Certificate>> parse_pem_chain(std::string_view pem, CertificateMemo& intermediates) {
  return parse_chain(pem, PemLimits{}, &intermediates);
}

Result<Certificate> CertificateMemo::from_der(std::string_view der) {
  for (const auto& [bytes, cert] : entries_)
    if (bytes == der) return cert.clone();
  auto cert = Certificate::from_der(der);
  if (!cert) return cert;
  ++parsed_;
  auto kept = cert->clone();
  if (!kept) return cert;  // not remembered; the parse itself is good
  if (entries_.size() >= kMaxEntries) entries_.erase(entries_.begin());
  entries_.emplace_back(std::string(der), std::move(*kept));
  return cert;
}

Result<std::vector<Certificate>> parse_trust_bundle(std::string_view pem) {
  auto certs = parse_pem_chain(pem, kTrustBundleLimits);
  if (!certs) return std::unexpected(std::move(certs.error()).context("reading a trust bundle"));
  return certs;
}

Result<std::vector<Certificate>> load_trust_bundle(const std::filesystem::path& file) {
  auto text = read_file_capped(file, kTrustBundleLimits.max_bytes);
  if (!text) return std::unexpected(std::move(text.error()).context("reading trust bundle " + file.string()));
  auto certs = parse_trust_bundle(*text);
  if (!certs) return std::unexpected(std::move(certs.error()).context("trust bundle " + file.string()));
  return certs;
}

Result<std::string> to_pem_chain(std::span<const Certificate> chain) {
  std::string out;
  for (const auto& cert : chain) {
    auto pem = cert.pem();
    if (!pem) return std::unexpected(pem.error());
    out += *pem;
  }
  return out;
}

}  // namespace certagent::protocol

#include "agent/store/dns_records.hpp"

#include <sstream>

#include "agent/store/fsutil.hpp"

namespace certagent::agent {
namespace fs = std::filesystem;
namespace {

fs::path records_file(const Store& store) { return store.dir() / "dns01-records"; }

// Every field is a DNS name or base64url: no space, no newline.
bool plain(const std::string& s) { return !s.empty() && s.find_first_of(" \t\r\n") == std::string::npos; }

// A DNS name as the solver writes it (lower case; "_acme-challenge" labels are no host names).
bool name_like(const std::string& s) {
  return s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-_") == std::string::npos;
}

}  // namespace

Result<void> write_pending_dns_records(const Store& store, const std::vector<PendingDnsRecord>& records) {
  const fs::path file = records_file(store);
  if (records.empty()) {
    std::error_code ec;
    fs::remove(file, ec);
    if (ec) return fail(ErrorKind::Storage, "removing " + file.string() + ": " + ec.message());
    return ok();
  }
  std::string text;
  for (const auto& r : records) {
    if (!plain(r.zone) || !plain(r.name) || !plain(r.value))
      return fail(ErrorKind::Invalid, "a dns-01 record to journal has an empty field or a space");
    text += r.zone + " " + r.name + " " + r.value + "\n";
  }
  if (auto w = fsutil::write_file_atomic(file, text, 0600); !w)
    return std::unexpected(w.error().context("journaling the dns-01 TXT records"));
  return ok();
}

Result<std::vector<PendingDnsRecord>> read_pending_dns_records(const Store& store) {
  const fs::path file = records_file(store);
  std::vector<PendingDnsRecord> out;
  std::error_code ec;
  if (!fs::exists(file, ec)) return out;
  auto text = fsutil::read_file(file, 1 << 20);
  if (!text) return std::unexpected(text.error());
  std::istringstream in(*text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    std::istringstream fields(line);
    PendingDnsRecord r;
    std::string extra;
    if (!(fields >> r.zone >> r.name >> r.value) || (fields >> extra) || !name_like(r.zone) || !name_like(r.name))
      return fail(ErrorKind::Storage, file.string() + ":" + std::to_string(n) + ": not a record certagent wrote");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace certagent::agent

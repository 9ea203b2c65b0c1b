#pragma once
// The in-flight order journal: before an order is finalized, its URL, names
// and the new certificate key are written (0600) to
// <state>/orders/<certificate-id>.json. After a crash (SIGKILL, power loss)
// the next attempt for that certificate resumes the same order if the CA still
// has it — finalized or not — instead of placing a new one. The journal is
// removed once the certificate is stored, or when the CA no longer has a
// usable order.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct OrderJournal {
  std::string certificate_id;
  std::string order_url;
  std::vector<std::string> names;
  std::string key_pem;  // the certificate key the CSR is (or will be) made from
};

[[nodiscard]] std::filesystem::path order_journal_path(const std::filesystem::path& state_dir,
                                                       const std::string& certificate_id);
[[nodiscard]] Result<void> write_order_journal(const Store& store, const OrderJournal& journal);
// Absent when there is none; an unreadable one is an error (the caller logs
// it, removes it and places a new order).
[[nodiscard]] Result<std::optional<OrderJournal>> read_order_journal(const std::filesystem::path& state_dir,
                                                                     const std::string& certificate_id);
[[nodiscard]] Result<void> remove_order_journal(const Store& store, const std::string& certificate_id);

}  // namespace certagent::agent

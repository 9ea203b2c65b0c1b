#pragma once
// The in-flight order journal, <state>/orders/<certificate-id>.json (0600),
// written (each write whole and fsynced: fsutil::write_file_atomic) step by
// step so that a crash at any point leaves enough to finish the issuance
// without placing a second order:
//   1. the intent (names, profile, account, time), before newOrder is sent;
//   2. the order URL, once the CA created the order — with the new
//      certificate key when it is there without waiting (an EC key always:
//      two writes per order);
//   3. otherwise the key on its own (an RSA key still being generated), before
//      the CSR made from it is sent (finalize).
// Either way the key is durable before any CSR is made from it.
// The next attempt for that certificate resumes the journaled order if the CA
// still has it; with only an intent, it looks the order up in the account's
// orders list (agent/engine/order_lookup.hpp) before placing a new one. The journal
// is removed once the certificate is stored, or when the CA no longer has a
// usable order.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/store/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct OrderJournal {
  std::string certificate_id;
  std::string order_url;  // "" : only the intent (newOrder may or may not have reached the CA)
  std::vector<std::string> names;
  std::string key_pem;      // the certificate key the CSR is (or will be) made from; "" not yet generated
  std::string profile{};    // the profile newOrder asks for ("" none)
  std::string account_url{};  // the account the order is placed with
  std::int64_t intent_time = 0;  // Unix seconds when the intent was journaled
};

// The journal as its file holds it (JSON, format 1), and back; also what a pool's leader seals
// into etcd for the member that takes over (agent/engine/pool/). `what` names the source in the
// error ("<file> is not an order journal certagent wrote: ...").
[[nodiscard]] std::string order_journal_json(const OrderJournal& journal);
[[nodiscard]] Result<OrderJournal> parse_order_journal(std::string_view text, const std::string& what);

[[nodiscard]] std::filesystem::path order_journal_path(const std::filesystem::path& state_dir,
                                                       const std::string& certificate_id);
// Needs no lock of the caller's for different certificates at once (it
// touches only the journal's own file, and creates orders/ one at a time);
// one certificate's journal is written by one thread at a time.
[[nodiscard]] Result<void> write_order_journal(const Store& store, const OrderJournal& journal);
// Absent when there is none; an unreadable one is an error (the caller logs
// it, removes it and places a new order).
[[nodiscard]] Result<std::optional<OrderJournal>> read_order_journal(const std::filesystem::path& state_dir,
                                                                     const std::string& certificate_id);
[[nodiscard]] Result<std::optional<OrderJournal>> read_order_journal(const Store& store,
                                                                     const std::string& certificate_id);
// Removes the journal without an fsync of orders/ of its own: it goes once the
// certificate is stored (durably) or the order is void, and a removal lost in a
// power failure only makes the next pass resume that order, which finds the
// version already stored (or the order gone) — no second order. The next
// journal write fsyncs orders/ anyway, and an engine pass fsyncs it at its end.
[[nodiscard]] Result<void> remove_order_journal(const Store& store, const std::string& certificate_id);

}  // namespace certagent::agent

#pragma once
// The CA's renewal information (RFC 9773) as the state directory keeps it, so that planning
// needs no network (agent/engine/ari.hpp fetches, agent/store/renewal.hpp rule 2 uses it):
//
//   <state>/ari/                    0700
//   <state>/ari/ca.json             0644 {"format":1,"directory":URL,"renewal_info":URL or "","checked_at":T}
//   <state>/ari/<thumbprint>.json   0644 {"format":1,"cert_id":ID,"start":T,"end":T,"recheck_at":T,"fetched_at":T}
//
// `fetched_at`: when the CA sent this window; a failed re-check moves recheck_at, not
// fetched_at. Times: whole seconds since 1970, UTC. Writers hold the writer lock (the store's
// mutex when passes run orders concurrently); readers take none.
#include <optional>
#include <string>
#include <string_view>

#include "common/time.hpp"
#include "agent/store/shared.hpp"
#include "agent/store/store.hpp"
#include "common/error.hpp"

namespace certagent::agent {

struct CaDirectoryNote {
  std::string directory_url;
  std::string renewal_info;  // the directory's renewalInfo URL; empty: the CA offers no ARI
  TimePoint checked_at{};
};

struct AriRecord {
  std::string cert_id;  // RFC 9773 §4.1
  TimePoint start{}, end{};
  TimePoint recheck_at{};
  TimePoint fetched_at{};
};

// note_ca_directory leaves an identical note younger than this as it is (once per pass, not per order).
inline constexpr Seconds kCaNoteRewrite{3600};

[[nodiscard]] Result<std::optional<CaDirectoryNote>> read_ca_directory_note(const Store& store);
[[nodiscard]] Result<void> note_ca_directory(const StoreWriter& store, const CaDirectoryNote& note);
[[nodiscard]] Result<std::optional<AriRecord>> read_ari_record(const Store& store, std::string_view thumbprint);
[[nodiscard]] Result<void> write_ari_record(const StoreWriter& store, std::string_view thumbprint,
                                           const AriRecord& record);

// The files, for messages that name them (`status` lists unreadable ones as problems).
[[nodiscard]] std::filesystem::path ca_directory_note_path(const Store& store);
[[nodiscard]] std::filesystem::path ari_record_path(const Store& store, std::string_view thumbprint);

}  // namespace certagent::agent

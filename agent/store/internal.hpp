#pragma once
// Between the store's own files (versions.cpp, inventory.cpp); not an interface.
#include <filesystem>
#include <memory>
#include <string_view>

#include "agent/store/store.hpp"

namespace certagent::agent {

// A version's five files, in the order the store writes them.
inline constexpr const char* kVersionFiles[] = {"privkey.pem", "cert.pem", "chain.pem", "fullchain.pem", "meta.json"};

// Store::load_version for the directory `rel` relative to the descriptor `at_fd` (AT_FDCWD
// and the full path for one look; the inventory opens certs/ once and walks one path
// component per version). `certs` is <state>/certs, for the result and the messages.
[[nodiscard]] Result<StoredVersion> load_version_at(int at_fd, const char* rel,
                                                    std::shared_ptr<const std::filesystem::path> certs,
                                                    std::string_view id);

// Empties the fields of `meta` an InventoryDetail::Plan scan leaves out (store.hpp).
void keep_plan_fields(CertificateMeta& meta);

}  // namespace certagent::agent

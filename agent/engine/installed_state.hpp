#pragma once
// What is installed now, read from the store, in the form policy::plan takes.
#include <filesystem>
#include <string>
#include <vector>

#include "agent/store/store.hpp"
#include "common/error.hpp"
#include "policy/plan.hpp"

namespace certagent::agent {

// Bindings: purpose -> the bound version's thumbprint (an incomplete binding
// keeps the version id, which plan reports as "not in the store").
// Certificates: every complete version with a key type policy/ knows.
[[nodiscard]] policy::Installed to_installed(const Inventory& inventory);
// The same, moving each version's names into the result (the inventory's are left empty): for a
// caller that reads no names of the inventory afterwards (the pass, `plan`: one copy of 10,000
// certificates' names, not two).
[[nodiscard]] policy::Installed to_installed_moving_names(Inventory& inventory);

// Reads the state directory read-only (no lock). A state directory that does
// not exist yet means nothing is installed. `problems` receives what the store
// skipped, one line each.
[[nodiscard]] Result<policy::Installed> installed_state(const std::filesystem::path& state_dir,
                                                        std::vector<std::string>& problems);

}  // namespace certagent::agent

#pragma once
// What a pool member last saw of its pool in etcd (docs/pool.md), kept in <state>/pool.json so
// that `certagent status` shows it without the network: per pool-wide certificate, who leads
// (orders) it now, the pool's version and who ordered it, and the thumbprint each member has
// bound. Written by each pass of a pool member (agent/engine/pool/pool.hpp).
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace certagent::agent {

struct PoolViewCertificate {
  std::string id;
  std::string leader;              // the member ordering it now; "" none
  std::string thumbprint;          // the pool's version; "" none published
  std::string ordered_by;          // the member that ordered that version
  std::map<std::string, std::string> bound;  // member -> thumbprint it has bound
};

struct PoolView {
  std::string pool;
  std::string member;              // this member
  std::chrono::sys_seconds as_of{};
  std::vector<PoolViewCertificate> certificates;  // sorted by id
};

[[nodiscard]] std::filesystem::path pool_view_path(const std::filesystem::path& state_dir);
[[nodiscard]] Result<void> write_pool_view(const std::filesystem::path& state_dir, const PoolView& view);
// Absent when no pass of a pool member has written one.
[[nodiscard]] Result<std::optional<PoolView>> read_pool_view(const std::filesystem::path& state_dir);

}  // namespace certagent::agent

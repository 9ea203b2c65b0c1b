#include "protocol/acme/nonce_pool.hpp"

#include "protocol/x509/base64.hpp"

namespace certagent::protocol {

namespace {
constexpr size_t kMaxNonceLength = 512;
}

bool NoncePool::add(std::string_view nonce) {
  if (nonce.size() > kMaxNonceLength || !is_base64url(nonce)) return false;
  std::string n(nonce);
  std::lock_guard lock(mutex_);
  if (!used_.insert(n).second) return false;
  pool_.push_back(std::move(n));
  if (pool_.size() > capacity_) pool_.pop_front();
  return true;
}

std::optional<std::string> NoncePool::take() {
  std::lock_guard lock(mutex_);
  if (pool_.empty()) return std::nullopt;
  std::string n = std::move(pool_.back());
  pool_.pop_back();
  return n;
}

size_t NoncePool::size() const {
  std::lock_guard lock(mutex_);
  return pool_.size();
}

}  // namespace certagent::protocol

#pragma once
// Anti-replay nonces (RFC 8555 §6.5): every Replay-Nonce the CA sends is kept
// and used once; a nonce is never handed out twice. Safe to share between the
// sessions of several threads (AcmeSession::sibling): every call takes a lock.
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace certagent::protocol {

class NoncePool {
 public:
  explicit NoncePool(size_t capacity = 8) : capacity_(capacity) {}

  // Keeps `nonce` if it is well-formed base64url and was never used; the
  // oldest is dropped when full. Returns whether it was kept.
  bool add(std::string_view nonce);
  // The freshest unused nonce, removed from the pool; nullopt when empty.
  [[nodiscard]] std::optional<std::string> take();
  [[nodiscard]] size_t size() const;

 private:
  mutable std::mutex mutex_;
  size_t capacity_;
  std::deque<std::string> pool_;
  std::unordered_set<std::string> used_;  // every nonce ever taken or queued
};

}  // namespace certagent::protocol

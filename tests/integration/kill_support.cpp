#include "kill_support.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <exception>

#include "agent/store/store.hpp"

namespace certagent::integration {

PoolPolicy pool_with(const std::string& extra_domain, const std::string& hook) {
  PoolPolicy p = pool("shared");
  p.sip_domains = {"contoso.com", extra_domain};
  for (const auto& purpose : kPurposes) p.hooks[purpose] = {hook};
  return p;
}

namespace {

// Inside view: every binding names a complete version whose key matches its certificate.
void verify_bindings(const EngineSandbox& box, StoreCheck& check) {
  auto store = agent::Store::open(box.state());
  if (!store) return check.failures.push_back("the store does not open: " + store.error().message);
  for (const auto& purpose : kPurposes) {
    auto b = store->binding(purpose);
    if (!b) {
      check.failures.push_back(purpose + ": " + b.error().message);
      continue;
    }
    if (!*b) continue;
    if (!(*b)->complete) check.failures.push_back(purpose + " is bound to an incomplete version " + (*b)->version_id);
    if (auto v = store->verify_version((*b)->version_id); !v) {
      check.failures.push_back(purpose + ": " + v.error().message);
      ++check.verify_failures;
    }
  }
}

}  // namespace

StoreCheck check_store(const EngineSandbox& box, bool must_be_bound, const std::string& old_thumbprint) {
  StoreCheck check;
  if (auto status = box.certagent({"status"}); status.exit_code != 0)
    check.failures.push_back("status failed: " + status.err);
  std::map<std::string, boost::json::object> certs;
  try {
    certs = box.certs();
  } catch (const std::exception& e) {
    check.failures.push_back(e.what());
    return check;
  }
  for (const auto& purpose : kPurposes) {
    auto it = certs.find(purpose);
    if (it == certs.end()) {
      check.failures.push_back("certs --json lacks " + purpose);
      check.thumbprints.emplace_back();
      continue;
    }
    const std::string t = thumbprint_of(it->second);
    check.thumbprints.push_back(t);
    if (t.empty() && must_be_bound) check.failures.push_back(purpose + " is unbound");
    if (!t.empty() && t != old_thumbprint && !it->second.at("missing").as_array().empty())
      check.failures.push_back(fmt::format("{} is bound to {}, neither the old certificate nor one with every name",
                                           purpose, t));
  }
  verify_bindings(box, check);
  return check;
}

std::string outcome_text(const ProcessOutcome& r) {
  return fmt::format("exit {} signal {}{}\nstdout:\n{}\nstderr:\n{}", r.exit_code, r.signal,
                     r.timed_out ? " (timed out)" : "", r.out, r.err);
}

std::size_t count_from_env(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const unsigned long n = std::strtoul(v, &end, 10);
  return (end != nullptr && *end == '\0' && n > 0) ? n : fallback;
}

}  // namespace certagent::integration

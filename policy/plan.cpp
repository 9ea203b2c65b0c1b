#include "policy/plan.hpp"
#include "common/text.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string_view>
#include <vector>

namespace certagent::policy {
namespace {

using Cert = InstalledCertificate;

struct Bound {
  std::vector<const Cert*> distinct;     // the certificates bound to the purposes, first-seen order
  std::vector<std::string> unbound;      // purposes with no (known) certificate
  std::vector<std::string> unknown;      // thumbprints bound but not in the store
};

std::string short_id(std::string_view thumbprint) { return std::string(thumbprint.substr(0, 12)); }
std::string when(TimePoint t) { return fmt::format("{:%Y-%m-%d %H:%M} UTC", std::chrono::floor<std::chrono::seconds>(t)); }

// The installed certificates sorted by thumbprint (equal ones in their order), built once per plan:
// 8 bytes a certificate (a hash map was 48, at the pass's peak at 10,000 certificates: issue 26).
using ByThumbprint = std::vector<const Cert*>;

ByThumbprint index_by_thumbprint(const Installed& in) {
  ByThumbprint out;
  out.reserve(in.certificates.size());
  for (const auto& c : in.certificates) out.push_back(&c);
  std::stable_sort(out.begin(), out.end(), [](const Cert* a, const Cert* b) { return a->thumbprint < b->thumbprint; });
  return out;
}

// The first installed certificate with this thumbprint; null: none.
const Cert* find(const ByThumbprint& index, std::string_view thumbprint) {
  auto it = std::lower_bound(index.begin(), index.end(), thumbprint,
                             [](const Cert* c, std::string_view t) { return c->thumbprint < t; });
  return it == index.end() || (*it)->thumbprint != thumbprint ? nullptr : *it;
}

Bound bound_to(const RequiredCertificate& req, const Installed& in, const ByThumbprint& index) {
  Bound b;
  for (const auto& purpose : req.purposes) {
    auto it = in.bindings.find(purpose);
    const Cert* c = it == in.bindings.end() ? nullptr : find(index, it->second);
    if (it != in.bindings.end() && !c) b.unknown.push_back(short_id(it->second));
    if (!c) b.unbound.push_back(purpose);
    else if (std::find(b.distinct.begin(), b.distinct.end(), c) == b.distinct.end()) b.distinct.push_back(c);
  }
  return b;
}

// Certificates may spell SANs in any case, with a trailing dot; compare canonically.

std::set<std::string> name_set(const Cert& c) {
  std::set<std::string> out;
  for (const auto& n : c.names) out.insert(canonical_dns_name(n));
  return out;
}

std::set<std::string> name_set(const RequiredCertificate& req) {
  std::set<std::string> out;
  for (const auto& n : req.names) out.insert(n.name);
  return out;
}

std::string_view profile_of(const RequiredCertificate& req) {
  return req.profile ? std::string_view(req.profile->name) : std::string_view();
}

bool fits(const RequiredCertificate& req, const Cert& c) {
  return c.key == req.key && c.profile == profile_of(req) && name_set(c) == name_set(req);
}

std::string profile_text(std::string_view p) { return p.empty() ? "no profile" : fmt::format("profile '{}'", p); }

// The renewal time the agent decided (decide_renewal with the CA's ARI window, jitter and the
// previous draw); for a certificate it has not decided for (`certagent plan`), the same rule
// without a random draw; for a validity no rule applies to (notAfter not after notBefore), its end.
TimePoint due_at(const RequiredCertificate& req, const Cert& c, TimePoint now) {
  if (c.renew_at) return *c.renew_at;
  auto decided = decide_renewal(RenewalInput{c.not_before, c.not_after, std::nullopt, req.renewal, std::nullopt}, now);
  return decided ? decided->renew_at : c.not_after;
}

// A stored certificate that could be bound as it is: exact names and key, valid now, not due.
const Cert* usable_stored(const RequiredCertificate& req, const Installed& in, TimePoint now) {
  const Cert* best = nullptr;
  for (const auto& c : in.certificates) {
    if (!fits(req, c) || now < c.not_before || now >= due_at(req, c, now)) continue;
    if (!best || c.not_after > best->not_after || (c.not_after == best->not_after && c.thumbprint < best->thumbprint))
      best = &c;
  }
  return best;
}

Action renew_or_keep(Action a, const Cert& c, const Bound& b, TimePoint now) {
  a.thumbprint = c.thumbprint;
  a.renewal_due = due_at(a.certificate, c, now);
  const std::string unbound = b.unbound.empty() ? "" : fmt::format("; {} not bound to it yet", fmt::join(b.unbound, ", "));
  if (now >= c.not_after) {
    a.kind = ActionKind::Renew;
    a.reason = fmt::format("certificate {} expired on {}{}", short_id(c.thumbprint), when(c.not_after), unbound);
  } else if (now >= *a.renewal_due) {
    a.kind = ActionKind::Renew;
    a.reason = fmt::format("certificate {} is due for renewal since {} (expires {}){}", short_id(c.thumbprint),
                           when(*a.renewal_due), when(c.not_after), unbound);
  } else {
    a.kind = ActionKind::Keep;
    a.reason = fmt::format("certificate {} is bound to {}, carries all {} names, {}; renewal due {}",
                           short_id(c.thumbprint), fmt::join(a.certificate.purposes, ", "), a.certificate.names.size(),
                           to_string(c.key), when(*a.renewal_due));
  }
  return a;
}

Action rebind(Action a, const Cert& c, const Installed& in) {
  a.kind = ActionKind::Rebind;
  a.thumbprint = c.thumbprint;
  for (const auto& p : a.certificate.purposes) {
    auto it = in.bindings.find(p);
    if (it == in.bindings.end() || it->second != c.thumbprint) a.rebind.push_back(p);
  }
  a.reason = fmt::format("stored certificate {} already carries exactly the {} names; bind {} to it",
                         short_id(c.thumbprint), a.certificate.names.size(), fmt::join(a.rebind, ", "));
  return a;
}

Action reissue(Action a, const Bound& b) {
  a.kind = ActionKind::Reissue;
  std::set<std::string> have;
  for (const auto* c : b.distinct) have.merge(name_set(*c));
  const auto want = name_set(a.certificate);
  for (const auto& n : a.certificate.names)
    if (!have.contains(n.name)) a.missing.push_back(n.name);
  for (const auto& n : have)
    if (!want.contains(n)) a.extra.push_back(n);
  std::vector<std::string> why;
  if (!a.missing.empty()) why.push_back(fmt::format("{} required name(s) missing", a.missing.size()));
  if (!a.extra.empty()) why.push_back(fmt::format("{} name(s) no longer wanted", a.extra.size()));
  for (const auto* c : b.distinct)
    if (c->key != a.certificate.key)
      why.push_back(fmt::format("certificate {} has a {} key, the policy wants {}", short_id(c->thumbprint),
                                to_string(c->key), to_string(a.certificate.key)));
  for (const auto* c : b.distinct)
    if (c->profile != profile_of(a.certificate))
      why.push_back(fmt::format("certificate {} was ordered under {}, the policy wants {}", short_id(c->thumbprint),
                                profile_text(c->profile), profile_text(profile_of(a.certificate))));
  if (b.distinct.size() > 1)
    why.push_back(fmt::format("its purposes are bound to {} different certificates and the policy says shared",
                              b.distinct.size()));
  if (!b.unbound.empty()) why.push_back(fmt::format("{} not bound", fmt::join(b.unbound, ", ")));
  a.reason = fmt::format("{}", fmt::join(why, "; "));
  return a;
}

Action decide(RequiredCertificate required, const Installed& in, const ByThumbprint& index, TimePoint now) {
  Action a;
  a.certificate = std::move(required);
  const RequiredCertificate& req = a.certificate;
  const Bound b = bound_to(req, in, index);
  if (b.distinct.size() == 1 && b.unbound.empty() && fits(req, *b.distinct.front())) {
    Action due = renew_or_keep(std::move(a), *b.distinct.front(), b, now);  // `req` is due.certificate now
    // Due, but its successor is stored already (the renewal whose binding a consumer's hook
    // refused and rolled back): bind that one — no second order.
    const Cert* next = due.kind == ActionKind::Renew ? usable_stored(due.certificate, in, now) : nullptr;
    if (!next) return due;
    std::string why = std::move(due.reason);
    due.renewal_due.reset();  // as a rebind from scratch
    Action r = rebind(std::move(due), *next, in);
    r.reason = why + "; " + r.reason;
    return r;
  }
  if (const Cert* c = usable_stored(req, in, now)) return rebind(std::move(a), *c, in);
  if (b.distinct.size() == 1 && fits(req, *b.distinct.front()))
    return renew_or_keep(std::move(a), *b.distinct.front(), b, now);  // partly bound and due
  if (b.distinct.empty()) {
    a.kind = ActionKind::Issue;
    a.reason = fmt::format("nothing is bound to {}", fmt::join(req.purposes, ", "));
    if (!b.unknown.empty())
      a.reason += fmt::format(" (bound certificate {} is not in the store)", fmt::join(b.unknown, ", "));
    return a;
  }
  return reissue(std::move(a), b);
}

}  // namespace

std::string_view to_string(ActionKind k) {
  switch (k) {
    case ActionKind::Issue: return "issue";
    case ActionKind::Reissue: return "reissue";
    case ActionKind::Renew: return "renew";
    case ActionKind::Rebind: return "rebind";
    case ActionKind::Keep: return "keep";
  }
  return "issue";
}

std::vector<Action> plan(std::vector<RequiredCertificate> required, const Installed& installed, TimePoint now) {
  std::vector<Action> out;
  out.reserve(required.size());
  const ByThumbprint index = index_by_thumbprint(installed);
  for (auto& req : required) out.push_back(decide(std::move(req), installed, index, now));
  return out;
}

void plan_each(const Policy& policy, const Installed& installed, TimePoint now,
               const std::function<void(Action&&)>& take) {
  const ByThumbprint index = index_by_thumbprint(installed);
  for_each_required_certificate(policy, installed.bindings,
                                [&](RequiredCertificate&& req) { take(decide(std::move(req), installed, index, now)); });
}

}  // namespace certagent::policy

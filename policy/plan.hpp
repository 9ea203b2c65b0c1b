#pragma once
// What to do for each required certificate, given what is installed now.
// Pure: `now` is a parameter.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/renewal.hpp"
#include "policy/required.hpp"

namespace certagent::policy {

struct InstalledCertificate {
  std::string thumbprint;          // identifies the certificate (e.g. SHA-256 of the DER)
  std::vector<std::string> names;  // its DNS subject alternative names (compared case-insensitively)
  TimePoint not_before{};
  TimePoint not_after{};
  KeyType key = KeyType::EcP256;
  std::optional<TimePoint> renew_at;  // decided by the agent (decide_renewal: ARI, jitter); used as is
  std::string profile{};              // the ACME profile it was ordered under; "" none
};

struct Installed {
  Bindings bindings;                               // purpose -> thumbprint bound now
  std::vector<InstalledCertificate> certificates;  // every stored certificate, bound or not
};

enum class ActionKind { Issue, Reissue, Renew, Rebind, Keep };
[[nodiscard]] std::string_view to_string(ActionKind k);

struct Action {
  RequiredCertificate certificate;
  ActionKind kind = ActionKind::Issue;
  std::string reason;                     // one sentence a human understands
  std::vector<std::string> missing;       // required names the bound certificate(s) lack
  std::vector<std::string> extra;         // names they carry that are no longer wanted
  std::optional<std::string> thumbprint;  // keep/renew: the bound certificate; rebind: the one to bind
  std::vector<std::string> rebind;        // rebind: the purposes to point at `thumbprint`
  std::optional<TimePoint> renewal_due;   // keep/renew: when renewal is (was) due
};

// One action per required certificate, in the same order:
//   keep     every purpose is bound to one certificate with exactly the names,
//            key type and profile, not yet due
//   renew    that certificate is due (or expired)
//   rebind   a stored certificate with exactly the names, key type and profile, not
//            due, exists, but some purpose is unbound or bound elsewhere
//   issue    nothing usable is bound to any of the purposes
//   reissue  something is bound but lacks names, carries unwanted ones, has
//            the wrong key type or profile, or the purposes are split across
//            certificates
// `required` is taken by value: each action takes its certificate from it (moved, when the caller
// moves it in: one copy of every required certificate, not two, at 10,000 of them).
[[nodiscard]] std::vector<Action> plan(std::vector<RequiredCertificate> required, const Installed& installed,
                                       TimePoint now);

// The same for the certificates `policy` requires (required_certificates(policy, installed.bindings)),
// in that order, each made and decided in turn and handed to `take` before the next is made: the
// caller keeps what it needs of each action (the engine's pass: a small record of a kept
// certificate). At 10,000 certificates the required certificates all held at once, then whole
// actions, were two fifths of a pass's memory (issue 26).
void plan_each(const Policy& policy, const Installed& installed, TimePoint now,
               const std::function<void(Action&&)>& take);

}  // namespace certagent::policy

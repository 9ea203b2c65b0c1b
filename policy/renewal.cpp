#include "policy/renewal.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace certagent::policy {

namespace {

using std::chrono::days;

// A candidate renewal time with the words that explain it.
struct Pick {
  TimePoint at;
  RenewalBasis basis;
  std::optional<TimePoint> selected;
  std::string why;
};

// The earliest and latest instants a TimePoint in a certificate or ARI window may sensibly
// hold: 1970-01-01 exclusive (an unset value) and 9999-12-31.
constexpr TimePoint epoch{};
constexpr TimePoint far_future{std::chrono::sys_days{std::chrono::year{9999} / 12 / 31}};

Seconds scale(Seconds d, double f) {
  return Seconds{static_cast<long long>(static_cast<double>(d.count()) * f)};
}

bool explicit_setting(const Renewal& r) { return r.mode != Renewal::Mode::Auto; }

std::string describe_setting(const Renewal& r, Seconds lifetime) {
  if (r.mode == Renewal::Mode::BeforeExpiry) return fmt::format("{} ahead of expiry", format_duration(r.before_expiry));
  return fmt::format("{:g} of the {} lifetime ahead of expiry", r.remaining_fraction, format_duration(lifetime));
}

Result<void> validate(const RenewalInput& in) {
  if (in.not_after <= in.not_before)
    return fail(ErrorKind::Invalid, fmt::format("certificate validity is empty: notAfter {} is not after notBefore {}",
                                                format_rfc3339(in.not_after), format_rfc3339(in.not_before)));
  return ok();
}

// Why the policy's setting cannot be used for this certificate (empty when it can): a lead
// time that is not positive or not shorter than the lifetime would renew every certificate as
// soon as it is issued, and its successor too — a renewal storm. The lifetime rule applies
// instead, and the decision says why.
std::string setting_problem(const Renewal& r, Seconds lifetime) {
  if (r.mode == Renewal::Mode::BeforeExpiry) {
    const Seconds d = r.before_expiry;
    if (d <= Seconds::zero() || d >= lifetime)
      return fmt::format("the policy's renewal {} ahead of expiry is not shorter than the certificate's {} lifetime",
                         format_duration(d), format_duration(lifetime));
    return {};
  }
  const double f = r.remaining_fraction;
  if (!(f > 0.0 && f < 1.0)) return fmt::format("the policy's renewal fraction {:g} is not between 0 and 1", f);
  return {};
}

// A draw in [lo, hi], or the previous one while it still lies there; without `rng`, hi.
TimePoint draw(TimePoint lo, TimePoint hi, const std::optional<TimePoint>& previous, Rng* rng) {
  if (previous && *previous >= lo && *previous <= hi) return *previous;
  return rng ? uniform_time(lo, hi, *rng) : std::max(lo, hi);
}

Pick lifetime_pick(const RenewalInput& in, Rng* rng) {
  const Seconds lifetime = in.not_after - in.not_before;
  const bool short_lived = lifetime < days{10};
  const TimePoint base = in.not_after - (short_lived ? lifetime / 2 : lifetime / 3);
  const Seconds jitter_max = std::min(lifetime / 30, max_lifetime_jitter);
  const TimePoint at = draw(base - jitter_max, base, in.previous_selection, rng);
  return {at, RenewalBasis::Lifetime, at,
          fmt::format("{} of the {} lifetime remains at {}, minus jitter {} (of at most {})",
                      short_lived ? "1/2" : "1/3", format_duration(lifetime), format_rfc3339(base),
                      format_duration(base - at), format_duration(jitter_max))};
}

Pick ari_pick(const AriWindow& w, const RenewalInput& in, TimePoint now, Rng* rng) {
  const TimePoint at = draw(w.start, w.end, in.previous_selection, rng);
  const std::string window = fmt::format("{} .. {}", format_rfc3339(w.start), format_rfc3339(w.end));
  if (w.end <= now)
    return {at, RenewalBasis::AriWindow, at, fmt::format("the CA's ARI window {} has already ended", window)};
  return {at, RenewalBasis::AriWindow, at,
          fmt::format("random point {} in the CA's ARI window {}", format_rfc3339(at), window)};
}

Pick policy_pick(const Renewal& r, const RenewalInput& in) {
  const Seconds lifetime = in.not_after - in.not_before;
  const Seconds lead = r.mode == Renewal::Mode::BeforeExpiry ? r.before_expiry : scale(lifetime, r.remaining_fraction);
  return {in.not_after - lead, RenewalBasis::RenewBefore, std::nullopt,
          fmt::format("the policy's renewal {} ({})", describe_setting(r, lifetime),
                      format_rfc3339(in.not_after))};
}

// Rules 2-4, before the near-expiry cap.
Pick regular_pick(const RenewalInput& in, bool ari_usable, TimePoint now, Rng* rng) {
  if (ari_usable && explicit_setting(in.renewal)) {
    Pick ari = ari_pick(*in.ari, in, now, rng);
    Pick policy = policy_pick(in.renewal, in);
    if (policy.at < ari.at) {
      policy.why += fmt::format(", earlier than {}", ari.why);
      policy.selected = ari.selected;
      return policy;
    }
    ari.why += fmt::format(", earlier than {}", policy.why);
    return ari;
  }
  if (ari_usable) {
    // Where the lifetime rule's point lies inside the CA's window, it is the point: the CA's
    // suggestion is honoured, and a window that reaches to expiry (pebble's, for a certificate of
    // minutes) cannot put the renewal in its last seconds.
    Pick life = lifetime_pick(in, rng);
    if (life.at >= in.ari->start && life.at <= in.ari->end) {
      life.basis = RenewalBasis::AriWindow;
      life.why = fmt::format("{}, inside the CA's ARI window {} .. {}", life.why, format_rfc3339(in.ari->start),
                             format_rfc3339(in.ari->end));
      return life;
    }
    return ari_pick(*in.ari, in, now, rng);
  }
  if (explicit_setting(in.renewal)) return policy_pick(in.renewal, in);
  return lifetime_pick(in, rng);
}

// Rule 1: expired or near expiry, as a cap on the regular pick.
Pick apply_near_expiry(Pick pick, const RenewalInput& in, TimePoint now) {
  const Seconds lifetime = in.not_after - in.not_before;
  const TimePoint near = in.not_after - lifetime / 20;
  if (now >= in.not_after)
    return {now, RenewalBasis::Expired, pick.selected, fmt::format("the certificate expired at {}", format_rfc3339(in.not_after))};
  if (now >= near)
    return {now, RenewalBasis::NearExpiry, pick.selected,
            fmt::format("less than 1/20 of the {} lifetime is left (expires {}), overriding: {}",
                        format_duration(lifetime), format_rfc3339(in.not_after), pick.why)};
  if (pick.at > near)
    return {near, RenewalBasis::NearExpiry, pick.selected,
            fmt::format("1/20 of the {} lifetime is left at {} (expires {}), earlier than: {}",
                        format_duration(lifetime), format_rfc3339(near), format_rfc3339(in.not_after), pick.why)};
  return pick;
}

std::string verdict(TimePoint at, TimePoint now) {
  if (at <= now) return "renew now";
  return fmt::format("wait until {} (in {})", format_rfc3339(at), format_duration(at - now));
}

}  // namespace

const char* to_string(RenewalBasis b) {
  switch (b) {
    case RenewalBasis::Expired: return "expired";
    case RenewalBasis::NearExpiry: return "near-expiry";
    case RenewalBasis::AriWindow: return "ari-window";
    case RenewalBasis::RenewBefore: return "renew-before";
    case RenewalBasis::Lifetime: return "lifetime";
  }
  return "unknown";
}

Seconds ari_recheck_delay(std::optional<Seconds> retry_after) {
  if (!retry_after) return default_ari_recheck;
  return std::clamp(*retry_after, min_ari_recheck, max_ari_recheck);
}

std::string ari_window_problem(const AriWindow& w, TimePoint not_after) {
  for (TimePoint t : {w.start, w.end})
    if (t <= epoch || t > far_future) return fmt::format("absurd date {} (at or before 1970, or after 9999)", format_rfc3339(t));
  if (w.end <= w.start)
    return fmt::format("window ends ({}) before it starts ({})", format_rfc3339(w.end), format_rfc3339(w.start));
  if (w.start > not_after)
    return fmt::format("window starts ({}) after the certificate expires ({})", format_rfc3339(w.start), format_rfc3339(not_after));
  return {};
}

namespace {

Result<RenewalDecision> decide(const RenewalInput& in, TimePoint now, Rng* rng) {
  if (auto v = validate(in); !v) return std::unexpected(v.error().context("deciding when to renew"));
  std::string notes;
  RenewalInput usable = in;
  if (explicit_setting(in.renewal)) {
    if (std::string problem = setting_problem(in.renewal, in.not_after - in.not_before); !problem.empty()) {
      usable.renewal = Renewal{};
      notes += fmt::format("; {}: the lifetime rule applies", problem);
    }
  }
  bool ari_usable = false;
  if (in.ari) {
    const std::string problem = ari_window_problem(*in.ari, in.not_after);
    ari_usable = problem.empty();
    if (!ari_usable) notes += fmt::format("; malformed ARI window ignored: {}", problem);
  }
  const Pick pick = apply_near_expiry(regular_pick(usable, ari_usable, now, rng), in, now);
  RenewalDecision d;
  d.renew_at = pick.at;
  d.due = pick.at <= now;
  d.basis = pick.basis;
  d.selected = pick.selected;
  d.wake_at = d.due ? now : pick.at;
  if (in.ari) {
    d.ari_recheck_at = now + ari_recheck_delay(in.ari->retry_after);
    d.wake_at = std::min(d.wake_at, *d.ari_recheck_at);
    notes += fmt::format("; next ARI check at {}", format_rfc3339(*d.ari_recheck_at));
  }
  d.reason = fmt::format("{}: {}{}", verdict(pick.at, now), pick.why, notes);
  return d;
}

}  // namespace

Result<RenewalDecision> decide_renewal(const RenewalInput& in, TimePoint now, Rng& rng) { return decide(in, now, &rng); }

Result<RenewalDecision> decide_renewal(const RenewalInput& in, TimePoint now) { return decide(in, now, nullptr); }

}  // namespace certagent::policy

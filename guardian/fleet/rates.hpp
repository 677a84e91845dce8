// Event rates with exact intervals: how often guests on one kernel end a boot
// uncleanly, and whether that is more often than the rest of the fleet.
//
// Crashes are rare (the 2023 incident of docs/design.md: three crashes in six
// months over ~1,500 guests, then a burst), so normal approximations are
// useless here: with five events a Wald interval is wrong by a factor of two.
// Everything below is exact:
// - a Poisson mean from k events: Garwood's interval, the chi-square (here:
//   inverse regularized gamma) bounds;
// - a rate ratio: conditioned on the total k_a + k_b, k_a is binomial with
//   p = R*T_a / (R*T_a + T_b); Clopper-Pearson bounds for p, mapped to R.
// Both are conservative: they cover the truth at least as often as stated.
// An interval that contains 1 means "no evidence of a difference", not
// "the same" (docs/fleet-statistics.md says how to read them).
#pragma once

#include <cstdint>

namespace guardian::fleet {

struct Interval {
    double lo = 0;
    double hi = 0; // +infinity when nothing bounds it from above
};

// Exact two-sided interval for the mean of a Poisson count of `events`.
// confidence in (0, 1), e.g. 0.95.
[[nodiscard]] Interval poisson_mean_interval(std::uint64_t events, double confidence = 0.95);

struct Rate {
    std::uint64_t events = 0;
    double exposure = 0;  // in the caller's unit, e.g. guest-days
    double estimate = 0;  // events / exposure
    Interval interval;    // for events / exposure
    bool defined = false; // false when there is no exposure to divide by
};

// events per unit of exposure; `per` scales estimate and interval (1000 for
// "per 1,000 guest-days").
[[nodiscard]] Rate poisson_rate(std::uint64_t events, double exposure, double per = 1,
                                double confidence = 0.95);

struct RateRatio {
    double estimate = 0;  // (k_a / T_a) / (k_b / T_b); +inf when k_b is 0
    Interval interval;    // exact conditional interval for the true ratio
    bool defined = false; // false without events on either side or without exposure
};

[[nodiscard]] RateRatio rate_ratio(std::uint64_t events_a, double exposure_a,
                                   std::uint64_t events_b, double exposure_b,
                                   double confidence = 0.95);

// What an interval for a ratio says about "A differs from B".
enum class Evidence {
    none,   // the interval contains 1 (or the ratio is undefined)
    higher, // the whole interval lies above 1
    lower,  // the whole interval lies below 1
};

[[nodiscard]] Evidence evidence_of(const RateRatio& ratio);
[[nodiscard]] const char* to_string(Evidence evidence);

} // namespace guardian::fleet

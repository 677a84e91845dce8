#include "guardian/fleet/rates.hpp"

#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace guardian::fleet {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

double alpha_of(double confidence) {
    // A broken caller, not bad data: confidence comes from code, not guests.
    if (!(confidence > 0 && confidence < 1)) {
        throw std::invalid_argument("confidence must lie strictly between 0 and 1");
    }
    return 1 - confidence;
}

} // namespace

Interval poisson_mean_interval(std::uint64_t events, double confidence) {
    const double alpha = alpha_of(confidence);
    const auto k = static_cast<double>(events);
    // Garwood: lo = chi2(alpha/2; 2k)/2 = gamma_p_inv(k, alpha/2),
    //          hi = chi2(1-alpha/2; 2k+2)/2 = gamma_p_inv(k+1, 1-alpha/2).
    Interval out;
    out.lo = events == 0 ? 0.0 : boost::math::gamma_p_inv(k, alpha / 2);
    out.hi = boost::math::gamma_p_inv(k + 1, 1 - alpha / 2);
    return out;
}

Rate poisson_rate(std::uint64_t events, double exposure, double per, double confidence) {
    Rate out;
    out.events = events;
    out.exposure = exposure;
    if (!(exposure > 0) || !std::isfinite(exposure)) {
        out.interval = {0, infinity};
        return out;
    }
    const Interval mean = poisson_mean_interval(events, confidence);
    out.defined = true;
    out.estimate = static_cast<double>(events) / exposure * per;
    out.interval = {mean.lo / exposure * per, mean.hi / exposure * per};
    return out;
}

RateRatio rate_ratio(std::uint64_t events_a, double exposure_a, std::uint64_t events_b,
                     double exposure_b, double confidence) {
    const double alpha = alpha_of(confidence);
    RateRatio out;
    out.interval = {0, infinity};
    const std::uint64_t n = events_a + events_b;
    if (n == 0 || !(exposure_a > 0) || !(exposure_b > 0) || !std::isfinite(exposure_a) ||
        !std::isfinite(exposure_b)) {
        return out; // no events: nothing to compare; the interval is everything
    }
    const auto ka = static_cast<double>(events_a);
    const auto kb = static_cast<double>(events_b);
    const double exposure_odds = exposure_b / exposure_a; // R = p/(1-p) * T_b/T_a
    out.defined = true;
    out.estimate = events_b == 0 ? infinity : (ka / exposure_a) / (kb / exposure_b);
    // Clopper-Pearson for p = P(an event is on side A), given n events.
    const double p_lo = events_a == 0 ? 0.0 : boost::math::ibeta_inv(ka, kb + 1, alpha / 2);
    const double p_hi = events_b == 0 ? 1.0 : boost::math::ibeta_inv(ka + 1, kb, 1 - alpha / 2);
    out.interval.lo = p_lo / (1 - p_lo) * exposure_odds;
    out.interval.hi = p_hi >= 1 ? infinity : p_hi / (1 - p_hi) * exposure_odds;
    return out;
}

Evidence evidence_of(const RateRatio& ratio) {
    if (!ratio.defined) {
        return Evidence::none;
    }
    if (ratio.interval.lo > 1) {
        return Evidence::higher;
    }
    if (ratio.interval.hi < 1) {
        return Evidence::lower;
    }
    return Evidence::none;
}

const char* to_string(Evidence evidence) {
    switch (evidence) {
    case Evidence::higher:
        return "higher";
    case Evidence::lower:
        return "lower";
    case Evidence::none:
        break;
    }
    return "no evidence";
}

} // namespace guardian::fleet

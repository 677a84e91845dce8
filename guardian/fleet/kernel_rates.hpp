// "Does kernel X crash more than the rest of my fleet, and how sure is that?"
// From observations (one guest on one kernel release for so many days, with
// so many unclean ends and crashes), one row per kernel release: guests,
// guest-days, counts, the rate per 1,000 guest-days with its exact interval,
// and the rate ratio against every other kernel together, with its interval.
// Pure: the provider-side ledger supplies the observations.
#pragma once

#include "guardian/fleet/rates.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace guardian::fleet {

struct Observation {
    std::string kernel;             // release, e.g. "6.1.0-13-amd64"
    std::string distribution;       // e.g. "Debian 12"; may be empty
    std::string guest;              // a stable guest key (UUID), for counting guests
    double days = 0;                // time observed running this kernel
    std::uint64_t unclean_ends = 0; // boots that did not end orderly
    std::uint64_t crashes = 0;      // of those, the ones known to be crashes
};

// Which count the rates are of.
enum class Outcome { crashes, unclean_ends };

struct KernelRow {
    std::string kernel;
    std::string distribution; // the one seen most (by days) with this kernel
    std::size_t guests = 0;
    double guest_days = 0;
    std::uint64_t unclean_ends = 0;
    std::uint64_t crashes = 0;
    Rate rate;         // of the chosen outcome, per 1,000 guest-days
    RateRatio vs_rest; // this kernel's rate over everyone else's
    Evidence evidence = Evidence::none;
};

struct KernelComparison {
    Outcome outcome = Outcome::crashes;
    double confidence = 0.95;
    std::size_t guests = 0; // distinct guests in the whole fleet
    double guest_days = 0;
    std::uint64_t events = 0;
    std::vector<KernelRow> rows; // most guest-days first, then by kernel name
};

[[nodiscard]] KernelComparison compare_kernels(std::span<const Observation> observations,
                                               Outcome outcome = Outcome::crashes,
                                               double confidence = 0.95);

} // namespace guardian::fleet

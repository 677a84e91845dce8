// The per-kernel comparison on synthetic fleets shaped like the 2023 one:
// 1,500 guests over 180 days on five kernels.
#include "guardian/fleet/kernel_rates.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace guardian::fleet;

namespace {

const std::vector<std::string> kernels = {"5.10.0-28-amd64", "5.15.0-91-generic", "6.1.0-13-amd64",
                                          "6.1.0-27-amd64", "6.6.15-amd64"};

// Guests spread over the kernels; each runs 30..180 days (joined late or
// left early); crashes are Poisson with the kernel's rate per 1,000
// guest-days. Every unclean end here is a crash plus the odd destroy.
std::vector<Observation> synthetic_fleet(std::uint64_t seed, const std::vector<double>& rates) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, kernels.size() - 1);
    std::uniform_real_distribution<double> days(30, 180);
    std::vector<Observation> out;
    for (int g = 0; g < 1500; ++g) {
        const std::size_t k = pick(rng);
        Observation o;
        o.kernel = kernels[k];
        o.distribution = "Debian";
        o.guest = "guest-" + std::to_string(g);
        o.days = days(rng);
        std::poisson_distribution<std::uint64_t> crashes(rates[k] * o.days / 1000);
        std::poisson_distribution<std::uint64_t> destroys(0.02 * o.days / 1000);
        o.crashes = crashes(rng);
        o.unclean_ends = o.crashes + destroys(rng);
        out.push_back(std::move(o));
    }
    return out;
}

const KernelRow& row_of(const KernelComparison& c, const std::string& kernel) {
    for (const KernelRow& r : c.rows) {
        if (r.kernel == kernel) {
            return r;
        }
    }
    throw std::runtime_error("no row for " + kernel);
}

} // namespace

TEST(KernelComparison, CountsGuestsDaysAndEventsPerKernel) {
    const std::vector<Observation> obs = {
        {"6.1.0-13-amd64", "Debian 12", "a", 100, 2, 1},
        {"6.1.0-13-amd64", "Debian 12", "b", 50, 0, 0},
        {"6.1.0-13-amd64", "Ubuntu", "a", 10, 0, 0}, // same guest again: one guest
        {"5.10.0-28-amd64", "Debian 11", "c", 200, 1, 1},
        {"5.10.0-28-amd64", "Debian 11", "d", -5, 7, 0}, // broken row: no exposure
    };
    const KernelComparison c = compare_kernels(obs);
    EXPECT_EQ(c.guests, 4u);
    EXPECT_DOUBLE_EQ(c.guest_days, 360);
    EXPECT_EQ(c.events, 2u);
    ASSERT_EQ(c.rows.size(), 2u);
    EXPECT_EQ(c.rows[0].kernel, "5.10.0-28-amd64"); // most guest-days first
    const KernelRow& k61 = row_of(c, "6.1.0-13-amd64");
    EXPECT_EQ(k61.guests, 2u);
    EXPECT_DOUBLE_EQ(k61.guest_days, 160);
    EXPECT_EQ(k61.crashes, 1u);
    EXPECT_EQ(k61.unclean_ends, 2u);
    EXPECT_EQ(k61.distribution, "Debian 12");
    EXPECT_NEAR(k61.rate.estimate, 1000.0 / 160, 1e-9);
    const KernelComparison unclean = compare_kernels(obs, Outcome::unclean_ends);
    EXPECT_EQ(unclean.events, 10u);
    EXPECT_NEAR(row_of(unclean, "6.1.0-13-amd64").rate.estimate, 2000.0 / 160, 1e-9);
}

// One kernel crashing five times as often is singled out, with an interval
// that excludes 1, and no other kernel is.
TEST(KernelComparison, SinglesOutAKernelThatCrashesFiveTimesAsOften) {
    const std::vector<double> rates = {0.1, 0.1, 0.5, 0.1, 0.1};
    const KernelComparison c = compare_kernels(synthetic_fleet(7, rates));
    const KernelRow& bad = row_of(c, "6.1.0-13-amd64");
    EXPECT_EQ(bad.evidence, Evidence::higher);
    EXPECT_GT(bad.vs_rest.interval.lo, 1);
    EXPECT_GT(bad.vs_rest.estimate, 2.5);
    for (const KernelRow& r : c.rows) {
        if (r.kernel != bad.kernel) {
            EXPECT_NE(r.evidence, Evidence::higher) << r.kernel;
        }
    }
    // And it does so on most fleets, not one lucky seed.
    int found = 0;
    for (std::uint64_t seed = 100; seed < 200; ++seed) {
        const KernelComparison s = compare_kernels(synthetic_fleet(seed, rates));
        found += row_of(s, "6.1.0-13-amd64").evidence == Evidence::higher ? 1 : 0;
    }
    EXPECT_GE(found, 90);
}

// With every kernel at the same rate, a kernel is wrongly singled out (in
// either direction) no more often than the nominal 5%.
TEST(KernelComparison, EqualRatesSingleOutAtMostTheNominalFivePercent) {
    const std::vector<double> rates(kernels.size(), 0.2);
    int judged = 0;
    int wrong = 0;
    for (std::uint64_t seed = 1000; seed < 1600; ++seed) {
        for (const KernelRow& r : compare_kernels(synthetic_fleet(seed, rates)).rows) {
            judged += r.vs_rest.defined ? 1 : 0;
            wrong += r.evidence != Evidence::none ? 1 : 0;
        }
    }
    ASSERT_GT(judged, 2900);
    const double rate = static_cast<double>(wrong) / judged;
    RecordProperty("false_single_out_rate", std::to_string(rate));
    EXPECT_LE(rate, 0.05);
    EXPECT_GT(wrong, 0); // conservative, not blind
}

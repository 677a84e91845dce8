// The fleet question through the ledger itself: a synthetic 1,500-guest,
// 180-day ledger (half the guests run guardian, half are known only by
// their console's banner) where one kernel crashes five times as often as
// the others. What guardian-host fleet reads back singles it out with an
// interval above 1, and no other. (The false-positive rate over many seeds
// is measured on the same model without SQLite: tests/fleet/kernel_rates_test.cpp.)
#include "guardian/fleet/kernel_rates.hpp"
#include "guardian/ledger/ledger.hpp"

#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace guardian;

TEST(SyntheticLedger, AKernelAtFiveTimesTheRateIsSingledOut) {
    test::TempDir dir;
    auto opened = ledger::Ledger::open((dir.path() / "ledger.sqlite").string());
    ASSERT_TRUE(opened) << opened.error().message;
    ledger::Ledger& l = *opened;
    const std::vector<std::string> kernels = {"5.10.0-28-amd64", "5.15.0-91-generic",
                                              "6.1.0-13-amd64", "6.1.0-27-amd64", "6.6.15-amd64"};
    const std::vector<double> per_1000_days = {0.1, 0.1, 0.5, 0.1, 0.1}; // 6.1.0-13 at 5x
    constexpr double day = 86400;
    const double t0 = 1.7e9;
    std::mt19937_64 rng(20231);
    std::uniform_int_distribution<std::size_t> pick(0, kernels.size() - 1);
    std::uniform_real_distribution<double> days(30, 180);
    ASSERT_TRUE(l.begin_batch());
    std::uint64_t crashes_sent = 0;
    for (int g = 0; g < 1500; ++g) {
        const ledger::GuestKey guest{"00000000-0000-4000-8000-" + std::to_string(100000000000 + g),
                                     "vm" + std::to_string(g)};
        const std::size_t k = pick(rng);
        const double span = days(rng);
        std::poisson_distribution<int> crashes(per_1000_days[k] * span / 1000);
        const int n = crashes(rng);
        crashes_sent += static_cast<std::uint64_t>(n);
        // n crashes cut the span into n + 1 boots; the last one still runs.
        const auto source = g % 2 == 0 ? ledger::KernelSource::guardian_report
                                       : ledger::KernelSource::console_banner;
        for (int b = 0; b <= n; ++b) {
            const double start = t0 + span * day * b / (n + 1);
            const double end = t0 + span * day * (b + 1) / (n + 1);
            const std::string boot = std::to_string(g) + "@" + std::to_string(b);
            ASSERT_TRUE(
                l.boot_seen(guest, g + 1, {boot, kernels[k], "", "Debian", start, source}, end));
            if (b < n) {
                ASSERT_TRUE(l.boot_ended(guest, boot, "crash"));
            }
        }
    }
    ASSERT_TRUE(l.commit_batch());

    auto obs = l.kernel_observations();
    ASSERT_TRUE(obs) << obs.error().message;
    const fleet::KernelComparison c = fleet::compare_kernels(*obs);
    EXPECT_EQ(c.guests, 1500u);
    EXPECT_EQ(c.events, crashes_sent);
    EXPECT_NEAR(c.guest_days, 1500 * 105.0, 1500 * 105.0 * 0.05);
    for (const fleet::KernelRow& r : c.rows) {
        if (r.kernel == "6.1.0-13-amd64") {
            EXPECT_EQ(r.evidence, fleet::Evidence::higher);
            EXPECT_GT(r.vs_rest.interval.lo, 1) << r.crashes << " crashes";
        } else {
            EXPECT_NE(r.evidence, fleet::Evidence::higher) << r.kernel;
        }
    }
}

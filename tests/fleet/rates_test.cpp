// Exact Poisson and rate-ratio intervals: reference values (Garwood's table,
// as printed in every epidemiology text) and coverage by simulation.
#include "guardian/fleet/rates.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace guardian::fleet;

TEST(PoissonInterval, MatchesGarwoodsTable) {
    struct Case {
        std::uint64_t k;
        double lo, hi;
    };
    // 95% exact limits for a Poisson count.
    for (const Case& c :
         {Case{0, 0.0, 3.689}, Case{1, 0.0253, 5.572}, Case{2, 0.2422, 7.225},
          Case{5, 1.6235, 11.668}, Case{10, 4.7954, 18.390}, Case{100, 81.364, 121.627}}) {
        const Interval i = poisson_mean_interval(c.k);
        EXPECT_NEAR(i.lo, c.lo, 0.001) << "k=" << c.k;
        EXPECT_NEAR(i.hi, c.hi, 0.001) << "k=" << c.k;
    }
}

TEST(PoissonInterval, ZeroEventsStillBoundsTheRateFromAbove) {
    const Rate r = poisson_rate(0, 54000, 1000);
    ASSERT_TRUE(r.defined);
    EXPECT_EQ(r.estimate, 0);
    EXPECT_EQ(r.interval.lo, 0);
    EXPECT_NEAR(r.interval.hi, 3.689 / 54, 0.0001); // per 1,000 guest-days
}

TEST(PoissonInterval, NoExposureIsUndefinedNotInfinite) {
    const Rate r = poisson_rate(3, 0, 1000);
    EXPECT_FALSE(r.defined);
    EXPECT_EQ(r.interval.lo, 0);
    EXPECT_TRUE(std::isinf(r.interval.hi));
}

TEST(PoissonInterval, RefusesANonsenseConfidence) {
    EXPECT_THROW((void)poisson_mean_interval(3, 1.0), std::invalid_argument);
    EXPECT_THROW((void)poisson_mean_interval(3, 0.0), std::invalid_argument);
}

// Exact intervals are conservative: over many draws they cover the true mean
// at least 95% of the time, whatever the mean.
TEST(PoissonInterval, CoversTheTrueMeanAtLeastAsOftenAsStated) {
    std::mt19937_64 rng(20231);
    for (const double mean : {0.3, 2.0, 7.5, 40.0}) {
        std::poisson_distribution<std::uint64_t> draw(mean);
        int covered = 0;
        const int n = 4000;
        for (int i = 0; i < n; ++i) {
            const Interval iv = poisson_mean_interval(draw(rng));
            covered += (iv.lo <= mean && mean <= iv.hi) ? 1 : 0;
        }
        EXPECT_GE(covered, n * 95 / 100 - 40) << "mean " << mean; // 1% slack for the draw
    }
}

TEST(RateRatio, EqualCountsOnEqualExposureMeanNoEvidence) {
    const RateRatio r = rate_ratio(10, 1000, 10, 1000);
    ASSERT_TRUE(r.defined);
    EXPECT_DOUBLE_EQ(r.estimate, 1.0);
    EXPECT_LT(r.interval.lo, 1);
    EXPECT_GT(r.interval.hi, 1);
    EXPECT_EQ(evidence_of(r), Evidence::none);
}

TEST(RateRatio, ScalesWithExposure) {
    // The same counts on a quarter of the exposure: four times the rate.
    const RateRatio r = rate_ratio(20, 250, 20, 1000);
    EXPECT_DOUBLE_EQ(r.estimate, 4.0);
    const RateRatio same_exposure = rate_ratio(20, 1000, 20, 1000);
    EXPECT_NEAR(r.interval.lo, 4 * same_exposure.interval.lo, 1e-9);
    EXPECT_NEAR(r.interval.hi, 4 * same_exposure.interval.hi, 1e-9);
    EXPECT_EQ(evidence_of(r), Evidence::higher);
}

TEST(RateRatio, MatchesTheConditionalBinomialByHand) {
    // 20 vs 5 events on equal exposure: p = 20/25, Clopper-Pearson 95%
    // [0.5930, 0.9317] -> R in [1.457, 13.64].
    const RateRatio r = rate_ratio(20, 1, 5, 1);
    EXPECT_NEAR(r.interval.lo, 0.59296 / (1 - 0.59296), 0.01);
    EXPECT_NEAR(r.interval.hi, 0.93166 / (1 - 0.93166), 0.05);
    EXPECT_EQ(evidence_of(r), Evidence::higher);
    EXPECT_EQ(evidence_of(rate_ratio(5, 1, 20, 1)), Evidence::lower);
}

TEST(RateRatio, AFewCrashesAreNoEvidence) {
    // The 2023 fleet's situation: 3 crashes on 6.1, 0 on the rest, with
    // the rest observed as long: the interval still reaches below 1.
    const RateRatio r = rate_ratio(3, 90000, 0, 180000);
    ASSERT_TRUE(r.defined);
    EXPECT_TRUE(std::isinf(r.estimate));
    EXPECT_TRUE(std::isinf(r.interval.hi));
    EXPECT_LT(r.interval.lo, 1);
    EXPECT_EQ(evidence_of(r), Evidence::none);
}

TEST(RateRatio, NothingToCompareWithoutEvents) {
    const RateRatio r = rate_ratio(0, 1000, 0, 1000);
    EXPECT_FALSE(r.defined);
    EXPECT_EQ(evidence_of(r), Evidence::none);
    EXPECT_STREQ(to_string(evidence_of(r)), "no evidence");
}

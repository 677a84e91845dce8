// Kernel trouble as textfile metrics: every kind has a series, signatures
// are bounded, the text is valid exposition format.
#include "guardian/core/trouble_metrics.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

TEST(TroubleMetrics, BoundedAndRendered) {
    TroubleAssemblerOptions o;
    o.burst = 1;
    TroubleAssembler a(o);
    // 100 distinct WARNs in a burst: 1 reported, all counted, 32 by name.
    for (int i = 0; i < 100; ++i) {
        KmsgRecord r;
        r.timestamp_us = 1'000'000 + static_cast<unsigned long long>(i);
        r.message = "WARNING: CPU: 0 PID: 1 at fs/x.c:1 f" + std::to_string(i) + "+0x1/0x2";
        (void)a.feed(r);
    }
    (void)a.flush();
    KmsgRecord forged;
    forged.facility = 1;
    forged.message = "Kernel panic - not syncing: no";
    (void)a.feed(forged);
    std::vector<BootEntry> boots(3);
    boots[0].end = BootEnd::orderly;
    boots[1].end = BootEnd::watchdog;
    for (auto& b : boots) {
        b.kernel_release = "6.1.0-26-amd64";
        b.uptime_us = 3'600'000'000LL;
    }
    const std::vector<BugVerdict> bugs = {
        {"mm-large-folio-pagecache-livelock", BugExposure::affected, "6.1.113", {}, ""}};
    const std::string text = prometheus::render(trouble_metric_families(a.counts(), bugs, boots));
    EXPECT_NE(text.find("guardian_kernel_trouble_events_total{kind=\"warning\"} 100\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("guardian_kernel_trouble_suppressed_total{kind=\"warning\"} 99\n"),
              std::string::npos);
    EXPECT_NE(text.find("guardian_kernel_trouble_events_total{kind=\"machine_check\"} 0\n"),
              std::string::npos);
    EXPECT_NE(text.find("signature=\"other\",function=\"\"} 68\n"), std::string::npos) << text;
    EXPECT_NE(text.find("guardian_kernel_trouble_forged_total 1\n"), std::string::npos);
    EXPECT_NE(text.find("guardian_known_kernel_bug{bug=\"mm-large-folio-pagecache-livelock\","
                        "guardian_known_kernel_bug=\"affected\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("guardian_boot_history_boots{end=\"watchdog\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("guardian_boot_history_boots{end=\"running\"} 1\n"), std::string::npos);
    EXPECT_NE(
        text.find(
            "guardian_boot_history_release_boots{release=\"6.1.0-26-amd64\",end=\"watchdog\"} 1\n"),
        std::string::npos)
        << text;
    EXPECT_NE(
        text.find(
            "guardian_boot_history_release_uptime_seconds{release=\"6.1.0-26-amd64\"} 10800\n"),
        std::string::npos);
    std::size_t signature_series = 0;
    for (std::size_t at = 0; (at = text.find("\nguardian_kernel_trouble_signature_events_total{",
                                             at)) != std::string::npos;
         ++at)
        ++signature_series;
    EXPECT_EQ(signature_series, 33u); // 32 named + other
}

} // namespace
} // namespace guardian

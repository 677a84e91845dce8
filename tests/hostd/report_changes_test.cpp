#include "guardian/hostd/report_changes.hpp"

#include <gtest/gtest.h>

using namespace guardian;

TEST(ReportChanges, OnlyWhatChangedAndOnlyFromAReport) {
    contract::DecodedReport none;
    contract::DecodedReport a;
    a.present = true;
    a.kernel = "5.10.0-28-amd64";
    a.last_verification = "2026-12-06T05:00:00Z healthy";
    auto c = hostd::report_changes(none, a);
    EXPECT_EQ(c.kernel, "5.10.0-28-amd64");
    ASSERT_EQ(c.events.size(), 1u);
    EXPECT_EQ(c.events[0].first, ledger::EventKind::verdict);
    // The same report again: nothing.
    c = hostd::report_changes(a, a);
    EXPECT_FALSE(c.kernel);
    EXPECT_TRUE(c.events.empty());
    // A restore dropped data/guardian/: no report, nothing said, and the
    // next report's unchanged values are not news either.
    EXPECT_TRUE(hostd::report_changes(a, none).events.empty());
    contract::DecodedReport b = a;
    b.incident = "x";
    b.last_restore = "2026-12-06T05:01:00Z domid";
    b.last_restore_changes = "vbd/51712/feature-persistent 1->-";
    b.boot_report = "fsck: / clean";
    c = hostd::report_changes(a, b);
    ASSERT_EQ(c.events.size(), 3u);
    EXPECT_EQ(c.events[0].first, ledger::EventKind::incident);
    EXPECT_EQ(c.events[1].second, "2026-12-06T05:01:00Z domid; vbd/51712/feature-persistent 1->-");
    EXPECT_EQ(c.events[2].first, ledger::EventKind::boot_report);
}

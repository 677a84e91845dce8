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
    EXPECT_FALSE(c.distribution) << "not reported: nothing to say";
    contract::DecodedReport named = a;
    named.distribution = "Debian GNU/Linux 11 (bullseye)";
    EXPECT_EQ(hostd::report_changes(a, named).distribution, "Debian GNU/Linux 11 (bullseye)");
    EXPECT_FALSE(hostd::report_changes(named, named).distribution);
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

TEST(ReportChanges, NewKernelTroubleEntriesAndThePreviousBootsEnd) {
    contract::DecodedReport a;
    a.present = true;
    a.trouble_last = "2026-12-06T09:40:00Z warning 0123456789abcdef f -";
    a.previous_boot = "none";
    contract::DecodedReport b = a;
    b.trouble_last = a.trouble_last + "; 2026-12-06T09:41:00Z oops fedcba9876543210 g bug-1";
    b.previous_boot = "end=orderly boot=b1 release=6.1.0-13-amd64 uptime=5";
    const auto c = hostd::report_changes(a, b);
    ASSERT_EQ(c.events.size(), 2u);
    EXPECT_EQ(c.events[0].first, ledger::EventKind::trouble);
    EXPECT_EQ(c.events[0].second, "2026-12-06T09:41:00Z oops fedcba9876543210 g bug-1");
    EXPECT_EQ(c.events[1].first, ledger::EventKind::previous_boot);
    // "none" and a malformed value say nothing; a first report lists every entry.
    contract::DecodedReport first;
    first.present = true;
    first.previous_boot = "none";
    first.trouble_last = "garbage";
    EXPECT_TRUE(hostd::report_changes({}, first).events.empty());
    EXPECT_EQ(hostd::report_changes({}, b).events.size(), 3u);
}

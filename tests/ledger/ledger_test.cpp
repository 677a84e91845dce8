// The ledger's behaviour on real SQLite files.
#include "guardian/ledger/ledger.hpp"
#include "guardian/ledger/schema.hpp"

#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace guardian;
using namespace guardian::ledger;

namespace {

const GuestKey web{"3f1a2b4c-0000-4000-8000-000000000001", "web1"};
const GuestKey db{"3f1a2b4c-0000-4000-8000-000000000002", "db1"};
constexpr double day = 86400;

struct LedgerFile : ::testing::Test {
    test::TempDir dir;
    std::string path = (dir.path() / "ledger.sqlite").string();

    Ledger open(Limits limits = {}) {
        auto l = Ledger::open(path, limits);
        if (!l) {
            throw std::runtime_error(l.error().message);
        }
        return std::move(l).value();
    }
};

std::vector<std::string> kinds_of(const std::vector<TimelineEntry>& t) {
    std::vector<std::string> out;
    for (const auto& e : t) {
        out.push_back(e.kind);
    }
    return out;
}

} // namespace

TEST_F(LedgerFile, NewLedgerIsAtTheCurrentSchemaAndReopens) {
    { (void)open(); }
    auto raw = Database::open(path);
    ASSERT_TRUE(raw);
    auto v = schema_version(*raw);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, current_schema_version());
    EXPECT_EQ(*migrate(*raw), current_schema_version()); // nothing left to do
    auto again = Ledger::open(path);
    EXPECT_TRUE(again) << again.error().message;
    auto ro = Ledger::open_read_only(path);
    EXPECT_TRUE(ro) << ro.error().message;
}

TEST_F(LedgerFile, ALedgerFromANewerGuardianHostIsRefused) {
    {
        auto raw = Database::open(path);
        ASSERT_TRUE(raw);
        ASSERT_TRUE(raw->exec("PRAGMA user_version = 99"));
    }
    auto l = Ledger::open(path);
    ASSERT_FALSE(l);
    EXPECT_NE(l.error().message.find("version 99, newer than"), std::string::npos)
        << l.error().message;
    EXPECT_FALSE(Ledger::open_read_only(path));
}

TEST_F(LedgerFile, ReadOnlyOpenOfAMissingLedgerFails) {
    auto l = Ledger::open_read_only((dir.path() / "none.sqlite").string());
    EXPECT_FALSE(l);
}

// The incident stays when the domain that reported it is gone and the guest
// runs again as a new domain (xl's on_reboot="restart").
TEST_F(LedgerFile, AnIncidentOutlivesItsDomain) {
    Ledger l = open();
    ASSERT_TRUE(l.domain_introduced(web, 7, 1000));
    ASSERT_TRUE(l.boot_seen(
        web, 7, {"boot-a", "3.16.0-4-amd64", "#1 SMP Debian 3.16.7", "Debian 8", 990}, 1000));
    ASSERT_TRUE(
        l.record(web, 7, EventKind::verdict, 1100, "boot-a", "critical: feature-persistent 1->-"));
    ASSERT_TRUE(l.record(web, 7, EventKind::incident, 1100, "boot-a",
                         "feature change on an unsafe kernel"));
    ASSERT_TRUE(l.boot_ended(web, "boot-a", "guardian-reboot"));
    ASSERT_TRUE(l.domain_released(7, 1101, ShutdownReason::reboot));
    ASSERT_TRUE(l.domain_introduced(web, 8, 1103));
    auto t = l.timeline("web1");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(kinds_of(*t), (std::vector<std::string>{"domain-start", "boot", "verdict", "incident",
                                                      "domain-end", "domain-start"}));
    EXPECT_EQ((*t)[3].text, "feature change on an unsafe kernel");
    EXPECT_EQ((*t)[3].domid, 7);
    EXPECT_EQ((*t)[4].text, "reboot");
    auto by_uuid = l.timeline(web.uuid);
    ASSERT_TRUE(by_uuid);
    EXPECT_EQ(by_uuid->size(), t->size());
    auto g = l.guests();
    ASSERT_TRUE(g);
    ASSERT_EQ(g->size(), 1u);
    EXPECT_EQ(g->front().running_domid, 8);
    // One guest, found by name or by UUID, as timeline() finds it.
    for (const std::string& key : {std::string("web1"), web.uuid}) {
        auto one = l.guest(key);
        ASSERT_TRUE(one);
        ASSERT_TRUE(one->has_value()) << key;
        EXPECT_EQ((*one)->key.uuid, web.uuid);
        EXPECT_EQ((*one)->running_domid, 8);
    }
    auto none = l.guest("nobody");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    // The guest's own word on its boot's end stands over the host's "reboot".
    auto obs = l.kernel_observations();
    ASSERT_TRUE(obs);
    ASSERT_EQ(obs->size(), 1u);
    EXPECT_EQ(obs->front().unclean_ends, 0u);
}

TEST_F(LedgerFile, GuestTextIsKeptByteForByteAndNeverRunAsSql) {
    Ledger l = open();
    const std::string hostile =
        std::string("\x1b[2J\r") + "incident \xff\xfe" + '\0' + "'); DROP TABLE guests; --";
    const GuestKey odd{"3f1a2b4c-0000-4000-8000-0000000000ff", "x'); DELETE FROM events; --"};
    ASSERT_TRUE(l.domain_introduced(odd, 3, 10));
    ASSERT_TRUE(l.record(odd, 3, EventKind::incident, 11, "b\n1", hostile));
    auto t = l.timeline(odd.name);
    ASSERT_TRUE(t) << t.error().message;
    ASSERT_EQ(t->size(), 2u);
    EXPECT_EQ(t->back().text, hostile);
    EXPECT_EQ(t->back().boot_id, "b\n1");
    auto g = l.guests();
    ASSERT_TRUE(g);
    EXPECT_EQ(g->front().key.name, odd.name);
}

TEST_F(LedgerFile, ANoisyGuestIsBoundedAndTheDropIsCounted) {
    Limits small;
    small.max_events_per_guest = 10;
    small.max_text_bytes = 64;
    Ledger l = open(small);
    ASSERT_TRUE(l.domain_introduced(web, 1, 0));
    ASSERT_TRUE(l.domain_introduced(db, 2, 0));
    ASSERT_TRUE(l.record(db, 2, EventKind::incident, 1, "", "db's one incident"));
    for (int i = 0; i < 25; ++i) {
        ASSERT_TRUE(l.record(web, 1, EventKind::trouble, 10 + i, "", std::string(1000, 'x')));
    }
    auto t = l.timeline("web1");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->size(), 10u);
    EXPECT_EQ(t->back().at, 34);
    EXPECT_LT(t->back().text.size(), 100u);
    EXPECT_NE(t->back().text.find("936 more bytes cut"), std::string::npos) << t->back().text;
    auto g = l.guests();
    ASSERT_TRUE(g);
    const auto w = std::find_if(g->begin(), g->end(), [](auto& s) { return s.key.name == "web1"; });
    ASSERT_NE(w, g->end());
    EXPECT_EQ(w->dropped_events, 16); // 26 written (domain-start + 25), 10 kept
    // The quiet guest lost nothing.
    auto other = l.timeline("db1");
    ASSERT_TRUE(other);
    EXPECT_EQ(kinds_of(*other), (std::vector<std::string>{"domain-start", "incident"}));
}

TEST_F(LedgerFile, BootsEndAsTheHypervisorSaysUnlessTheGuestSaidFirst) {
    Ledger l = open();
    // web: one boot crashes (console text kept), the next is destroyed.
    ASSERT_TRUE(l.domain_introduced(web, 1, 0));
    ASSERT_TRUE(l.boot_seen(web, 1, {"w1", "6.1.0-13-amd64", "#1", "Debian 12", 0}, 10 * day));
    // A save/restore: the same boot goes on in the next domain.
    ASSERT_TRUE(l.domain_released(1, 10 * day, ShutdownReason::suspend));
    ASSERT_TRUE(l.domain_introduced(web, 2, 10 * day + 60));
    ASSERT_TRUE(l.boot_seen(web, 2, {"w1", "6.1.0-13-amd64", "#1", "Debian 12", 0}, 20 * day));
    ASSERT_TRUE(
        l.domain_released(2, 20 * day, ShutdownReason::crash, "Kernel panic - not syncing"));
    ASSERT_TRUE(l.domain_introduced(web, 3, 20 * day + 5));
    ASSERT_TRUE(
        l.boot_seen(web, 3, {"w2", "6.1.0-13-amd64", "#1", "Debian 12", 20 * day + 5}, 25 * day));
    ASSERT_TRUE(l.domain_released(3, 25 * day, ShutdownReason::destroyed));
    // db: a clean reboot.
    ASSERT_TRUE(l.domain_introduced(db, 4, 0));
    ASSERT_TRUE(l.boot_seen(db, 4, {"d1", "5.10.0-28-amd64", "#1", "Debian 11", 0}, 30 * day));
    ASSERT_TRUE(l.domain_released(4, 30 * day, ShutdownReason::reboot));

    auto obs = l.kernel_observations();
    ASSERT_TRUE(obs) << obs.error().message;
    ASSERT_EQ(obs->size(), 2u);
    const auto& w = obs->front().kernel == "6.1.0-13-amd64" ? obs->front() : obs->back();
    const auto& d = obs->front().kernel == "6.1.0-13-amd64" ? obs->back() : obs->front();
    EXPECT_NEAR(w.days, 25, 1e-3); // 20 days of boot w1 (across the restore) + 5 of w2
    EXPECT_EQ(w.unclean_ends, 2u); // the crash and the destroy
    EXPECT_EQ(w.crashes, 1u);
    EXPECT_NEAR(d.days, 30, 1e-6);
    EXPECT_EQ(d.unclean_ends, 0u);
    auto t = l.timeline("web1");
    ASSERT_TRUE(t);
    const auto crash =
        std::find_if(t->begin(), t->end(), [](auto& e) { return e.kind == "crash"; });
    ASSERT_NE(crash, t->end());
    EXPECT_EQ(crash->text, "Kernel panic - not syncing");
    // Straight into the statistics.
    const auto cmp = fleet::compare_kernels(*obs);
    EXPECT_EQ(cmp.events, 1u);
    EXPECT_EQ(cmp.guests, 2u);
}

TEST_F(LedgerFile, AReleaseTheServiceMissedIsClosedWhenTheDomidComesBack) {
    Ledger l = open();
    ASSERT_TRUE(l.domain_introduced(web, 5, 0));
    ASSERT_TRUE(l.domain_introduced(db, 5, 100)); // domid reused: web's domain is gone
    auto g = l.guests();
    ASSERT_TRUE(g);
    for (const auto& s : *g) {
        if (s.key.name == "web1") {
            EXPECT_FALSE(s.running_domid);
        } else {
            EXPECT_EQ(s.running_domid, 5);
        }
    }
    // A release for a domid never seen appearing is not an error.
    EXPECT_TRUE(l.domain_released(42, 200, ShutdownReason::poweroff));
}

TEST_F(LedgerFile, PruneDropsWhatIsOlderThanTheRetention) {
    Limits keep;
    keep.retention_days = 10;
    Ledger l = open(keep);
    ASSERT_TRUE(l.domain_introduced(web, 1, 0));
    ASSERT_TRUE(l.record(web, 1, EventKind::verdict, 1 * day, "", "old"));
    ASSERT_TRUE(l.record(web, 1, EventKind::verdict, 15 * day, "", "new"));
    auto removed = l.prune(20 * day);
    ASSERT_TRUE(removed);
    EXPECT_EQ(*removed, 2); // the domain-start and the old verdict
    auto t = l.timeline("web1");
    ASSERT_TRUE(t);
    ASSERT_EQ(t->size(), 1u);
    EXPECT_EQ(t->front().text, "new");
}

TEST(ShutdownReasons, XenCodesMapAndUnknownOnesDoNot) {
    EXPECT_EQ(shutdown_reason_from_xen(3), ShutdownReason::crash);
    EXPECT_EQ(shutdown_reason_from_xen(4), ShutdownReason::watchdog);
    EXPECT_FALSE(shutdown_reason_from_xen(6));
    EXPECT_EQ(to_string(ShutdownReason::soft_reset), "soft_reset");
    EXPECT_TRUE(is_unclean_end("watchdog"));
    EXPECT_FALSE(is_unclean_end("orderly"));
    EXPECT_FALSE(is_unclean_end("guardian-reboot"));
}

// A ledger written by schema 1 (before guests without guardian) is migrated
// in place: its boots keep their kernels, now marked as guardian's reports.
TEST_F(LedgerFile, ASchemaOneLedgerMigratesKeepingItsBoots) {
    {
        auto raw = Database::open(path);
        ASSERT_TRUE(raw);
        ASSERT_TRUE(migrate(*raw, 1)); // as guardian-host with schema 1 left it
        ASSERT_EQ(*schema_version(*raw), 1);
        ASSERT_TRUE(raw->exec(
            "INSERT INTO guests VALUES (1, 'u1', 'web1', 1000, 2000, 0);"
            "INSERT INTO domains VALUES (1, 1, 7, 1000, NULL, NULL);"
            "INSERT INTO boots VALUES (1, 1, 1, 'b1', '3.16.0-4-amd64', '', 'Debian 8', 1000, "
            "2000, NULL);"));
    }
    Ledger l = open();
    auto k = l.domain_kernel(7);
    ASSERT_TRUE(k && k->has_value());
    EXPECT_EQ((*k)->kernel, "3.16.0-4-amd64");
    EXPECT_EQ((*k)->kernel_source, "guardian report");
    EXPECT_FALSE((*k)->console_offset);
    EXPECT_FALSE((*k)->console_note);
}

// A banner's kernel yields to the guest's own report of the same boot; a
// restored domain carries its boot on.
TEST_F(LedgerFile, ABannersKernelYieldsToTheGuestsReport) {
    Ledger l = open();
    ASSERT_TRUE(l.domain_introduced(web, 7, 1000, 4096));
    ASSERT_TRUE(l.boot_seen(web, 7,
                            {"7@1000", "6.1.0-13-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1",
                             "", 1000, KernelSource::console_banner},
                            1001));
    ASSERT_TRUE(l.console_searched(7, "kernel banner: ..."));
    auto k = l.domain_kernel(7);
    ASSERT_TRUE(k && k->has_value());
    EXPECT_EQ((*k)->kernel_source, "console banner");
    EXPECT_EQ((*k)->console_offset, 4096);
    EXPECT_EQ((*k)->console_note, "kernel banner: ...");
    ASSERT_TRUE(l.boot_seen(web, 7, {"7@1000", "6.1.0-13-amd64", "", "Debian 12", 1000}, 1002));
    k = l.domain_kernel(7);
    EXPECT_EQ((*k)->kernel_source, "guardian report");
    // xl save, xl restore: domain 8 runs the same boot.
    ASSERT_TRUE(l.domain_released(7, 1100, ShutdownReason::suspend));
    ASSERT_TRUE(l.domain_introduced(web, 8, 1101, 9000));
    EXPECT_EQ((*l.domain_kernel(8))->kernel, ""); // not yet attached
    ASSERT_TRUE(l.boot_continues(web, 8, "7@1000", 1102));
    EXPECT_EQ((*l.domain_kernel(8))->kernel, "6.1.0-13-amd64");
    EXPECT_FALSE(*l.domain_kernel(7)); // no longer running
}

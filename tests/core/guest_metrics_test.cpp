// The fleet metrics model (guardian/core/guest_metrics.*): what each
// data/guardian/ node set and each state.json becomes, garbage included, and
// the exact textfile for a fixed fleet.
#include "guardian/core/guest_metrics.hpp"
#include "tests/support/exposition_check.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace guardian {
namespace {

DomainReport report(std::map<std::string, std::string> nodes) {
    DomainReport d;
    d.domid = "3";
    d.name = "web1";
    d.nodes = std::move(nodes);
    return d;
}

TEST(Iso8601, ParsesGuardiansFormatOnly) {
    EXPECT_EQ(parse_iso8601_utc("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_iso8601_utc("2026-11-21T17:12:00Z"), 1795281120);
    EXPECT_EQ(parse_iso8601_utc("2024-02-29T23:59:59Z"), 1709251199);
    EXPECT_FALSE(parse_iso8601_utc("2023-02-29T00:00:00Z")); // not a leap year
    EXPECT_FALSE(parse_iso8601_utc("2026-11-21 17:12:00Z"));
    EXPECT_FALSE(parse_iso8601_utc("2026-11-21T17:12:00"));
    EXPECT_FALSE(parse_iso8601_utc("2026-13-01T00:00:00Z"));
    EXPECT_FALSE(parse_iso8601_utc("2026-11-21T24:00:00Z"));
    EXPECT_FALSE(parse_iso8601_utc("2026-11-2xT00:00:00Z"));
    EXPECT_FALSE(parse_iso8601_utc(""));
}

TEST(GuestStatusFromReport, ReadsEveryPublishedNode) {
    const auto g = guest_status_from_report(
        report({{"version", "0.1.0"},
                {"state", "watching"},
                {"kernel", "6.1.0-18-amd64"},
                {"suspend-safety", "safe"},
                {"last-restore", "2026-11-21T17:00:00Z clock-jump,domid-changed"},
                {"last-verification", "2026-11-21T17:00:05Z warning"},
                {"last-verification-timing", "detected 2026-11-21T17:00:00.250Z; features +3 ms; "
                                             "first disk read +41 ms; verdict +1250 ms"}}));
    EXPECT_TRUE(g.present);
    EXPECT_EQ(g.last_verification_seconds, 1.25);
    EXPECT_EQ(g.domid, "3");
    EXPECT_EQ(g.name, "web1");
    EXPECT_EQ(g.state, "watching");
    EXPECT_EQ(g.suspend_safety, "safe");
    EXPECT_EQ(g.last_verdict, "warning");
    EXPECT_EQ(g.last_verdict_time, 1795280405);
    EXPECT_EQ(g.last_restore_time, 1795280400);
    EXPECT_FALSE(g.incident);
}

TEST(GuestStatusFromReport, NoGuardianAndNeverRestored) {
    const auto none = guest_status_from_report(report({{"state", "watching"}}));
    EXPECT_FALSE(none.present); // no version: no guardian
    const auto fresh = guest_status_from_report(report({{"version", "0.1.0"}}));
    EXPECT_TRUE(fresh.present);
    EXPECT_EQ(fresh.state, "unknown");
    EXPECT_EQ(fresh.suspend_safety, "unknown");
    EXPECT_EQ(fresh.last_verdict, "none");
    EXPECT_FALSE(fresh.last_restore_time);
    EXPECT_FALSE(fresh.last_verdict_time);
}

TEST(GuestStatusFromReport, GarbageBecomesUnknown) {
    const auto g = guest_status_from_report(report({{"version", "\x01\xff"},
                                                    {"state", "pwned\"} 1\nguardian_x 2"},
                                                    {"suspend-safety", "SAFE"},
                                                    {"last-restore", "yesterday"},
                                                    {"last-verification", "none"},
                                                    {"last-verification-timing", "verdict +ms"},
                                                    {"incident", "disk on fire"}}));
    EXPECT_FALSE(g.last_verification_seconds);
    EXPECT_TRUE(g.present);
    EXPECT_EQ(g.state, "unknown");
    EXPECT_EQ(g.suspend_safety, "unknown");
    EXPECT_EQ(g.last_verdict, "unknown"); // "none" is ours to say, not the guest's
    EXPECT_FALSE(g.last_restore_time);
    EXPECT_TRUE(g.incident);
    const auto ex = test::check_exposition(render_host_metrics({g}, 100));
    EXPECT_TRUE(ex.errors.empty()) << ex.errors.front();
}

TEST(GuestStatusFromState, ReadsGuardiandsStateFile) {
    const auto state = nlohmann::json::parse(R"({
      "state": "verifying", "kernel": "3.16.0-4-amd64", "suspend_safety": "unsafe",
      "filesystems": [{"device": "/dev/xvda1", "mount_point": "/", "uuid": "u1"},
                      {"device": "/dev/xvdb", "mount_point": "/srv", "uuid": "u2"}],
      "last_restore": "2026-11-21T17:00:00Z clock-jump",
      "last_verification": {"time": "2026-11-21T17:00:05Z", "verdict": "critical",
        "filesystems": [
          {"device": "/dev/xvda1", "mount_point": "/", "checked": true,
           "findings": [{"structure": "inode"}, {"structure": "extent"}],
           "geometry_changes": ["x"], "frozen_compared": true, "frozen_changes": []},
          {"device": "/dev/xvdc", "mount_point": "/gone", "checked": false,
           "findings": [], "geometry_changes": []}]},
      "incident": {"reason": "r", "steps": []}})");
    GuestStatus base;
    base.domid = "9";
    const auto g = guest_status_from_state(state, base);
    EXPECT_TRUE(g.present);
    EXPECT_EQ(g.domid, "9");
    EXPECT_EQ(g.state, "verifying");
    EXPECT_EQ(g.suspend_safety, "unsafe");
    EXPECT_EQ(g.kernel, "3.16.0-4-amd64");
    EXPECT_EQ(g.last_verdict, "critical");
    EXPECT_EQ(g.last_verdict_time, 1795280405);
    EXPECT_EQ(g.last_restore_time, 1795280400);
    EXPECT_TRUE(g.incident);
    ASSERT_EQ(g.filesystems.size(), 3U);
    EXPECT_TRUE(g.filesystems[0].guarded);
    EXPECT_EQ(g.filesystems[0].findings, 2);
    EXPECT_EQ(g.filesystems[0].geometry_changes, 1);
    EXPECT_EQ(g.filesystems[0].frozen_changes, 0);
    EXPECT_TRUE(g.filesystems[1].guarded);
    EXPECT_FALSE(g.filesystems[1].findings); // not in the last verification
    EXPECT_FALSE(g.filesystems[2].guarded);  // verified, no longer guarded
    EXPECT_EQ(g.filesystems[2].checked, false);
    EXPECT_FALSE(g.filesystems[2].frozen_changes);

    const auto ex = test::check_exposition(render_guest_metrics(g, 1795280500));
    ASSERT_TRUE(ex.errors.empty()) << ex.errors.front();
    const std::string l = R"(domid="9",name="",uuid="")";
    // The checker's keys list labels sorted by name.
    EXPECT_EQ(ex.at(R"(guardian_filesystem_findings{device="/dev/xvda1",domid="9",)"
                    R"(mountpoint="/",name="",uuid=""})"),
              2);
    EXPECT_EQ(ex.at(R"(guardian_filesystem_checked{device="/dev/xvdc",domid="9",)"
                    R"(mountpoint="/gone",name="",uuid=""})"),
              0);
    EXPECT_EQ(ex.count_prefix("guardian_filesystem_guarded{"), 2U);
    EXPECT_EQ(ex.count_prefix("guardian_filesystem_frozen_changes{"), 1U);
    EXPECT_EQ(ex.at("guardian_seconds_since_last_restore{" + l + "}"), 100);
    EXPECT_EQ(ex.at("guardian_guest_scrape_timestamp_seconds"), 1795280500);
}

TEST(GuestStatusFromState, WrongTypesAreIgnored) {
    const auto state = nlohmann::json::parse(R"({
      "state": 5, "suspend_safety": ["safe"], "filesystems": "all", "last_restore": 7,
      "last_verification": {"verdict": "fine", "time": 0,
                            "filesystems": [3, {"findings": "many"}]}})");
    const auto g = guest_status_from_state(state, {});
    EXPECT_TRUE(g.present);
    EXPECT_EQ(g.state, "unknown");
    EXPECT_EQ(g.suspend_safety, "unknown");
    EXPECT_EQ(g.last_verdict, "unknown");
    EXPECT_FALSE(g.last_verdict_time);
    EXPECT_FALSE(g.last_restore_time);
    const auto ex = test::check_exposition(render_guest_metrics(g, 1));
    EXPECT_TRUE(ex.errors.empty()) << ex.errors.front();
    // Not an object: nothing taken from it.
    EXPECT_FALSE(guest_status_from_state(nlohmann::json::array(), {}).present);
}

TEST(HostMetrics, ExactTextForATwoDomainFleet) {
    GuestStatus a =
        guest_status_from_report(report({{"version", "0.1.0"},
                                         {"state", "frozen"},
                                         {"kernel", "6.1.0-18-amd64"},
                                         {"suspend-safety", "safe"},
                                         {"last-restore", "1970-01-01T00:01:40Z domid-changed"}}));
    a.uuid = "0c7f9a3e-0000-4000-8000-000000000001";
    DomainReport dom0;
    dom0.domid = "0";
    dom0.name = "Domain-0";
    const std::string text = render_host_metrics({guest_status_from_report(dom0), a}, 160);
    const std::string l0 = R"(domid="0",name="Domain-0",uuid="")";
    const std::string l3 = R"(domid="3",name="web1",uuid="0c7f9a3e-0000-4000-8000-000000000001")";
    // clang-format off
    const std::string expected =
        "# HELP guardian_present 1 if the domain runs guardian (it publishes data/guardian/version).\n"
        "# TYPE guardian_present gauge\n"
        "guardian_present{" + l0 + "} 0\n"
        "guardian_present{" + l3 + "} 1\n"
        "# HELP guardian_info Always 1; the labels say which guardian and kernel the guest runs.\n"
        "# TYPE guardian_info gauge\n"
        "guardian_info{" + l3 + R"(,version="0.1.0",kernel="6.1.0-18-amd64"} 1)" "\n"
        "# HELP guardian_state guardiand's state (StateSet: 1 for the current state, 0 for the others).\n"
        "# TYPE guardian_state gauge\n"
        "guardian_state{" + l3 + R"(,guardian_state="starting"} 0)" "\n"
        "guardian_state{" + l3 + R"(,guardian_state="watching"} 0)" "\n"
        "guardian_state{" + l3 + R"(,guardian_state="verifying"} 0)" "\n"
        "guardian_state{" + l3 + R"(,guardian_state="frozen"} 1)" "\n"
        "guardian_state{" + l3 + R"(,guardian_state="incident"} 0)" "\n"
        "guardian_state{" + l3 + R"(,guardian_state="stopped"} 0)" "\n"
        "guardian_state{" + l3 + R"(,guardian_state="unknown"} 0)" "\n"
        "# HELP guardian_suspend_safety The kernel's suspend/restore safety verdict (StateSet).\n"
        "# TYPE guardian_suspend_safety gauge\n"
        "guardian_suspend_safety{" + l3 + R"(,guardian_suspend_safety="safe"} 1)" "\n"
        "guardian_suspend_safety{" + l3 + R"(,guardian_suspend_safety="unsafe"} 0)" "\n"
        "guardian_suspend_safety{" + l3 + R"(,guardian_suspend_safety="unknown"} 0)" "\n"
        "# HELP guardian_last_verdict Verdict of the last verification after a restore (StateSet; none: never verified).\n"
        "# TYPE guardian_last_verdict gauge\n"
        "guardian_last_verdict{" + l3 + R"(,guardian_last_verdict="healthy"} 0)" "\n"
        "guardian_last_verdict{" + l3 + R"(,guardian_last_verdict="warning"} 0)" "\n"
        "guardian_last_verdict{" + l3 + R"(,guardian_last_verdict="critical"} 0)" "\n"
        "guardian_last_verdict{" + l3 + R"(,guardian_last_verdict="none"} 1)" "\n"
        "guardian_last_verdict{" + l3 + R"(,guardian_last_verdict="unknown"} 0)" "\n"
        "# HELP guardian_last_restore_timestamp_seconds When guardian last detected a restore or migration (Unix time, guest clock).\n"
        "# TYPE guardian_last_restore_timestamp_seconds gauge\n"
        "guardian_last_restore_timestamp_seconds{" + l3 + "} 100\n"
        "# HELP guardian_seconds_since_last_restore Seconds from the last detected restore to this file's writing.\n"
        "# TYPE guardian_seconds_since_last_restore gauge\n"
        "guardian_seconds_since_last_restore{" + l3 + "} 60\n"
        "# HELP guardian_incident 1 if guardian reported a critical incident (data/guardian/incident).\n"
        "# TYPE guardian_incident gauge\n"
        "guardian_incident{" + l3 + "} 0\n"
        "# HELP guardian_host_domains Domains guardian-host looked at.\n"
        "# TYPE guardian_host_domains gauge\n"
        "guardian_host_domains 2\n"
        "# HELP guardian_host_scrape_timestamp_seconds When guardian-host wrote this file (Unix time, dom0 clock).\n"
        "# TYPE guardian_host_scrape_timestamp_seconds gauge\n"
        "guardian_host_scrape_timestamp_seconds 160\n";
    // clang-format on
    EXPECT_EQ(text, expected);
    EXPECT_TRUE(test::check_exposition(text).errors.empty());
}

} // namespace
} // namespace guardian

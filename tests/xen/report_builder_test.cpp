// The data/guardian/ node set: names and values as docs/xenstore-schema.md
// says, and bounded whatever the input.
#include "guardian/core/report.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

using std::chrono::seconds;

VbdCapture vbd(const std::string& id) {
    VbdCapture v;
    v.id = id;
    v.backend_path = "/local/domain/0/backend/vbd/2/" + id;
    v.frontend_state = "4";
    for (const auto& k : blkfront_backend_keys())
        v.backend_features[k] = std::nullopt;
    v.backend_features["feature-persistent"] = "1";
    v.device = "xvda";
    v.partitions = {"xvda1", "xvda2"};
    v.size_sectors = 2097152;
    return v;
}

ReportInput input() {
    ReportInput in;
    in.version = "0.1.0";
    in.state = guardian::contract::DaemonState::watching;
    in.kernel = "3.16.0-4-amd64";
    in.verdict.safety = Safety::unsafe;
    in.verdict.issue_id = "xen-blkfront-feature-reread";
    in.verdict.reason = "xen-blkfront-feature-reread: Linux 3.16 is before the fix in 4.2";
    in.vbds = {vbd("51712")};
    in.updated = seconds(1'795'281'120); // 2026-11-21T17:12:00Z
    return in;
}

TEST(ReportBuilder, FormatsIso8601Utc) {
    EXPECT_EQ(iso8601_utc(seconds(0)), "1970-01-01T00:00:00Z");
    EXPECT_EQ(iso8601_utc(seconds(951'782'400)), "2000-02-29T00:00:00Z");
    EXPECT_EQ(iso8601_utc(seconds(1'795'281'120) + std::chrono::milliseconds(999)),
              "2026-11-21T17:12:00Z");
}

TEST(ReportBuilder, BuildsTheDocumentedNodes) {
    ReportInput in = input();
    in.last_restore = RestoreRecord{
        seconds(1'795'280'400),
        "clock-jump,domid-changed",
        {{ChangeKind::domid, "", "domid", "1", "2"},
         {ChangeKind::backend_feature, "51712", "feature-persistent", "1", std::nullopt}}};
    in.last_verification = VerificationRecord{seconds(1'795'280'410), "critical",
                                              "feature-persistent changed on an unsafe kernel", ""};
    in.trouble = TroubleReport{};
    in.trouble->counts.kinds = {{"warning", 2}, {"oops", 1}};
    in.trouble->known_bugs = {{"xsa-396-netfront-grant", "affected", "5.17"}};
    in.distribution = "Debian GNU/Linux 8 (jessie)";
    const ReportNodes n = build_report(in);
    const ReportNodes expected{
        {"version", "0.1.0"},
        {"schema", "1"},
        {"state", "watching"},
        {"kernel", "3.16.0-4-amd64"},
        {"distribution", "Debian GNU/Linux 8 (jessie)"},
        {"suspend-safety", "unsafe"},
        {"suspend-safety-reason",
         "xen-blkfront-feature-reread: Linux 3.16 is before the fix in 4.2"},
        {"vbd-count", "1"},
        {"vbd/51712/backend", "/local/domain/0/backend/vbd/2/51712"},
        {"vbd/51712/features", feature_summary(in.vbds[0])},
        {"vbd/51712/state", "4"},
        {"vbd/51712/device", "xvda sectors=2097152 partitions=xvda1,xvda2"},
        {"last-restore", "2026-11-21T17:00:00Z clock-jump,domid-changed"},
        {"last-restore-changes", "domid 1->2; vbd/51712/feature-persistent 1->-"},
        {"last-verification", "2026-11-21T17:00:10Z critical"},
        {"last-verdict-reason", "feature-persistent changed on an unsafe kernel"},
        {"last-verification-timing", ""},
        {"trouble-counts", "warning=2 oops=1"},
        {"trouble-last", "none"},
        {"previous-boot", "none"},
        {"known-bugs", "xsa-396-netfront-grant=affected@5.17"},
        {"updated", "2026-11-21T17:12:00Z"},
    };
    EXPECT_EQ(n, expected);
    // Directories: data/guardian, vbd, vbd/51712. Every optional node is
    // here, so this is the most one vbd can make.
    EXPECT_EQ(n.size() + 3, max_report_nodes(1));
}

TEST(ReportBuilder, VerificationTimingInMilliseconds) {
    VerificationTiming t;
    t.detected_realtime = seconds(1'795'281'120) + std::chrono::milliseconds(45);
    t.features = std::chrono::microseconds(120);
    t.first_read = std::chrono::microseconds(430);
    t.verdict = std::chrono::milliseconds(412);
    EXPECT_EQ(t.describe(), "detected 2026-11-21T17:12:00.045Z; features +0.1 ms; "
                            "first disk read +0.4 ms; verdict +412.0 ms");
    t.first_read.reset();
    EXPECT_EQ(t.describe(), "detected 2026-11-21T17:12:00.045Z; features +0.1 ms; "
                            "no disk read; verdict +412.0 ms");
    ReportInput in = input();
    in.last_verification = VerificationRecord{seconds(1), "healthy", "", t.describe()};
    EXPECT_EQ(build_report(in).at("last-verification-timing"), t.describe());
}

TEST(ReportBuilder, EmptyRecordsAreEmptyNodes) {
    const ReportNodes n = build_report(input());
    EXPECT_EQ(n.at("last-restore"), "");
    EXPECT_EQ(n.at("last-restore-changes"), "");
    EXPECT_EQ(n.at("last-verification"), "");
}

TEST(ReportBuilder, StaysWithinQuotaWhateverTheInput) {
    ReportInput in = input();
    in.kernel = std::string(500, 'k') + "\n\x01";
    in.distribution = std::string(500, 'd') + "\x1b[2J";
    in.verdict.reason = std::string(5000, 'r');
    in.vbds.clear();
    for (int i = 0; i < 200; ++i)
        in.vbds.push_back(vbd(std::to_string(51712 + 16 * i)));
    in.vbds.push_back(vbd("../../evil"));
    in.last_restore = RestoreRecord{};
    for (int i = 0; i < 500; ++i)
        in.last_restore->changes.push_back(
            {ChangeKind::backend_feature, "51712", std::string(100, 'f'), "1", "0"});
    const ReportNodes n = build_report(in);
    EXPECT_LE(n.size() + 2 + k_max_report_vbds, max_report_nodes(in.vbds.size()));
    EXPECT_LT(max_report_nodes(100000), 200u); // far below the 1000-node quota
    for (const auto& [name, value] : n) {
        EXPECT_LE(value.size(), k_max_report_value) << name;
        EXPECT_EQ(name.find(".."), std::string::npos) << name;
        for (char c : value)
            EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << name;
    }
    EXPECT_EQ(n.at("vbd-count"), "32 (169 not reported)");
    EXPECT_TRUE(n.at("last-restore-changes").ends_with("...")) << n.at("last-restore-changes");
    EXPECT_EQ(n.at("kernel").size(), 64u);
    EXPECT_EQ(n.at("distribution").size(), 64u);
}

TEST(ReportBuilder, BoundedValueMarksCuts) {
    EXPECT_EQ(bounded_value("abc", 10), "abc");
    EXPECT_EQ(bounded_value("abcdefghijk", 8), "abcde...");
    EXPECT_EQ(bounded_value("a\nb\x7f", 10), "a b?");
}

} // namespace
} // namespace guardian

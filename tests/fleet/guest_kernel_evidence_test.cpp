// The preflight verdict of every guest and where it comes from: the guest's
// guardian, the kernel banner guardian-hostd found on its console (judged by
// the shipped risk table), frontend keys (a lower bound, never "safe"), or
// unknown with the reason.
#include "guardian/core/guest_kernel_evidence.hpp"

#include "tests/support/shipped_risk_table.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace guardian;

namespace {

RiskTable shipped_table() {
    return test::shipped_risk_table();
}

DomainReport domain(const std::string& id) {
    DomainReport d;
    d.domid = id;
    d.name = "g" + id;
    return d;
}

HostKernelEvidence banner(const std::string& release, const std::string& build) {
    HostKernelEvidence e;
    e.followed = true;
    e.kernel = release;
    e.kernel_version = build;
    e.kernel_source = "console banner";
    e.console_note = "kernel banner: ...";
    return e;
}

} // namespace

TEST(GuestKernelEvidence, ABannersKernelIsJudgedByTheRiskTable) {
    const RiskTable table = shipped_table();
    struct Case {
        const char* release;
        const char* build;
        Safety safety;
    };
    for (const Case& c : {
             Case{"6.1.0-13-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)",
                  Safety::safe},
             Case{"5.10.0-28-amd64", "#1 SMP Debian 5.10.209-2 (2024-01-31)", Safety::safe},
             Case{"4.9.0-13-amd64", "#1 SMP Debian 4.9.228-1 (2020-07-05)", Safety::safe},
             Case{"3.16.0-4-amd64", "#1 SMP Debian 3.16.7-ckt25-2 (2016-04-08)", Safety::unsafe},
             Case{"2.6.32-754.35.1.el6.x86_64", "#1 SMP Sat Nov 7 12:42:14 UTC 2020",
                  Safety::unsafe},
         }) {
        const PreflightVerdict v = judge_preflight(domain("4"), banner(c.release, c.build), &table);
        EXPECT_EQ(v.source, VerdictSource::console_banner) << c.release;
        EXPECT_EQ(v.safety, c.safety) << c.release << ": " << v.reason;
        EXPECT_EQ(v.ok, c.safety == Safety::safe);
        EXPECT_EQ(v.kernel, c.release);
        EXPECT_NE(v.reason.find("before userspace"), std::string::npos) << v.reason;
    }
    // Without the risk table nothing is safe, and the reason says why.
    const PreflightVerdict none =
        judge_preflight(domain("4"), banner("6.1.0-13-amd64", ""), nullptr, "no such file");
    EXPECT_FALSE(none.ok);
    EXPECT_NE(none.reason.find("no such file"), std::string::npos);
}

TEST(GuestKernelEvidence, TheGuestsOwnReportComesFirst) {
    const RiskTable table = shipped_table();
    DomainReport d = domain("3");
    d.nodes = {{"version", "0.1.0"}, {"kernel", "3.16.0-4-amd64"}, {"suspend-safety", "safe"}};
    // Even where the console showed something else: the guest speaks.
    const PreflightVerdict v = judge_preflight(d, banner("6.1.0-13-amd64", ""), &table);
    EXPECT_EQ(v.source, VerdictSource::guardian_report);
    EXPECT_TRUE(v.ok);
    EXPECT_EQ(v.kernel, "3.16.0-4-amd64");
    // A boot whose guardian reported before its data/ went (a restore).
    HostKernelEvidence earlier = banner("3.16.0-4-amd64", "");
    earlier.kernel_source = "guardian report";
    const PreflightVerdict ledger = judge_preflight(domain("3"), earlier, &table);
    EXPECT_EQ(ledger.source, VerdictSource::guardian_report);
    EXPECT_EQ(ledger.safety, Safety::unsafe);
}

TEST(GuestKernelEvidence, FrontendKeysGiveALowerBoundNeverASafeVerdict) {
    const RiskTable table = shipped_table();
    HostKernelEvidence e;
    e.followed = true;
    e.console_note = "no kernel banner on the console since the domain was created";
    e.frontend_nodes = {{"vbd/51712/feature-persistent", "1"},
                        {"vbd/51728/multi-queue-num-queues", "2"},
                        {"vif/0/multi-queue-num-queues", "2"}}; // netfront's: not counted
    const PreflightVerdict v = judge_preflight(domain("5"), e, &table);
    EXPECT_EQ(v.source, VerdictSource::key_evidence);
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.safety, Safety::unknown);
    EXPECT_EQ(v.kernel, "at least 4.5");
    EXPECT_NE(v.reason.find("vbd/51728/multi-queue-num-queues"), std::string::npos) << v.reason;
    EXPECT_NE(v.reason.find("28d949bcc28b"), std::string::npos);

    e.frontend_nodes = {{"vbd/51712/feature-persistent", "0"}};
    EXPECT_EQ(judge_preflight(domain("5"), e, &table).kernel, "at least 3.7");
    // Keys that bound nothing, empty values and malformed paths: unknown.
    e.frontend_nodes = {{"vbd/51712/ring-ref", "8"},
                        {"vbd/51712/multi-queue-num-queues", ""},
                        {"multi-queue-num-queues", "4"}};
    EXPECT_FALSE(kernel_lower_bound(e.frontend_nodes));
    const PreflightVerdict unknown = judge_preflight(domain("5"), e, &table);
    EXPECT_EQ(unknown.source, VerdictSource::unknown);
    EXPECT_NE(unknown.reason.find("no kernel banner"), std::string::npos) << unknown.reason;
}

TEST(GuestKernelEvidence, UnknownSaysWhy) {
    const RiskTable table = shipped_table();
    HostKernelEvidence e;
    EXPECT_NE(judge_preflight(domain("6"), e, &table).reason.find("does not record"),
              std::string::npos);
    e.followed = true;
    EXPECT_NE(judge_preflight(domain("6"), e, &table).reason.find("still looking"),
              std::string::npos);
    e.ledger_error = "unable to open database file";
    EXPECT_NE(judge_preflight(domain("6"), e, &table).reason.find("unable to open"),
              std::string::npos);
}

TEST(GuestKernelEvidence, TableAndJsonEscapeGuestText) {
    DomainReport d = domain("7");
    d.name = "evil\x1b[2J";
    d.nodes = {{"version", "0.1.0"},
               {"kernel", "6.1\r7 ok\xff"},
               {"suspend-safety-reason", "\x1b]0;x\x07"}};
    const std::vector<PreflightRow> rows = {{d, judge_preflight(d, {}, nullptr)}};
    const std::string table = render_preflight_table(rows);
    for (const char c : table)
        EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20U && c != '\n') << table;
    const std::string json = preflight_to_json(rows).dump();
    EXPECT_TRUE(nlohmann::json::accept(json));
    EXPECT_EQ(preflight_to_json(rows)["domains"][0]["source"], "guardian report");
}

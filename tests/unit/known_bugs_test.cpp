// Known kernel bugs: the shipped table's entries judged for real kernels
// (before any trouble) and matched against events assembled from real log
// text (after it).
#include "guardian/core/known_bugs.hpp"
#include "tests/support/shipped_risk_table.hpp"
#include "tests/unit/kmsg_corpus.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

RiskTable shipped() {
    return test::shipped_risk_table();
}

BugVerdict verdict(const RiskTable& t, std::string_view id, KernelFacts f) {
    for (auto& v : judge_known_bugs(t, f))
        if (v.bug_id == id)
            return v;
    ADD_FAILURE() << id;
    return {};
}

KernelFacts facts(std::string release, std::string version, std::vector<std::string> cond) {
    KernelFacts f;
    f.release = std::move(release);
    f.version = std::move(version);
    f.conditions = std::move(cond);
    return f;
}

constexpr const char* livelock = "mm-large-folio-pagecache-livelock";

TEST(KnownBugs, ShippedTableParses) {
    const auto t = shipped();
    EXPECT_EQ(t.known_bugs.size(), 5u);
    EXPECT_EQ(t.issues.size(), 1u); // the suspend-safety entry is still there
    for (const auto& b : t.known_bugs) {
        EXPECT_FALSE(b.evidence.empty()) << b.id;
        EXPECT_FALSE(b.patterns.empty()) << b.id;
    }
    const auto* l = t.find_bug(livelock);
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(to_string(*l->fixed), "6.10");
    EXPECT_EQ(l->fix_commits.size(), 2u);
}

TEST(KnownBugs, DebianStablePatchComesFromUnameV) {
    const auto k = parse_kernel_release("6.1.0-26-amd64");
    ASSERT_TRUE(k);
    EXPECT_EQ(
        to_string(*stable_version(*k, "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)")),
        "6.1.112");
    EXPECT_FALSE(stable_version(*k, ""));
    EXPECT_EQ(to_string(*stable_version(*parse_kernel_release("6.6.53"), "")), "6.6.53");
    EXPECT_FALSE(stable_version(*parse_kernel_release("6.8.0-45-generic"), "#45-Ubuntu SMP"));
}

TEST(KnownBugs, LivelockBeforeAnyCrash) {
    const auto t = shipped();
    const std::vector<std::string> xfs = {"fs:xfs"};
    // Debian 12 before and after the 6.1.113 backport.
    auto v = verdict(
        t, livelock,
        facts("6.1.0-26-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)", xfs));
    EXPECT_EQ(v.exposure, BugExposure::affected) << v.reason;
    EXPECT_EQ(v.fixed_in, "6.1.113");
    EXPECT_NE(v.reason.find("fixed in 6.1.113"), std::string::npos) << v.reason;
    v = verdict(
        t, livelock,
        facts("6.1.0-27-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)", xfs));
    EXPECT_EQ(v.exposure, BugExposure::not_affected) << v.reason;
    // Without uname -v the Debian patch level is unknown: so is the answer.
    v = verdict(t, livelock, facts("6.1.0-26-amd64", "", xfs));
    EXPECT_EQ(v.exposure, BugExposure::unknown) << v.reason;
    // Upstream stable lines.
    EXPECT_EQ(verdict(t, livelock, facts("6.6.53", "", xfs)).exposure, BugExposure::affected);
    EXPECT_EQ(verdict(t, livelock, facts("6.6.54", "", xfs)).exposure, BugExposure::not_affected);
    EXPECT_EQ(verdict(t, livelock, facts("6.9.12", "", xfs)).exposure, BugExposure::affected);
    EXPECT_EQ(verdict(t, livelock, facts("6.9.12", "", xfs)).fixed_in,
              "6.10 (none on the 6.9 line)");
    EXPECT_EQ(verdict(t, livelock, facts("6.10.1", "", xfs)).exposure, BugExposure::not_affected);
    EXPECT_EQ(verdict(t, livelock, facts("5.15.160", "", xfs)).exposure, BugExposure::not_affected);
    // The provider's 5.15 fallback was outside the range; 5.18 is in it.
    EXPECT_EQ(verdict(t, livelock, facts("5.18.19", "", xfs)).exposure, BugExposure::affected);
    // Fedora builds carry the stable patch level.
    EXPECT_EQ(verdict(t, livelock, facts("6.1.112-200.fc38.x86_64", "", xfs)).exposure,
              BugExposure::affected);
    // Ubuntu and RHEL backport on their own: unknown without a record.
    EXPECT_EQ(verdict(t, livelock, facts("6.8.0-45-generic", "#45-Ubuntu SMP", xfs)).exposure,
              BugExposure::unknown);
    // No XFS mounted: the kernel has the bug, the guest does not meet it now.
    v = verdict(t, livelock, facts("6.6.53", "", {}));
    EXPECT_EQ(v.exposure, BugExposure::latent);
    ASSERT_EQ(v.unmet_conditions.size(), 1u);
    EXPECT_EQ(v.unmet_conditions[0], "fs:xfs");
    // Conditions not known: they may hold.
    auto unknown_conditions = facts("6.6.53", "", {});
    unknown_conditions.conditions_known = false;
    EXPECT_EQ(verdict(t, livelock, unknown_conditions).exposure, BugExposure::affected);
}

TEST(KnownBugs, NetfrontRangesPerStableLine) {
    const auto t = shipped();
    const std::vector<std::string> nf = {"xen:netfront"};
    const char* sring = "xen-netfront-null-sring-after-migration";
    const char* xsa465 = "xen-netfront-remove-after-resume";
    EXPECT_EQ(verdict(t, sring, facts("5.10.158", "", nf)).exposure, BugExposure::affected);
    EXPECT_EQ(verdict(t, sring, facts("5.10.158", "", nf)).fixed_in, "5.10.159");
    EXPECT_EQ(verdict(t, sring, facts("5.10.159", "", nf)).exposure, BugExposure::not_affected);
    // 4.9 never got the fix.
    auto v = verdict(t, sring, facts("4.9.337", "", nf));
    EXPECT_EQ(v.exposure, BugExposure::affected);
    EXPECT_EQ(v.fixed_in, "6.1 (none on the 4.9 line)");
    // The fix brought XSA-465 along.
    EXPECT_EQ(verdict(t, xsa465, facts("5.10.159", "", nf)).exposure, BugExposure::affected);
    EXPECT_EQ(verdict(t, xsa465, facts("5.10.158", "", nf)).exposure, BugExposure::not_affected);
    EXPECT_EQ(verdict(t, xsa465, facts("6.1.120", "", nf)).fixed_in, "6.1.121");
    EXPECT_EQ(verdict(t, xsa465, facts("6.1.121", "", nf)).exposure, BugExposure::not_affected);
    EXPECT_EQ(verdict(t, xsa465, facts("4.19.300", "", nf)).exposure, BugExposure::affected);
    // No netfront (a KVM guest): latent.
    EXPECT_EQ(verdict(t, xsa465, facts("6.1.100", "", {})).exposure, BugExposure::latent);
}

// A vendor record outranks the base version: RHEL-style kernels carry
// backported features (and their bugs) from after their base.
TEST(KnownBugs, VendorRecordOutranksBaseVersion) {
    const auto t = parse_risk_table(R"({"schema": 1, "tracks_upstream": ["upstream", "debian"],
        "issues": [], "known_bugs": [{"id": "b", "title": "t", "component": "mm", "effect": "livelock",
        "description": "d", "affected": [{"from": "5.18", "to": "6.1.113"}], "fixed": "6.10",
        "backports": [
          {"distro": "rhel", "match": ".el9", "status": "fixed", "fixed_in": "5.14.0-503.el9",
           "evidence": "changelog"},
          {"distro": "ubuntu", "match": "", "status": "unknown", "evidence": "no record"}],
        "evidence": ["e"]}]})");
    ASSERT_TRUE(t.ok()) << t.error().message;
    // 5.14 is before the upstream range, but the el9 record names the builds.
    auto v = verdict(*t, "b", facts("5.14.0-427.el9.x86_64", "", {}));
    EXPECT_EQ(v.exposure, BugExposure::affected) << v.reason; // no conditions: affected
    EXPECT_EQ(v.fixed_in, "5.14.0-503.el9");
    KernelFacts newer = facts("5.14.0-503.11.1.el9_5.x86_64", "", {});
    EXPECT_EQ(verdict(*t, "b", newer).exposure, BugExposure::not_affected);
    EXPECT_EQ(verdict(*t, "b", facts("6.8.0-45-generic", "", {})).exposure, BugExposure::unknown);
    EXPECT_EQ(verdict(*t, "b", facts("5.15.0-105-generic", "", {})).exposure, BugExposure::unknown);
    EXPECT_EQ(verdict(*t, "b", facts("5.15.160", "", {})).exposure, BugExposure::not_affected);
}

TEST(KnownBugs, BlkfrontBugHasNoFix) {
    const auto t = shipped();
    const auto v = verdict(
        t, "xen-blkfront-indirect-segments-shrink",
        facts("6.1.0-26-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1", {"xen:blkfront"}));
    EXPECT_EQ(v.exposure, BugExposure::affected);
    EXPECT_EQ(v.fixed_in, "no fix known");
}

TroubleEvent event(TroubleKind kind, std::string function, std::vector<std::string> frames,
                   std::string location = {}, std::string head = {}) {
    TroubleEvent e;
    e.kind = kind;
    e.function = std::move(function);
    e.frames = std::move(frames);
    e.location = std::move(location);
    e.head = std::move(head);
    return e;
}

TEST(KnownBugs, EventsMatchTheirBug) {
    const auto t = shipped();
    auto one = [&](const TroubleEvent& e) {
        const auto ids = match_known_bugs(t, e);
        return ids.size() == 1 ? ids[0] : std::string("<") + std::to_string(ids.size()) + ">";
    };
    EXPECT_EQ(
        one(event(TroubleKind::rcu_stall, "xas_descend",
                  {"xas_load", "filemap_get_read_batch", "filemap_get_pages", "filemap_read"})),
        livelock);
    // The fadvise path.
    EXPECT_EQ(one(event(TroubleKind::soft_lockup, "xas_find",
                        {"find_lock_entries", "mapping_try_invalidate", "generic_fadvise"})),
              livelock);
    // A stall elsewhere is not this bug; nor is a hung victim of it.
    EXPECT_EQ(one(event(TroubleKind::rcu_stall, "__drm_dbg", {"amdgpu_bo_do_create"})), "<0>");
    EXPECT_EQ(one(event(TroubleKind::hung_task, "", {"rwsem_down_write_slowpath", "xfs_ilock"})),
              "<0>");
    EXPECT_EQ(one(event(TroubleKind::oops, "xennet_poll", {"napi_busy_loop"})),
              "xen-netfront-null-sring-after-migration");
    EXPECT_EQ(one(event(TroubleKind::kernel_bug, "blkif_queue_rq", {"blk_mq_dispatch_rq_list"},
                        "drivers/block/xen-blkfront.c:774")),
              "xen-blkfront-indirect-segments-shrink");
    EXPECT_EQ(one(event(TroubleKind::block_io, "", {}, "", "xvda disabled for further use")),
              "xen-blkfront-xsa396-disabled");
}

TEST(KnownBugs, RealReportsMatchTheirBug) {
    const auto t = shipped();
    const auto stalls = assemble("linux-6.1.31-xfs-livelock-bz217572.log");
    ASSERT_EQ(stalls.size(), 4u);
    EXPECT_TRUE(match_known_bugs(t, stalls[0]).empty()); // the hung task: a victim
    for (std::size_t i = 1; i < stalls.size(); ++i)
        EXPECT_EQ(match_known_bugs(t, stalls[i]), std::vector<std::string>{livelock}) << i;
    const auto netfront = assemble("linux-4.x-netfront-null-sring-cve-2022-48969.log");
    ASSERT_EQ(netfront.size(), 1u);
    EXPECT_EQ(match_known_bugs(t, netfront[0]),
              std::vector<std::string>{"xen-netfront-null-sring-after-migration"});
    for (const char* other :
         {"linux-3.16-btrfs-null-deref-oops.log", "linux-5.10-xenpv-kernel-bug-swapops.log",
          "linux-5.10-rcu-stall-soft-lockup-amdgpu.log", "linux-5.10-jbd2-hung-task.log"})
        for (const auto& e : assemble(other))
            EXPECT_TRUE(match_known_bugs(t, e).empty()) << other << ": " << e.signature_text;
}

TEST(KnownBugs, ParseErrorsNameEntryAndField) {
    const std::string head =
        R"({"schema": 1, "tracks_upstream": ["upstream"], "issues": [], "known_bugs": [)";
    const std::string ok_tail = R"("evidence": ["x"]}]})";
    struct Case {
        std::string bug;
        std::string message;
    };
    for (
        const auto& c : {
            Case{
                R"({"id": "a", "title": "t", "component": "c", "effect": "crash", "description": "d", "affected": [{"from": "6.1", "to": "6.1"}], )" +
                    ok_tail,
                "known_bugs[0] (a).affected[0].to: not after from"},
            Case{
                R"({"id": "a", "title": "t", "component": "c", "effect": "crash", "description": "d", "affected": [{"from": "6.1"}], "patterns": [{"kinds": ["explosion"]}], )" +
                    ok_tail,
                "known_bugs[0] (a).patterns[0].kinds: unknown kind \"explosion\""},
            Case{
                R"({"id": "a", "title": "t", "component": "c", "effect": "crash", "description": "d", "affected": [{"from": "6.1"}], "evidence": []}]})",
                "known_bugs[0] (a).evidence: missing or empty: say why"},
            Case{
                R"({"id": "a", "title": "t", "component": "c", "effect": "crash", "description": "d", "affected": [], )" +
                    ok_tail,
                "known_bugs[0] (a).affected: missing, empty or not an array"},
        }) {
        const auto r = parse_risk_table(head + c.bug);
        ASSERT_FALSE(r.ok()) << c.bug;
        EXPECT_EQ(r.error().message, c.message);
    }
}

} // namespace
} // namespace guardian

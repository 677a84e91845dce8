// The kernel risk table: the shipped data file parses, real distribution
// release strings get the verdict the table supports, broken tables are
// refused with the entry and field named, and feature changes are judged.
#include "guardian/core/kernel_version.hpp"
#include "guardian/core/risk_table.hpp"
#include "guardian/util/fd.hpp"
#include "tests/support/shipped_risk_table.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

RiskTable shipped_table() {
    return test::shipped_risk_table();
}

struct ReleaseCase {
    const char* release;
    unsigned major, minor, patch;
    KernelDistro distro;
    const char* tag;
};

TEST(KernelRelease, ParsesDistributionReleaseStrings) {
    const ReleaseCase cases[] = {
        {"3.16.0-4-amd64", 3, 16, 0, KernelDistro::debian, "amd64"},
        {"2.6.32-754.35.1.el6.x86_64", 2, 6, 32, KernelDistro::rhel, "el6"},
        {"4.19.0-27-amd64", 4, 19, 0, KernelDistro::debian, "amd64"},
        {"5.10.0-30-cloud-amd64", 5, 10, 0, KernelDistro::debian, "amd64"},
        {"6.1.0-18-amd64", 6, 1, 0, KernelDistro::debian, "amd64"},
        {"4.1.12-124.48.6.el7uek.x86_64", 4, 1, 12, KernelDistro::oracle_uek, "el7uek"},
        {"4.1.12-124.48.6.el7uek", 4, 1, 12, KernelDistro::oracle_uek, "el7uek"},
        {"3.10.0-1160.el7.x86_64", 3, 10, 0, KernelDistro::rhel, "el7"},
        {"4.18.0-513.5.1.el8_9.x86_64", 4, 18, 0, KernelDistro::rhel, "el8_9"},
        {"4.4.0-210-generic", 4, 4, 0, KernelDistro::ubuntu, "generic"},
        {"3.13.0-170-generic", 3, 13, 0, KernelDistro::ubuntu, "generic"},
        {"5.15.0-1051-aws", 5, 15, 0, KernelDistro::ubuntu, "aws"},
        {"5.14.21-150500.55.39-default", 5, 14, 21, KernelDistro::suse, "default"},
        {"6.5.6-300.fc39.x86_64", 6, 5, 6, KernelDistro::fedora, "fc39"},
        {"4.14.336-257.562.amzn2.x86_64", 4, 14, 336, KernelDistro::amazon, "amzn2"},
        {"6.18.0", 6, 18, 0, KernelDistro::upstream, ""},
        {"4.1", 4, 1, 0, KernelDistro::upstream, ""},
        {"5.4.0-custom", 5, 4, 0, KernelDistro::other, ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.release);
        const auto k = parse_kernel_release(c.release);
        ASSERT_TRUE(k);
        EXPECT_EQ(k->base, (UpstreamVersion{c.major, c.minor, c.patch}));
        EXPECT_EQ(k->distro, c.distro) << to_string(k->distro);
        EXPECT_EQ(k->distro_tag, c.tag);
    }
}

TEST(KernelRelease, RefusesJunk) {
    for (const char* junk :
         {"", "linux", "4", "4.", ".4.2", "4.x", "4.2 -1", "4.2\n", "4.2#1", "99999999999.1"})
        EXPECT_FALSE(parse_kernel_release(junk)) << junk;
    EXPECT_FALSE(parse_kernel_release(std::string(65, '4')));
}

TEST(KernelRelease, OrdersVersions) {
    EXPECT_LT((UpstreamVersion{2, 6, 32}), (UpstreamVersion{3, 0, 0}));
    EXPECT_LT((UpstreamVersion{4, 1, 12}), (UpstreamVersion{4, 2, 0}));
    EXPECT_EQ(*parse_upstream_version("4.2"), (UpstreamVersion{4, 2, 0}));
    EXPECT_FALSE(parse_upstream_version("4.2-rc7"));
    EXPECT_EQ(to_string(UpstreamVersion{2, 6, 24}), "2.6.24");
    EXPECT_EQ(to_string(UpstreamVersion{4, 2, 0}), "4.2");
}

TEST(KernelRelease, ComparesPackageVersions) {
    EXPECT_LT(compare_package_versions("3.10.0-327.el7", "3.10.0-1160.el7"), 0);
    EXPECT_GT(compare_package_versions("3.10.0-1160.119.1.el7", "3.10.0-1160.el7"), 0);
    EXPECT_EQ(compare_package_versions("3.16.84-1", "3.16.84-1"), 0);
    EXPECT_LT(compare_package_versions("3.16.7-ckt20-1", "3.16.84-1"), 0);
    EXPECT_EQ(compare_package_versions("4.09", "4.9"), 0);
}

struct VerdictCase {
    const char* release;
    Safety safety;
};

TEST(RiskTable, VerdictsForRealKernels) {
    const RiskTable table = shipped_table();
    const VerdictCase cases[] = {
        // Incident 1's two kernels: both lost their filesystems.
        {"3.16.0-4-amd64", Safety::unsafe},
        {"2.6.32-754.35.1.el6.x86_64", Safety::unsafe},
        // Upstream-tracking kernels at or after 4.2.
        {"4.19.0-27-amd64", Safety::safe},
        {"5.10.0-30-amd64", Safety::safe},
        {"6.1.0-18-amd64", Safety::safe},
        {"4.2", Safety::safe},
        {"6.18.0", Safety::safe},
        // Vendor kernels at or after 4.2 carry the fix in their base.
        {"4.4.0-210-generic", Safety::safe},
        {"5.15.0-1051-aws", Safety::safe},
        {"4.18.0-513.5.1.el8_9.x86_64", Safety::safe},
        // Upstream before 4.2.
        {"4.1.52", Safety::unsafe},
        {"3.2.0-4-amd64", Safety::unsafe},
        // Vendor kernels before 4.2 without a backport record.
        {"3.10.0-1160.el7.x86_64", Safety::unknown},
        {"4.1.12-124.48.6.el7uek", Safety::unknown},
        {"3.13.0-170-generic", Safety::unknown},
        {"3.0.101-108.13-default", Safety::unknown},
        {"3.14.79-custom", Safety::unknown},
        // Not a kernel release.
        {"not-a-kernel", Safety::unknown},
    };
    for (const auto& c : cases) {
        const KernelVerdict v = judge_kernel(table, c.release);
        EXPECT_EQ(v.safety, c.safety) << c.release << ": " << v.reason;
        EXPECT_FALSE(v.reason.empty()) << c.release;
        if (c.safety != Safety::safe && parse_kernel_release(c.release)) {
            EXPECT_EQ(v.issue_id, "xen-blkfront-feature-reread") << c.release;
            EXPECT_NE(v.reason.find("xen-blkfront-feature-reread"), std::string::npos);
        }
    }
}

TEST(RiskTable, UnsafeVerdictNamesIssueAndKeys) {
    const KernelVerdict v = judge_kernel(shipped_table(), "3.16.0-4-amd64");
    ASSERT_EQ(v.safety, Safety::unsafe);
    EXPECT_NE(v.reason.find("incident 1"), std::string::npos) << v.reason;
    EXPECT_NE(std::find(v.risky_keys.begin(), v.risky_keys.end(), "feature-persistent"),
              v.risky_keys.end());
    EXPECT_EQ(std::find(v.risky_keys.begin(), v.risky_keys.end(), "feature-max-indirect-segments"),
              v.risky_keys.end()); // re-read on resume even before 4.2
}

TEST(RiskTable, BackportWithPackageVersion) {
    // A made-up table: a distro that backported the fix into package 3.10.0-500.
    const char* json = R"({"schema": 1, "tracks_upstream": ["upstream"], "issues": [{
        "id": "x", "title": "t", "component": "c", "description": "d",
        "upstream": {"introduced": "2.6.24", "fixed": "4.2"},
        "feature_keys": ["feature-persistent"],
        "backports": [{"distro": "rhel", "match": ".el7", "status": "fixed",
                       "fixed_in": "3.10.0-500.el7", "evidence": "changelog"}]}]})";
    const auto table = parse_risk_table(json);
    ASSERT_TRUE(table.ok()) << table.error().message;
    EXPECT_EQ(judge_kernel(*table, "3.10.0-1160.el7.x86_64").safety, Safety::safe);
    EXPECT_EQ(judge_kernel(*table, "3.10.0-327.el7.x86_64").safety, Safety::unsafe);
    // The package version, when known, decides over the release string.
    EXPECT_EQ(judge_kernel(*table, "3.10.0-1160.el7.x86_64", "3.10.0-400.el7").safety,
              Safety::unsafe);
    EXPECT_EQ(judge_kernel(*table, "3.10.0-2.el6.x86_64").safety, Safety::unknown);
}

// The rig's stale-features xen-blkfront: a 6.1 kernel (safe by version)
// whose loaded module build is named as lacking the fix.
TEST(RiskTable, ModuleEvidenceOutranksTheKernelVersion) {
    const char* json = R"({"schema": 1, "tracks_upstream": ["debian"], "issues": [{
        "id": "x", "title": "t", "component": "xen-blkfront", "description": "d",
        "upstream": {"introduced": "2.6.24", "fixed": "4.2"},
        "feature_keys": ["feature-persistent"],
        "modules": [{"module": "xen_blkfront", "version": "stale-build",
                     "status": "affected", "evidence": "the 4.2 fix reverted"},
                    {"module": "xen_blkfront", "srcversion": "ABC123",
                     "status": "fixed", "evidence": "vendor build with the fix"}]}]})";
    const auto table = parse_risk_table(json);
    ASSERT_TRUE(table.ok()) << table.error().message;
    const std::string release = "6.1.0-40-amd64";
    const KernelVerdict stale =
        judge_kernel(*table, release, {}, {{"xen_blkfront", "stale-build", "0FF"}});
    EXPECT_EQ(stale.safety, Safety::unsafe);
    EXPECT_EQ(stale.issue_id, "x");
    EXPECT_NE(stale.reason.find("xen_blkfront version stale-build"), std::string::npos)
        << stale.reason;
    EXPECT_NE(stale.reason.find("the 4.2 fix reverted"), std::string::npos) << stale.reason;
    EXPECT_EQ(stale.risky_keys, (std::vector<std::string>{"feature-persistent"}));
    EXPECT_EQ(judge_feature_change(stale, {"feature-persistent"}).severity,
              FeatureChangeSeverity::critical);
    // The stock module (no version), another build, another module: the
    // kernel's version decides as before.
    EXPECT_EQ(judge_kernel(*table, release, {}, {{"xen_blkfront", "", ""}}).safety, Safety::safe);
    EXPECT_EQ(judge_kernel(*table, release, {}, {{"xen_blkfront", "other", "0FF"}}).safety,
              Safety::safe);
    EXPECT_EQ(judge_kernel(*table, release, {}, {{"xen_netfront", "stale-build", ""}}).safety,
              Safety::safe);
    // srcversion names a build too; a fixed build is safe on an old kernel.
    EXPECT_EQ(judge_kernel(*table, "3.16.0-4-amd64", {}, {{"xen_blkfront", "", "ABC123"}}).safety,
              Safety::safe);
    EXPECT_EQ(judge_kernel(*table, "3.16.0-4-amd64").safety, Safety::unsafe);
}

TEST(RiskTable, ErrorsNameEntryAndField) {
    const std::string head = R"({"schema": 1, "tracks_upstream": ["upstream"], "issues": [)";
    const std::string good_issue = R"({"id": "a", "title": "t", "component": "c",
        "description": "d", "upstream": {"introduced": "2.6", "fixed": "4.2"},
        "feature_keys": []})";
    struct Case {
        std::string json;
        std::string expected;
    };
    const Case cases[] = {
        {"{", "not valid JSON"},
        {"[]", "top level"},
        {R"({"schema": 2, "tracks_upstream": [], "issues": []})", "schema"},
        {R"({"schema": 1, "tracks_upstream": ["hurd"], "issues": []})", "tracks_upstream"},
        {head + R"({"id": "a"}]})", "issues[0] (a).title: missing"},
        {head + good_issue + R"(, {"id": "b", "title": "t", "component": "c",
            "description": "d", "upstream": {"introduced": "2.6", "fixed": "four"},
            "feature_keys": []}]})",
         "issues[1] (b).upstream.fixed: not a version"},
        {head + good_issue + "," + good_issue + "]}", "issues[1] (a).id: duplicate"},
        {head + R"({"id": "a", "title": "t", "component": "c", "description": "d",
            "upstream": {"introduced": "4.2", "fixed": "4.2"}, "feature_keys": []}]})",
         "issues[0] (a).upstream: introduced is not before fixed"},
        {head + R"({"id": "a", "title": "t", "component": "c", "description": "d",
            "upstream": {"introduced": "2.6", "fixed": "4.2"}, "feature_keys": [1]}]})",
         "issues[0] (a).feature_keys"},
        {head + R"({"id": "a", "title": "t", "component": "c", "description": "d",
            "upstream": {"introduced": "2.6", "fixed": "4.2"}, "feature_keys": [],
            "backports": [{"distro": "rhel", "status": "maybe", "evidence": "e"}]}]})",
         "issues[0] (a).backports[0].status"},
        {head + R"({"id": "a", "title": "t", "component": "c", "description": "d",
            "upstream": {"introduced": "2.6", "fixed": "4.2"}, "feature_keys": [],
            "backports": [{"distro": "rhel", "status": "affected", "evidence": ""}]}]})",
         "issues[0] (a).backports[0].evidence"},
        {head + R"({"id": "a", "title": "t", "component": "c", "description": "d",
            "upstream": {"introduced": "2.6", "fixed": "4.2"}, "feature_keys": [],
            "modules": [{"module": "xen_blkfront", "status": "affected", "evidence": "e"}]}]})",
         "issues[0] (a).modules[0].version: neither version nor srcversion"},
        {head + R"({"id": "a", "title": "t", "component": "c", "description": "d",
            "upstream": {"introduced": "2.6", "fixed": "4.2"}, "feature_keys": [],
            "modules": [{"module": "xen_blkfront", "version": "v", "status": "affected",
                         "evidence": ""}]}]})",
         "issues[0] (a).modules[0].evidence"},
        {head + R"({"id": "a", "title": "t", "component": "c", "description": "d",
            "upstream": {"introduced": "2.6", "fixed": "4.2"}, "feature_keys": [],
            "modules": {}}]})",
         "issues[0] (a).modules: not an array"},
    };
    for (const auto& c : cases) {
        const auto r = parse_risk_table(c.json);
        ASSERT_FALSE(r.ok()) << c.json;
        EXPECT_NE(r.error().message.find(c.expected), std::string::npos)
            << "got: " << r.error().message << "\nwanted: " << c.expected;
    }
}

TEST(RiskTable, JudgesFeatureChanges) {
    const RiskTable table = shipped_table();
    const KernelVerdict old_kernel = judge_kernel(table, "3.16.0-4-amd64");
    const KernelVerdict new_kernel = judge_kernel(table, "6.1.0-18-amd64");
    const KernelVerdict el7 = judge_kernel(table, "3.10.0-1160.el7.x86_64");

    EXPECT_EQ(judge_feature_change(old_kernel, {}).severity, FeatureChangeSeverity::none);

    // The phy -> qdisk restore seen on the test rig.
    const std::vector<std::string> qdisk{"feature-persistent", "feature-max-indirect-segments",
                                         "feature-barrier", "multi-queue-max-queues"};
    const auto bad = judge_feature_change(old_kernel, qdisk);
    EXPECT_EQ(bad.severity, FeatureChangeSeverity::critical);
    EXPECT_EQ(bad.critical_keys,
              (std::vector<std::string>{"feature-persistent", "feature-barrier"}));
    EXPECT_NE(bad.reason.find("xen-blkfront-feature-reread"), std::string::npos);

    EXPECT_EQ(judge_feature_change(new_kernel, qdisk).severity, FeatureChangeSeverity::warning);
    // Unknown backport status counts as "may lack the fix".
    EXPECT_EQ(judge_feature_change(el7, qdisk).severity, FeatureChangeSeverity::critical);
    // Keys the bug does not mishandle are only recorded, even on an old kernel.
    EXPECT_EQ(
        judge_feature_change(old_kernel, {"feature-max-indirect-segments", "sectors"}).severity,
        FeatureChangeSeverity::warning);
}

} // namespace
} // namespace guardian

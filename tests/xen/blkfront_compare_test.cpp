// The blkfront model: comparing two captures names every change, absent keys
// are not "0", and the feature summary is bounded and parseable.
#include "guardian/core/blkfront.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

// What the test rig's domU sees on blkback (phy:), from docs/design.md
// ("Seen on the real-Xen rig").
VbdCapture phy_vbd(const std::string& domid) {
    VbdCapture v;
    v.id = "51712";
    v.frontend_path = "device/vbd/51712";
    v.backend_path = "/local/domain/0/backend/vbd/" + domid + "/51712";
    v.backend_id = "0";
    v.frontend_state = "4";
    v.backend_state = "4";
    for (const auto& k : blkfront_backend_keys())
        v.backend_features[k] = std::nullopt;
    v.backend_features["feature-barrier"] = "1";
    v.backend_features["feature-flush-cache"] = "1";
    v.backend_features["feature-discard"] = "0";
    v.backend_features["feature-persistent"] = "1";
    v.backend_features["feature-max-indirect-segments"] = "256";
    v.backend_features["max-ring-page-order"] = "4";
    v.backend_features["multi-queue-max-queues"] = "2";
    v.backend_features["sectors"] = "2097152";
    v.backend_features["info"] = "0";
    v.backend_features["sector-size"] = "512";
    v.frontend_keys["ring-ref"] = "8";
    v.frontend_keys["event-channel"] = "5";
    v.frontend_keys["protocol"] = "x86_64-abi";
    v.frontend_keys["feature-persistent"] = "1";
    v.device = "xvda";
    v.partitions = {"xvda1"};
    v.size_sectors = 2097152;
    return v;
}

// The same disk after `xl restore` onto the qdisk backend.
VbdCapture qdisk_vbd(const std::string& domid) {
    VbdCapture v = phy_vbd(domid);
    v.backend_path = "/local/domain/0/backend/qdisk/" + domid + "/51712";
    v.backend_features["feature-persistent"] = std::nullopt;
    v.backend_features["feature-max-indirect-segments"] = std::nullopt;
    v.backend_features["feature-barrier"] = std::nullopt;
    v.backend_features["multi-queue-max-queues"] = std::nullopt;
    return v;
}

BlkfrontCapture capture(const std::string& domid, VbdCapture v) {
    BlkfrontCapture c;
    c.domid = domid;
    c.vbds.push_back(std::move(v));
    return c;
}

std::vector<std::string> described(const std::vector<CaptureChange>& changes) {
    std::vector<std::string> out;
    for (const auto& c : changes)
        out.push_back(c.describe());
    return out;
}

TEST(BlkfrontCompare, IdenticalCapturesHaveNoChanges) {
    EXPECT_TRUE(compare(capture("1", phy_vbd("1")), capture("1", phy_vbd("1"))).empty());
}

TEST(BlkfrontCompare, PhyToQdiskRestoreNamesEveryChange) {
    const auto changes = compare(capture("1", phy_vbd("1")), capture("2", qdisk_vbd("2")));
    EXPECT_EQ(described(changes),
              (std::vector<std::string>{
                  "domid: 1 -> 2",
                  "vbd 51712 backend path moved: /local/domain/0/backend/vbd/1/51712 -> "
                  "/local/domain/0/backend/qdisk/2/51712",
                  "vbd 51712 backend feature-barrier: 1 -> absent",
                  "vbd 51712 backend feature-max-indirect-segments: 256 -> absent",
                  "vbd 51712 backend feature-persistent: 1 -> absent",
                  "vbd 51712 backend multi-queue-max-queues: 2 -> absent",
              }));
    EXPECT_EQ(changed_feature_keys(changes),
              (std::vector<std::string>{"feature-barrier", "feature-max-indirect-segments",
                                        "feature-persistent", "multi-queue-max-queues"}));
    EXPECT_EQ(changes[4].compact(), "vbd/51712/feature-persistent 1->-");
    EXPECT_EQ(changes[0].compact(), "domid 1->2");
}

// Only the backend newly offering persistent grants (the incident's qdisk ->
// blkback direction) makes a non-re-reading frontend reuse still-mapped
// grants; the other direction, or any other key, does not.
TEST(BlkfrontCompare, PersistentGrantsNewlyOfferedOnlyTowardsBlkback) {
    const auto to_phy = compare(capture("1", qdisk_vbd("1")), capture("2", phy_vbd("2")));
    EXPECT_TRUE(persistent_grants_newly_offered(to_phy));
    const auto to_qdisk = compare(capture("1", phy_vbd("1")), capture("2", qdisk_vbd("2")));
    EXPECT_FALSE(persistent_grants_newly_offered(to_qdisk));
    VbdCapture zero = qdisk_vbd("1");
    zero.backend_features["feature-persistent"] = "0";
    EXPECT_TRUE(
        persistent_grants_newly_offered(compare(capture("1", zero), capture("2", phy_vbd("2")))));
    VbdCapture junk = phy_vbd("2");
    junk.backend_features["feature-persistent"] = "yes";
    EXPECT_FALSE(
        persistent_grants_newly_offered(compare(capture("1", qdisk_vbd("1")), capture("2", junk))));
    EXPECT_FALSE(persistent_grants_newly_offered({}));
}

TEST(BlkfrontCompare, AbsentIsNotZero) {
    VbdCapture a = phy_vbd("1");
    VbdCapture b = a;
    a.backend_features["feature-discard"] = std::nullopt;
    b.backend_features["feature-discard"] = "0";
    const auto changes = compare(capture("1", a), capture("1", b));
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].describe(), "vbd 51712 backend feature-discard: absent -> 0");
}

TEST(BlkfrontCompare, StatesDevicesSizesAndVbdSet) {
    VbdCapture a = phy_vbd("1");
    VbdCapture b = a;
    b.frontend_state = "3";
    b.backend_state = std::nullopt;
    b.device = "xvdb";
    b.size_sectors = 4194304;
    b.frontend_keys["ring-ref"] = "9";
    BlkfrontCapture before = capture("1", a);
    BlkfrontCapture after = capture("1", b);
    VbdCapture extra = phy_vbd("1");
    extra.id = "51728";
    extra.backend_path = "/local/domain/0/backend/vbd/1/51728";
    after.vbds.push_back(extra);
    after.unique_domain_id = "c0ffee";
    EXPECT_EQ(described(compare(before, after)),
              (std::vector<std::string>{
                  "unique-domain-id: absent -> c0ffee",
                  "vbd 51712 frontend state: 4 -> 3",
                  "vbd 51712 backend state: 4 -> absent",
                  "vbd 51712 frontend ring-ref: 8 -> 9",
                  "vbd 51712 device: xvda -> xvdb",
                  "vbd 51712 size in sectors: 2097152 -> 4194304",
                  "vbd 51728 added (backend /local/domain/0/backend/vbd/1/51728)",
              }));
    EXPECT_EQ(described(compare(after, before)).back(),
              "vbd 51728 removed (backend /local/domain/0/backend/vbd/1/51728)");
}

TEST(BlkfrontCompare, FeatureSummaryListsEveryKeyInOrder) {
    EXPECT_EQ(feature_summary(qdisk_vbd("2")),
              "feature-barrier=- feature-flush-cache=1 feature-discard=0 discard-granularity=- "
              "discard-alignment=- discard-secure=- feature-persistent=- "
              "feature-max-indirect-segments=- max-ring-page-order=4 multi-queue-max-queues=- "
              "sectors=2097152 info=0 sector-size=512 physical-sector-size=-");
}

TEST(BlkfrontCompare, FeatureSummaryIsBoundedAgainstJunk) {
    VbdCapture v = phy_vbd("1");
    for (const auto& k : blkfront_backend_keys())
        v.backend_features[k] = std::string(4000, 'x') + " =\n";
    v.backend_features["info"] = "a b=c\x01";
    const std::string s = feature_summary(v);
    EXPECT_LT(s.size(), 1024u);
    EXPECT_NE(s.find("info=a_b_c_"), std::string::npos) << s;
    EXPECT_EQ(s.find('\n'), std::string::npos);
}

} // namespace
} // namespace guardian

// The blkfront capture adapter against the in-memory xenstore and a fake
// sysfs tree laid out like a real PV guest's (/sys/devices/vbd-51712 with
// block/xvda inside, /sys/bus/xen/devices and /sys/block as symlinks).
#include "guardian/xen/blkfront_capture.hpp"
#include "tests/support/memory_xenstore.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace guardian {
namespace {

namespace fs = std::filesystem;
using test::MemoryXenStore;

void write_file(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
}

// One vbd as xl + blkback create it for domain `domid`.
void add_vbd(MemoryXenStore& xs, unsigned domid, const std::string& id, const std::string& type) {
    const std::string fe = "/local/domain/" + std::to_string(domid) + "/device/vbd/" + id;
    const std::string be =
        "/local/domain/0/backend/" + type + "/" + std::to_string(domid) + "/" + id;
    xs.set(fe + "/backend", be);
    xs.set(fe + "/backend-id", "0");
    xs.set(fe + "/state", "4");
    xs.set(fe + "/virtual-device", id);
    xs.set(fe + "/device-type", "disk");
    xs.set(fe + "/ring-ref", "8");
    xs.set(fe + "/event-channel", "5");
    xs.set(fe + "/protocol", "x86_64-abi");
    xs.set(fe + "/feature-persistent", "1");
    xs.set(fe + "/unrelated-key", "ignored");
    xs.set(be + "/state", "4");
    xs.set(be + "/frontend", fe);
    xs.set(be + "/feature-flush-cache", "1");
    xs.set(be + "/feature-discard", "0");
    xs.set(be + "/sectors", "2097152");
    xs.set(be + "/info", "0");
    xs.set(be + "/sector-size", "512");
    xs.set(be + "/max-ring-page-order", "4");
    if (type == "vbd") { // blkback; qdisk writes none of these
        xs.set(be + "/feature-barrier", "1");
        xs.set(be + "/feature-persistent", "1");
        xs.set(be + "/feature-max-indirect-segments", "256");
        xs.set(be + "/multi-queue-max-queues", "2");
    }
}

void add_sysfs(const fs::path& root, const std::string& id, const std::string& dev,
               const std::vector<std::string>& parts) {
    const fs::path devdir = root / "sys/devices" / ("vbd-" + id);
    write_file(devdir / "nodename", "device/vbd/" + id + "\n");
    write_file(devdir / "block" / dev / "size", "2097152\n");
    for (const auto& p : parts) {
        write_file(devdir / "block" / dev / p / "partition", "1\n");
        write_file(devdir / "block" / dev / p / "size", "2095104\n");
    }
    fs::create_directories(devdir / "block" / dev / "queue"); // not a partition
    fs::create_directories(root / "sys/bus/xen/devices");
    fs::create_directories(root / "sys/block");
    fs::create_symlink("../../../devices/vbd-" + id, root / "sys/bus/xen/devices" / ("vbd-" + id));
    fs::create_symlink("../devices/vbd-" + id + "/block/" + dev, root / "sys/block" / dev);
}

TEST(BlkfrontCapture, CapturesXenstoreAndSysfs) {
    test::TempDir tmp;
    MemoryXenStore xs(1);
    xs.set("domid", "1");
    add_vbd(xs, 1, "51712", "vbd");
    add_vbd(xs, 1, "51728", "qdisk");
    add_sysfs(tmp.path(), "51712", "xvda", {"xvda1", "xvda2"});
    const auto cap = xen::capture_blkfront(xs, SystemRoot(tmp.path().string()));
    ASSERT_TRUE(cap.ok()) << cap.error().message;
    EXPECT_EQ(cap->domid, "1");
    EXPECT_EQ(cap->unique_domain_id, std::nullopt);
    ASSERT_EQ(cap->vbds.size(), 2u);

    const VbdCapture& a = cap->vbds[0];
    EXPECT_EQ(a.id, "51712");
    EXPECT_EQ(a.frontend_path, "device/vbd/51712");
    EXPECT_EQ(a.backend_path, "/local/domain/0/backend/vbd/1/51712");
    EXPECT_EQ(a.backend_id, "0");
    EXPECT_EQ(a.frontend_state, "4");
    EXPECT_EQ(a.backend_state, "4");
    EXPECT_EQ(a.backend_features.size(), blkfront_backend_keys().size());
    EXPECT_EQ(a.backend_features.at("feature-persistent"), "1");
    EXPECT_EQ(a.backend_features.at("feature-max-indirect-segments"), "256");
    EXPECT_EQ(a.backend_features.at("discard-granularity"), std::nullopt);
    EXPECT_EQ(a.frontend_keys.at("ring-ref"), "8");
    EXPECT_EQ(a.frontend_keys.at("protocol"), "x86_64-abi");
    EXPECT_FALSE(a.frontend_keys.contains("unrelated-key"));
    EXPECT_FALSE(a.frontend_keys.contains("backend")); // kept as backend_path
    EXPECT_EQ(a.device, "xvda");
    EXPECT_EQ(a.partitions, (std::vector<std::string>{"xvda1", "xvda2"}));
    EXPECT_EQ(a.size_sectors, 2097152u);

    const VbdCapture& b = cap->vbds[1];
    EXPECT_EQ(b.backend_path, "/local/domain/0/backend/qdisk/1/51728");
    EXPECT_EQ(b.backend_features.at("feature-persistent"), std::nullopt); // absent, not "0"
    EXPECT_EQ(b.backend_features.at("feature-flush-cache"), "1");
    EXPECT_EQ(b.device, ""); // no sysfs for it
    EXPECT_EQ(b.size_sectors, std::nullopt);
}

TEST(BlkfrontCapture, MultiQueueKeysAreCapturedPerQueue) {
    test::TempDir tmp;
    MemoryXenStore xs(1);
    add_vbd(xs, 1, "51712", "vbd");
    xs.erase("device/vbd/51712/ring-ref");
    xs.erase("device/vbd/51712/event-channel");
    xs.set("device/vbd/51712/multi-queue-num-queues", "2");
    for (const char* q : {"queue-0", "queue-1"}) {
        xs.set(std::string("device/vbd/51712/") + q + "/ring-ref", "10");
        xs.set(std::string("device/vbd/51712/") + q + "/event-channel", "6");
    }
    const auto cap = xen::capture_blkfront(xs, SystemRoot(tmp.path().string()));
    ASSERT_TRUE(cap.ok()) << cap.error().message;
    const auto& fk = cap->vbds.at(0).frontend_keys;
    EXPECT_EQ(fk.at("multi-queue-num-queues"), "2");
    EXPECT_EQ(fk.at("queue-1/ring-ref"), "10");
    EXPECT_EQ(fk.at("queue-0/event-channel"), "6");
    EXPECT_FALSE(fk.contains("ring-ref"));
}

TEST(BlkfrontCapture, RestoreOntoQdiskIsACompleteComparison) {
    test::TempDir tmp;
    MemoryXenStore xs(1);
    xs.set("domid", "1");
    add_vbd(xs, 1, "51712", "vbd");
    const SystemRoot root(tmp.path().string());
    const auto before = xen::capture_blkfront(xs, root);
    ASSERT_TRUE(before.ok());
    // xl restore onto qdisk: domid 2, new frontend and backend directories.
    xs.set_home(2);
    xs.set("domid", "2");
    add_vbd(xs, 2, "51712", "qdisk");
    const auto after = xen::capture_blkfront(xs, root);
    ASSERT_TRUE(after.ok());
    const auto keys = changed_feature_keys(compare(*before, *after));
    EXPECT_EQ(keys, (std::vector<std::string>{"feature-barrier", "feature-max-indirect-segments",
                                              "feature-persistent", "multi-queue-max-queues"}));
}

TEST(BlkfrontCapture, NotAPvDiskGuestIsEmptyNotAnError) {
    test::TempDir tmp;
    MemoryXenStore xs(1);
    const auto cap = xen::capture_blkfront(xs, SystemRoot(tmp.path().string()));
    ASSERT_TRUE(cap.ok()) << cap.error().message;
    EXPECT_TRUE(cap->vbds.empty());
    EXPECT_EQ(cap->domid, std::nullopt);
}

// /sys/module/xen_blkfront: the stock module has no version files; the
// rig's rebuilt one has both (what the risk table's module evidence matches).
TEST(BlkfrontCapture, ReadsTheLoadedModuleBuild) {
    test::TempDir tmp;
    const SystemRoot root(tmp.path().string());
    EXPECT_TRUE(xen::read_blkfront_module(root).empty()); // built in, or no PV disk

    fs::create_directories(tmp.path() / "sys/module/xen_blkfront/parameters");
    auto stock = xen::read_blkfront_module(root);
    ASSERT_EQ(stock.size(), 1u);
    EXPECT_EQ(stock[0].name, "xen_blkfront");
    EXPECT_EQ(stock[0].version, "");
    EXPECT_EQ(stock[0].srcversion, "");

    write_file(tmp.path() / "sys/module/xen_blkfront/version", "guardian-rig-stale-features\n");
    write_file(tmp.path() / "sys/module/xen_blkfront/srcversion", "5D3A0C1B2E4F6A7B8C9D0E1\n");
    auto rebuilt = xen::read_blkfront_module(root);
    ASSERT_EQ(rebuilt.size(), 1u);
    EXPECT_EQ(rebuilt[0].version, "guardian-rig-stale-features");
    EXPECT_EQ(rebuilt[0].srcversion, "5D3A0C1B2E4F6A7B8C9D0E1");
}

TEST(BlkfrontCapture, ReadErrorsFailTheCapture) {
    test::TempDir tmp;
    MemoryXenStore xs(1);
    add_vbd(xs, 1, "51712", "vbd");
    xs.inject_error("/local/domain/0/backend/vbd/1/51712/feature-persistent", EACCES);
    const auto cap = xen::capture_blkfront(xs, SystemRoot(tmp.path().string()));
    ASSERT_FALSE(cap.ok());
    EXPECT_EQ(cap.error().code, EACCES);
}

TEST(BlkfrontCapture, JunkFromXenstoreIsBounded) {
    test::TempDir tmp;
    MemoryXenStore xs(1);
    add_vbd(xs, 1, "51712", "vbd");
    xs.set("device/vbd/not-a-number/backend", "/x");
    xs.set("device/vbd/51728/backend", "../../../etc"); // not absolute: never read
    xs.set("/local/domain/0/backend/vbd/1/51712/info", std::string(2000, 'i'));
    const auto cap = xen::capture_blkfront(xs, SystemRoot(tmp.path().string()));
    ASSERT_TRUE(cap.ok()) << cap.error().message;
    ASSERT_EQ(cap->vbds.size(), 2u);
    EXPECT_EQ(cap->vbds[0].backend_features.at("info")->size(), 256u);
    EXPECT_EQ(cap->vbds[1].id, "51728");
    EXPECT_EQ(cap->vbds[1].backend_features.at("feature-persistent"), std::nullopt);
    EXPECT_EQ(cap->vbds[1].backend_state, std::nullopt);
}

} // namespace
} // namespace guardian

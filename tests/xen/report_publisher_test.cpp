// Publishing data/guardian/ through the xenstore port (in-memory fake):
// only changed nodes are written, stale vbds disappear, a restore that lost
// data/ is noticed and everything is written again.
#include "guardian/core/report.hpp"
#include "guardian/xen/publisher.hpp"
#include "tests/support/memory_xenstore.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace guardian {
namespace {

using test::MemoryXenStore;

ReportNodes nodes_with(std::initializer_list<std::string> vbds, const std::string& state) {
    ReportNodes n{{"version", "0.1.0"}, {"state", state}, {"updated", "2026-11-21T17:00:00Z"}};
    for (const auto& id : vbds) {
        n["vbd/" + id + "/backend"] = "/local/domain/0/backend/vbd/7/" + id;
        n["vbd/" + id + "/features"] = "feature-persistent=1";
    }
    return n;
}

TEST(ReportPublisher, WritesEverythingFirstThenOnlyChanges) {
    MemoryXenStore xs(7);
    xen::ReportPublisher pub(xs);
    auto s = pub.publish(nodes_with({"51712"}, "starting"));
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->written, 5u);
    EXPECT_EQ(xs.value("/local/domain/7/data/guardian/state"), "starting");
    EXPECT_EQ(xs.value("/local/domain/7/data/guardian/vbd/51712/features"), "feature-persistent=1");

    const std::size_t writes = xs.write_count();
    auto n = nodes_with({"51712"}, "watching");
    n["updated"] = "2026-11-21T17:01:00Z";
    s = pub.publish(n);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->written, 2u); // state and updated
    EXPECT_EQ(xs.write_count() - writes, 2u);
    EXPECT_EQ(xs.value("data/guardian/state"), "watching");

    s = pub.publish(n);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->written, 0u);
}

TEST(ReportPublisher, UpdatedIsWrittenLast) {
    MemoryXenStore xs(7);
    ASSERT_TRUE(xs.watch("data/guardian", "t").ok());
    ASSERT_TRUE(xs.read_watch_events().ok()); // the registration firing
    xen::ReportPublisher pub(xs);
    ASSERT_TRUE(pub.publish(nodes_with({"51712"}, "starting")).ok());
    const auto events = xs.read_watch_events();
    ASSERT_TRUE(events.ok());
    ASSERT_FALSE(events->empty());
    EXPECT_EQ(events->back().path, "data/guardian/updated");
}

TEST(ReportPublisher, RemovesStaleVbdsAndNodes) {
    MemoryXenStore xs(7);
    xen::ReportPublisher pub(xs);
    auto n = nodes_with({"51712", "51728"}, "watching");
    n["last-restore"] = "x";
    ASSERT_TRUE(pub.publish(n).ok());
    ASSERT_TRUE(xs.exists("data/guardian/vbd/51728"));
    const auto s = pub.publish(nodes_with({"51712"}, "watching"));
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->removed, 2u); // the vbd directory in one go, and last-restore
    EXPECT_FALSE(xs.exists("data/guardian/vbd/51728"));
    EXPECT_FALSE(xs.exists("data/guardian/last-restore"));
    EXPECT_TRUE(xs.exists("data/guardian/vbd/51712/features"));
}

TEST(ReportPublisher, NoticesVanishedDataAndRewritesAfterInvalidate) {
    MemoryXenStore xs(7);
    xen::ReportPublisher pub(xs);
    auto v = pub.vanished();
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(*v); // nothing written yet
    const auto n = nodes_with({"51712"}, "watching");
    ASSERT_TRUE(pub.publish(n).ok());
    v = pub.vanished();
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(*v);

    // xl restore: new domid, and data/ is not carried over.
    xs.set_home(9);
    v = pub.vanished();
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(*v);
    // Without invalidate() nothing would be written: the publisher believes
    // xenstore holds the set already.
    auto s = pub.publish(n);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->written, 0u);
    pub.invalidate();
    s = pub.publish(n);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->written, n.size());
    EXPECT_EQ(xs.value("/local/domain/9/data/guardian/state"), "watching");
    v = pub.vanished();
    ASSERT_TRUE(v.ok());
    EXPECT_FALSE(*v);
}

TEST(ReportPublisher, ReportsWriteErrors) {
    MemoryXenStore xs(7);
    xs.inject_error("data/guardian/state", ENOSPC);
    xen::ReportPublisher pub(xs);
    const auto s = pub.publish(nodes_with({}, "watching"));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ENOSPC);
    xs.clear_errors();
    ASSERT_TRUE(pub.publish(nodes_with({}, "watching")).ok());
    xs.inject_error("data/guardian/version", EACCES);
    const auto v = pub.vanished();
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code, EACCES);
}

TEST(ReportPublisher, RealReportFitsTheQuota) {
    MemoryXenStore xs(7);
    xs.set("domid", "7"); // the guest's home exists before guardian starts
    const std::size_t before = xs.node_count();
    ReportInput in;
    in.version = "0.1.0";
    in.state = guardian::contract::DaemonState::watching;
    for (int i = 0; i < 40; ++i) {
        VbdCapture v;
        v.id = std::to_string(51712 + 16 * i);
        in.vbds.push_back(v);
    }
    xen::ReportPublisher pub(xs);
    ASSERT_TRUE(pub.publish(build_report(in)).ok());
    // Every node xenstore created (data/ itself included) within the bound.
    EXPECT_LE(xs.node_count() - before, max_report_nodes(in.vbds.size()) + 1);
}

} // namespace
} // namespace guardian

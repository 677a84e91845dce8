// The in-memory xenstore fake must behave like xenstored where the code under
// test can tell: otherwise unit tests pass against a store that does not
// exist. These pin the semantics the integration tests check on the wire.
#include "tests/support/memory_xenstore.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <poll.h>

namespace guardian::test {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using xen::WatchEvent;

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

std::vector<std::pair<std::string, std::string>> drain(MemoryXenStore& xs) {
    auto events = xs.read_watch_events();
    EXPECT_TRUE(events.ok());
    std::vector<std::pair<std::string, std::string>> out;
    for (const WatchEvent& e : *events)
        out.emplace_back(e.path, e.token);
    return out;
}

TEST(MemoryXenStore, ReadWriteRelativeAndAbsolute) {
    MemoryXenStore xs(7);
    ASSERT_TRUE(xs.write("data/guardian/state", "ok").ok());
    EXPECT_EQ(xs.read("/local/domain/7/data/guardian/state").value(), "ok");
    EXPECT_EQ(xs.read("data/guardian/state").value(), "ok");
    // Parents exist and are empty, as xenstored creates them.
    EXPECT_EQ(xs.read("data/guardian").value(), "");
    EXPECT_EQ(xs.read("data").value(), "");
}

TEST(MemoryXenStore, ValuesAreBytesNotCStrings) {
    MemoryXenStore xs;
    const std::string junk("a\0b\xff", 4);
    ASSERT_TRUE(xs.write("junk", junk).ok());
    EXPECT_EQ(xs.read("junk").value(), junk);
}

TEST(MemoryXenStore, MissingNodeIsNotFound) {
    MemoryXenStore xs;
    auto r = xs.read("device/vbd/51712/backend");
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(xen::is_not_found(r.error()));
    EXPECT_THAT(r.error().message, ::testing::HasSubstr("device/vbd/51712/backend"));
    auto d = xs.directory("device/vbd");
    ASSERT_FALSE(d.ok());
    EXPECT_TRUE(xen::is_not_found(d.error()));
    // Like xenstored: removing a missing node under an existing parent is
    // success, under a missing parent it is ENOENT.
    EXPECT_TRUE(xs.remove("nothing").ok());
    auto rm = xs.remove("no/such/parent");
    ASSERT_FALSE(rm.ok());
    EXPECT_TRUE(xen::is_not_found(rm.error()));
}

TEST(MemoryXenStore, InvalidPathsAreRefusedLikeXenstored) {
    MemoryXenStore xs;
    for (const char* bad : {"", "a//b", "a/", "a b", "a.b", "@special", "a\nb"}) {
        auto r = xs.write(bad, "x");
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code, EINVAL) << bad;
        EXPECT_FALSE(xen::is_not_found(r.error()));
    }
}

TEST(MemoryXenStore, DirectoryListsDirectChildrenOnly) {
    MemoryXenStore xs;
    ASSERT_TRUE(xs.write("device/vbd/51712/state", "4").ok());
    ASSERT_TRUE(xs.write("device/vbd/51728/state", "4").ok());
    ASSERT_TRUE(xs.write("device/vif/0/state", "4").ok());
    EXPECT_THAT(xs.directory("device/vbd").value(), UnorderedElementsAre("51712", "51728"));
    EXPECT_THAT(xs.directory("device").value(), UnorderedElementsAre("vbd", "vif"));
    EXPECT_THAT(xs.directory("device/vbd/51712/state").value(), ElementsAre());
}

TEST(MemoryXenStore, RemoveTakesTheSubtree) {
    MemoryXenStore xs;
    ASSERT_TRUE(xs.write("data/guardian/a", "1").ok());
    ASSERT_TRUE(xs.write("data/guardian/b/c", "2").ok());
    ASSERT_TRUE(xs.write("data/other", "3").ok());
    ASSERT_TRUE(xs.remove("data/guardian").ok());
    EXPECT_FALSE(xs.exists("data/guardian/b/c"));
    EXPECT_FALSE(xs.exists("data/guardian"));
    EXPECT_TRUE(xs.exists("data/other"));
}

TEST(MemoryXenStore, ValueLimitIsEnforced) {
    MemoryXenStore xs;
    EXPECT_TRUE(xs.write("big", std::string(MemoryXenStore::max_value_size, 'x')).ok());
    auto r = xs.write("bigger", std::string(MemoryXenStore::max_value_size + 1, 'x'));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ENOSPC);
}

TEST(MemoryXenStore, WatchFiresOnRegistrationThenOnChangesBelow) {
    MemoryXenStore xs;
    EXPECT_FALSE(readable(xs.watch_fd()));
    ASSERT_TRUE(xs.watch("control/shutdown", "shutdown").ok());
    ASSERT_TRUE(xs.watch("/local/domain/7/device", "dev").ok());
    EXPECT_TRUE(readable(xs.watch_fd()));
    EXPECT_THAT(drain(xs), ElementsAre(std::pair{"control/shutdown", "shutdown"},
                                       std::pair{"/local/domain/7/device", "dev"}));
    EXPECT_FALSE(readable(xs.watch_fd()));

    ASSERT_TRUE(xs.write("control/shutdown", "suspend").ok());
    ASSERT_TRUE(xs.write("device/vbd/51712/state", "4").ok());
    ASSERT_TRUE(xs.write("unrelated", "x").ok());
    // Relative watches get relative event paths, absolute ones absolute.
    EXPECT_THAT(drain(xs), ElementsAre(std::pair{"control/shutdown", "shutdown"},
                                       std::pair{"/local/domain/7/device/vbd/51712/state", "dev"}));
}

TEST(MemoryXenStore, WatchIsOnPathBoundariesNotPrefixes) {
    MemoryXenStore xs;
    ASSERT_TRUE(xs.watch("data/guardian", "g").ok());
    (void)drain(xs);
    ASSERT_TRUE(xs.write("data/guardian2", "x").ok());
    EXPECT_THAT(drain(xs), ElementsAre());
}

TEST(MemoryXenStore, RemovingAParentFiresWatchesInside) {
    MemoryXenStore xs;
    ASSERT_TRUE(xs.write("device/vbd/51712/state", "4").ok());
    ASSERT_TRUE(xs.watch("device/vbd/51712/state", "st").ok());
    (void)drain(xs);
    ASSERT_TRUE(xs.remove("device/vbd").ok());
    EXPECT_THAT(drain(xs), ElementsAre(std::pair{"device/vbd/51712/state", "st"}));
}

TEST(MemoryXenStore, UnwatchStopsEventsAndDropsQueuedOnes) {
    MemoryXenStore xs;
    ASSERT_TRUE(xs.watch("data", "d").ok());
    ASSERT_TRUE(xs.write("data/x", "1").ok());
    ASSERT_TRUE(xs.unwatch("data", "d").ok());
    EXPECT_THAT(drain(xs), ElementsAre());
    ASSERT_TRUE(xs.write("data/x", "2").ok());
    EXPECT_THAT(drain(xs), ElementsAre());
    auto again = xs.unwatch("data", "d");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ENOENT);
}

TEST(MemoryXenStore, DuplicateWatchIsRefused) {
    MemoryXenStore xs;
    ASSERT_TRUE(xs.watch("data", "d").ok());
    auto dup = xs.watch("data", "d");
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code, EEXIST);
    EXPECT_TRUE(xs.watch("data", "other-token").ok());
}

TEST(MemoryXenStore, ResumeRefiresEveryWatchAndHomeMoves) {
    MemoryXenStore xs(1);
    ASSERT_TRUE(xs.write("domid", "1").ok());
    ASSERT_TRUE(xs.watch("domid", "domid").ok());
    ASSERT_TRUE(xs.watch("device/vbd", "vbd").ok());
    (void)drain(xs);

    // What a restore looks like from inside: new domid, new home, every
    // watch fires once more with the watched path.
    xs.set_home(2);
    xs.set("/local/domain/2/domid", "2");
    (void)drain(xs);
    xs.fire_all_watches();
    EXPECT_THAT(drain(xs),
                ElementsAre(std::pair{"domid", "domid"}, std::pair{"device/vbd", "vbd"}));
    EXPECT_EQ(xs.home(), "/local/domain/2");
    EXPECT_EQ(xs.read("domid").value(), "2");
}

TEST(MemoryXenStore, Dom0WritesFireGuestWatches) {
    MemoryXenStore xs(3);
    ASSERT_TRUE(xs.watch("data/guardian/request", "req").ok());
    (void)drain(xs);
    xs.set("/local/domain/3/data/guardian/request", "freeze");
    EXPECT_THAT(drain(xs), ElementsAre(std::pair{"data/guardian/request", "req"}));
    EXPECT_EQ(xs.write_count(), 0u); // dom0's writes are not the guest's
}

TEST(MemoryXenStore, InjectedErrorsFailWithoutSideEffects) {
    MemoryXenStore xs;
    ASSERT_TRUE(xs.write("data/guardian/state", "old").ok());
    xs.inject_error("data/guardian/state", EACCES);
    auto w = xs.write("data/guardian/state", "new");
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code, EACCES);
    EXPECT_FALSE(xen::is_not_found(w.error()));
    EXPECT_FALSE(xs.read("/local/domain/7/data/guardian/state").ok());
    EXPECT_EQ(xs.value("data/guardian/state"), "old");
    xs.clear_errors();
    EXPECT_EQ(xs.read("data/guardian/state").value(), "old");
}

} // namespace
} // namespace guardian::test

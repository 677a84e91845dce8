// The real clients against the wire-protocol test server: what guardian sees
// in a guest, minus the hypervisor. Every case runs with guardian's own
// client and with the field's libxenstore (xenstore_clients.hpp), so the
// server is proven against the library and our client against the server.
#include "tests/xen/xenstore_server_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

namespace guardian::test {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::vector<std::pair<std::string, std::string>> pairs(const std::vector<xen::WatchEvent>& evs) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& e : evs)
        out.emplace_back(e.path, e.token);
    return out;
}

bool readable(int fd, int timeout_ms = 0) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN) != 0;
}

class XenStoreClient : public ::testing::TestWithParam<ClientKind> {};
INSTANTIATE_TEST_SUITE_P(Clients, XenStoreClient, ::testing::ValuesIn(all_clients()), client_name);

TEST_P(XenStoreClient, ReadWriteDirectoryRemove) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    ASSERT_TRUE(xs->write("data/guardian/state", "running").ok());
    ASSERT_TRUE(xs->write("data/guardian/version", "0.1.0").ok());
    EXPECT_EQ(xs->read("data/guardian/state").value(), "running");
    EXPECT_THAT(xs->directory("data/guardian").value(), UnorderedElementsAre("state", "version"));
    // Parents were created empty.
    EXPECT_EQ(xs->read("data").value(), "");
    ASSERT_TRUE(xs->remove("data/guardian").ok());
    auto gone = xs->read("data/guardian/state");
    ASSERT_FALSE(gone.ok());
    EXPECT_TRUE(xen::is_not_found(gone.error()));
}

TEST_P(XenStoreClient, MissingNodeIsNotFoundAndNamesThePath) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    auto r = xs->read("device/vbd/51712/backend");
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(xen::is_not_found(r.error()));
    EXPECT_EQ(r.error().message,
              "xenstore read device/vbd/51712/backend: No such file or directory");
    auto d = xs->directory("/local/domain/7/device");
    ASSERT_FALSE(d.ok());
    EXPECT_TRUE(xen::is_not_found(d.error()));
}

TEST_P(XenStoreClient, ValuesAreBytes) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    const std::string junk("a\0b\xff\n", 5);
    ASSERT_TRUE(xs->write("junk", junk).ok());
    EXPECT_EQ(xs->read("junk").value(), junk);
    ASSERT_TRUE(xs->write("empty", "").ok());
    EXPECT_EQ(xs->read("empty").value(), "");
}

TEST_P(XenStoreClient, RelativePathsResolveUnderTheDomainHome) {
    TestXenstored server(12);
    auto guest = server.guest(GetParam());
    auto dom0 = server.dom0(GetParam());
    ASSERT_TRUE(guest->write("data/guardian/state", "ok").ok());
    EXPECT_EQ(guest->read("/local/domain/12/data/guardian/state").value(), "ok");
    EXPECT_EQ(dom0->read("/local/domain/12/data/guardian/state").value(), "ok");
    // dom0's own relative paths land in its own home, not the guest's.
    ASSERT_TRUE(dom0->write("name", "Domain-0").ok());
    EXPECT_EQ(dom0->read("/local/domain/0/name").value(), "Domain-0");
    EXPECT_FALSE(guest->read("name").ok());
}

TEST_P(XenStoreClient, GuestCannotWriteOutsideItsHome) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    auto r = xs->write("/local/domain/0/backend/vbd/7/51712/feature-persistent", "0");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, EACCES);
    EXPECT_FALSE(xen::is_not_found(r.error()));
}

TEST_P(XenStoreClient, InvalidPathsAreRefused) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    for (std::string_view bad : std::initializer_list<std::string_view>{
             "a//b", "a/", "a b", std::string_view("a\0b", 3), ""}) {
        auto r = xs->write(bad, "x");
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().code, EINVAL) << bad;
    }
}

TEST_P(XenStoreClient, WatchFiresOnceOnRegistration) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    EXPECT_FALSE(readable(xs->watch_fd()));
    ASSERT_TRUE(xs->watch("control/shutdown", "shutdown").ok());
    auto evs = wait_events(*xs, 1);
    EXPECT_THAT(pairs(evs), UnorderedElementsAre(std::pair{"control/shutdown", "shutdown"}));
    // Drained: the fd is quiet and nothing more comes.
    EXPECT_FALSE(readable(xs->watch_fd(), 200));
    EXPECT_TRUE(xs->read_watch_events().value().empty());
}

TEST_P(XenStoreClient, WatchEventsForChangesAtOrBelowThePath) {
    TestXenstored server(7);
    auto xs = server.guest(GetParam());
    auto dom0 = server.dom0(GetParam());
    ASSERT_TRUE(xs->watch("data/guardian/request", "req").ok());
    ASSERT_TRUE(xs->watch("/local/domain/7/device", "dev").ok());
    ASSERT_EQ(wait_events(*xs, 2).size(), 2u);

    // dom0 writes into the guest's tree, as the provider does.
    ASSERT_TRUE(dom0->write("/local/domain/7/data/guardian/request", "freeze").ok());
    ASSERT_TRUE(dom0->write("/local/domain/7/device/vbd/51712/state", "4").ok());
    ASSERT_TRUE(dom0->write("/local/domain/7/data/guardian/requestX", "no").ok());
    ASSERT_TRUE(xs->write("data/other", "no").ok());
    auto evs = wait_events(*xs, 2);
    EXPECT_THAT(pairs(evs),
                UnorderedElementsAre(std::pair{"data/guardian/request", "req"},
                                     std::pair{"/local/domain/7/device/vbd/51712/state", "dev"}));
    EXPECT_TRUE(wait_events(*xs, 1, std::chrono::milliseconds(200)).empty());

    // Removing a parent fires the watch set below it.
    ASSERT_TRUE(dom0->remove("/local/domain/7/data").ok());
    EXPECT_THAT(pairs(wait_events(*xs, 1)),
                UnorderedElementsAre(std::pair{"data/guardian/request", "req"}));
}

TEST_P(XenStoreClient, UnwatchStopsEvents) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    ASSERT_TRUE(xs->watch("data", "d").ok());
    ASSERT_EQ(wait_events(*xs, 1).size(), 1u);
    ASSERT_TRUE(xs->unwatch("data", "d").ok());
    ASSERT_TRUE(xs->write("data/x", "1").ok());
    EXPECT_TRUE(wait_events(*xs, 1, std::chrono::milliseconds(200)).empty());
    auto again = xs->unwatch("data", "d");
    ASSERT_FALSE(again.ok());
    EXPECT_TRUE(xen::is_not_found(again.error()));
}

TEST_P(XenStoreClient, DuplicateWatchIsRefused) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    ASSERT_TRUE(xs->watch("data", "d").ok());
    auto dup = xs->watch("data", "d");
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code, EEXIST);
}

TEST_P(XenStoreClient, OversizedWriteIsRefusedWithAClearError) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    auto r = xs->write("data/guardian/big", std::string(5000, 'x'));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, E2BIG);
    EXPECT_THAT(r.error().message, HasSubstr("5000 bytes exceeds the 4096-byte"));
    EXPECT_FALSE(xs->read("data/guardian/big").ok());
}

TEST_P(XenStoreClient, NodeSizeQuotaIsEnforcedForTheGuest) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    // 28-byte record + value must stay below 2048 (xenstored 4.17).
    EXPECT_TRUE(xs->write("data/a", std::string(2019, 'x')).ok());
    auto r = xs->write("data/b", std::string(2020, 'x'));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ENOSPC);
    // dom0 is not subject to the quota.
    auto dom0 = server.dom0(GetParam());
    EXPECT_TRUE(dom0->write("/local/domain/7/data/c", std::string(4000, 'x')).ok());
}

TEST_P(XenStoreClient, NodeCountQuotaIsEnforcedForTheGuest) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    // The home and data/ are the domain's first two nodes; 100 nodes to a
    // directory keep each directory's record below its own quota.
    std::size_t written = 0;
    Error last{};
    for (int i = 0; i < 1100; ++i) {
        auto r =
            xs->write("data/d" + std::to_string(i / 100) + "/n" + std::to_string(i % 100), "1");
        if (!r) {
            last = r.error();
            break;
        }
        ++written;
    }
    EXPECT_EQ(written, 988u); // and 10 directories: 1000 nodes
    EXPECT_EQ(last.code, ENOSPC);
    // Removing frees quota again.
    ASSERT_TRUE(xs->remove("data/d0/n0").ok());
    EXPECT_TRUE(xs->write("data/again", "1").ok());
}

// A new child is written into its parent's record, which has the 2048-byte
// quota too: a guest cannot list more than about 2 KiB of names in one
// directory (xenstored's write_node_raw checks every node it writes).
TEST_P(XenStoreClient, ADirectoryOfTheGuestStaysWithinTheNodeSizeQuota) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    std::size_t names = 0;
    for (int i = 0; i < 400; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "n%06d", i); // 8 bytes in the parent's record
        if (!xs->write(std::string("data/dir/") + name, "").ok())
            break;
        ++names;
    }
    EXPECT_EQ(names, (2048u - 28u - 1u) / 8u);
    auto dom0 = server.dom0(GetParam());
    EXPECT_TRUE(dom0->write("/local/domain/7/data/dir/n999999", "").ok()) << "dom0 has no quota";
}

// Several guests at once, each on its own socket, with homes as xl lays
// them out: each writes its own data/ and nothing else.
TEST_P(XenStoreClient, FurtherGuestsWriteOnlyTheirOwnData) {
    TestXenstored server(7, {4, 5});
    auto four = server.guest(4);
    auto five = server.guest(5);
    auto dom0 = server.dom0(GetParam());
    EXPECT_TRUE(four->write("data/guardian/state", "watching").ok());
    EXPECT_TRUE(five->write("/local/domain/5/data/guardian/state", "frozen").ok());
    EXPECT_EQ(dom0->read("/local/domain/4/data/guardian/state").value(), "watching");
    EXPECT_EQ(four->read("/local/domain/5/data/guardian/state").value(), "frozen");
    EXPECT_EQ(four->write("/local/domain/5/data/guardian/state", "x").error().code, EACCES);
    EXPECT_EQ(four->write("name", "web1").error().code, EACCES) << "the toolstack's node";
    EXPECT_EQ(four->write("/local/domain/7/data/x", "x").error().code, EACCES);
    ASSERT_TRUE(dom0->write("/local/domain/4/name", "four").ok());
    EXPECT_EQ(four->read("name").value(), "four");
}

TEST_P(XenStoreClient, LargeDirectoryComesBackWhole) {
    TestXenstored server;
    auto dom0 = server.dom0(GetParam());
    // 300 names of 20 bytes: more than one 4096-byte message, so libxenstore
    // gets E2BIG for DIRECTORY and pages with DIRECTORY_PART.
    for (int i = 0; i < 300; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "node-%015d", i);
        ASSERT_TRUE(dom0->write(std::string("/local/domain/7/big/") + name, "").ok());
    }
    auto xs = server.guest(GetParam());
    auto list = xs->directory("big");
    ASSERT_TRUE(list.ok()) << list.error().message;
    ASSERT_EQ(list->size(), 300u);
    EXPECT_EQ(list->front(), "node-000000000000000");
    EXPECT_EQ(list->back(), "node-000000000000299");
}

TEST_P(XenStoreClient, LostConnectionIsAnErrorNotAHang) {
    TestXenstored server;
    auto xs = server.guest(GetParam());
    ASSERT_TRUE(xs->watch("data", "d").ok());
    ASSERT_EQ(wait_events(*xs, 1).size(), 1u);
    server.stop();
    // libxenstore 4.17 does not wake the watch fd when its connection dies
    // (later versions do); read_watch_events() reports it, so a daemon that
    // also drains on its watchdog tick finds out. Poll for it briefly: the
    // library's reader thread notices the hang-up asynchronously. (Guardian's
    // client does wake its fd: XsClientWire.LostConnectionWakesTheWatchFdOnce.)
    bool failed = false;
    for (int i = 0; i < 300 && !failed; ++i) {
        failed = !xs->read_watch_events().ok();
        if (!failed)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(failed);
    EXPECT_FALSE(xs->read("data").ok());
    EXPECT_FALSE(xs->write("data/x", "1").ok());
}

} // namespace
} // namespace guardian::test

// guardian-hostd's service against the wire-protocol test xenstored, with
// domains introduced and released as the toolstack does (toolstack.hpp),
// and a hypervisor port that says what Xen would.
#include "guardian/hostd/service.hpp"

#include "tests/hostd/toolstack.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace guardian;
using namespace guardian::hostd;
using guardian::test::TestXenstored;
using guardian::test::Toolstack;

namespace {

class FakeHypervisor final : public Hypervisor {
public:
    std::map<std::int64_t, DomainState> states;
    Result<std::map<std::int64_t, DomainState>> domains() override { return states; }
};

struct HostdService : ::testing::Test {
    TestXenstored xsd;
    test::TempDir dir;
    Toolstack toolstack{xsd, dir.path() / "xen"};
    CapturingLogger log;
    FakeHypervisor hv;
    double clock = 1000;

    ledger::Ledger open_ledger() {
        auto l = ledger::Ledger::open((dir.path() / "ledger.sqlite").string());
        if (!l)
            throw std::runtime_error(l.error().message);
        return std::move(l).value();
    }
    // Delivers watch events to the service until none came for a while.
    static void pump(xen::XenStore& xs, Service& s) {
        for (;;) {
            pollfd p{xs.watch_fd(), POLLIN, 0};
            if (::poll(&p, 1, 150) <= 0)
                return;
            auto st = s.on_watch_events();
            ASSERT_TRUE(st) << st.error().message;
        }
    }
    std::vector<std::string> kinds(ledger::Ledger& l, const std::string& guest) {
        auto t = l.timeline(guest);
        EXPECT_TRUE(t);
        std::vector<std::string> out;
        for (const auto& e : t.value_or(std::vector<ledger::TimelineEntry>{}))
            out.push_back(e.kind + (e.kind == "domain-end" ? ":" + e.text : ""));
        return out;
    }
};

} // namespace

TEST_F(HostdService, RecordsADomainThatAppearsAndCrashesWithItsConsole) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    Service s(*xs, &hv, l, log, {toolstack.log_dir().string(), 256}, [this] { return clock; });
    ASSERT_TRUE(s.start());
    pump(*xs, s);
    hv.states[3] = {};
    toolstack.create(3, Toolstack::uuid_of(3), "web1");
    pump(*xs, s);
    ASSERT_EQ(s.known().count(3), 1u);
    toolstack.console("web1",
                      std::string(5000, '.') + "\nKernel panic - not syncing: Fatal exception\n");
    hv.states[3] = {false, true, 3}; // SHUTDOWN_crash, preserved by on_crash
    clock = 2000;
    toolstack.shutdown(3, "web1", 3);
    pump(*xs, s);
    toolstack.destroy(3); // and later torn down: no second end
    hv.states.erase(3);
    pump(*xs, s);
    EXPECT_EQ(kinds(l, "web1"),
              (std::vector<std::string>{"domain-start", "domain-end:crash", "crash"}));
    auto t = l.timeline("web1");
    ASSERT_TRUE(t);
    const std::string& excerpt = t->back().text;
    EXPECT_LE(excerpt.size(), 256u);
    EXPECT_NE(excerpt.find("Kernel panic - not syncing"), std::string::npos) << excerpt;
    auto g = l.guests();
    ASSERT_TRUE(g);
    EXPECT_FALSE(g->front().running_domid);
}

TEST_F(HostdService, ADomainTheToolstackDestroyedFirstEndsWithXlsReason) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    Service s(*xs, nullptr, l, log, {toolstack.log_dir().string(), 256}, [this] { return clock; });
    ASSERT_TRUE(s.start());
    toolstack.create(4, Toolstack::uuid_of(4), "db1");
    toolstack.create(5, Toolstack::uuid_of(5), "db2");
    pump(*xs, s);
    // xl logged the reboot, then destroyed the domain before anyone asked Xen.
    std::ofstream(toolstack.log_dir() / "xl-db1.log")
        << "Domain 4 has shut down, reason code 1 0x1\n";
    toolstack.destroy(4);
    toolstack.destroy(5); // no log line at all: destroyed
    pump(*xs, s);
    EXPECT_EQ(kinds(l, "db1"), (std::vector<std::string>{"domain-start", "domain-end:reboot"}));
    EXPECT_EQ(kinds(l, "db2"), (std::vector<std::string>{"domain-start", "domain-end:destroyed"}));
}

TEST_F(HostdService, ARestartedServicePicksUpWhereTheLedgerStands) {
    auto l = open_ledger();
    {
        auto xs = xsd.dom0();
        Service s(*xs, nullptr, l, log, {toolstack.log_dir().string(), 256},
                  [this] { return clock; });
        ASSERT_TRUE(s.start());
        toolstack.create(5, Toolstack::uuid_of(5), "a");
        toolstack.create(6, Toolstack::uuid_of(6), "b");
        pump(*xs, s);
    }
    // While no service runs: b powers off and goes, c appears.
    toolstack.shutdown(6, "b", 0);
    toolstack.destroy(6);
    toolstack.create(8, Toolstack::uuid_of(8), "c");
    auto xs = xsd.dom0();
    Service s(*xs, nullptr, l, log, {toolstack.log_dir().string(), 256}, [this] { return clock; });
    ASSERT_TRUE(s.start());
    pump(*xs, s); // the watches' first firing is the first scan
    EXPECT_EQ(kinds(l, "a"), (std::vector<std::string>{"domain-start"})); // not started twice
    EXPECT_EQ(kinds(l, "b"), (std::vector<std::string>{"domain-start", "domain-end:poweroff"}));
    EXPECT_EQ(kinds(l, "c"), (std::vector<std::string>{"domain-start"}));
}

TEST_F(HostdService, AReusedDomidIsANewDomainOfAnotherGuest) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    Service s(*xs, &hv, l, log, {toolstack.log_dir().string(), 256}, [this] { return clock; });
    ASSERT_TRUE(s.start());
    hv.states[9] = {};
    toolstack.create(9, Toolstack::uuid_of(9), "old");
    pump(*xs, s);
    hv.states[9] = {false, true, 0};
    toolstack.shutdown(9, "old", 0);
    pump(*xs, s);
    toolstack.destroy(9);
    hv.states[9] = {};
    toolstack.create(9, Toolstack::uuid_of(90), "new");
    pump(*xs, s);
    EXPECT_EQ(kinds(l, "old"), (std::vector<std::string>{"domain-start", "domain-end:poweroff"}));
    EXPECT_EQ(kinds(l, "new"), (std::vector<std::string>{"domain-start"}));
}

// guardian-hostd's service against the wire-protocol test xenstored, with
// domains introduced and released as the toolstack does (toolstack.hpp),
// and a hypervisor port that says what Xen would.
#include "tests/hostd/service_fixture.hpp"
#include "tests/support/test_env.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace guardian;
using namespace guardian::hostd;
using guardian::test::HostdService;
using guardian::test::Toolstack;

TEST_F(HostdService, RecordsADomainThatAppearsAndCrashesWithItsConsole) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    pump(*xs, s);
    appear(*xs, s, 3, 3, "web1");
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
    Service s(*xs, nullptr, l, log, options(), [this] { return clock; });
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
        Service s(*xs, nullptr, l, log, options(), [this] { return clock; });
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
    Service s(*xs, nullptr, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    pump(*xs, s); // the watches' first firing is the first scan
    EXPECT_EQ(kinds(l, "a"), (std::vector<std::string>{"domain-start"})); // not started twice
    EXPECT_EQ(kinds(l, "b"), (std::vector<std::string>{"domain-start", "domain-end:poweroff"}));
    EXPECT_EQ(kinds(l, "c"), (std::vector<std::string>{"domain-start"}));
}

TEST_F(HostdService, AReusedDomidIsANewDomainOfAnotherGuest) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    appear(*xs, s, 9, 9, "old");
    hv.states[9] = {false, true, 0};
    toolstack.shutdown(9, "old", 0);
    pump(*xs, s);
    toolstack.destroy(9);
    appear(*xs, s, 9, 90, "new");
    EXPECT_EQ(kinds(l, "old"), (std::vector<std::string>{"domain-start", "domain-end:poweroff"}));
    EXPECT_EQ(kinds(l, "new"), (std::vector<std::string>{"domain-start"}));
}

namespace {

// What guardiand in domain `domid` publishes (dom0 writes it here, as the
// rig's dom0 can: the guest's own writes look the same to a dom0 watch).
void publish(xen::XenStore& dom0, std::int64_t domid,
             const std::vector<std::pair<std::string, std::string>>& nodes) {
    for (const auto& [name, value] : nodes) {
        auto st = dom0.write(contract::domain_node_path(std::to_string(domid), name), value);
        ASSERT_TRUE(st) << st.error().message;
    }
}

std::size_t count_kind(const std::vector<ledger::TimelineEntry>& t, const std::string& kind) {
    return static_cast<std::size_t>(
        std::count_if(t.begin(), t.end(), [&](auto& e) { return e.kind == kind; }));
}

} // namespace

// xl's default on_reboot="restart": the guest that guardian rebooted comes
// back as a new domain and its data/guardian/ is gone; the ledger keeps it.
TEST_F(HostdService, AGuestsIncidentOutlivesItsDomainAndTheRestart) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    auto writer = xsd.dom0();
    Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    appear(*xs, s, 3, 3, "web1");
    clock = 1010;
    publish(*writer, 3,
            {{"version", "0.1.0"},
             {"kernel", "3.16.0-4-amd64"},
             {"last-verdict-reason", "vbd/51712/feature-persistent 1->-"},
             {"last-verification", "2026-12-06T05:00:00Z critical"},
             {"incident", "feature change on an unsafe kernel"},
             {"state", "incident"}});
    pump(*xs, s);
    clock = 1020;
    hv.states[3] = {false, true, 1}; // guardian's reboot(2)
    toolstack.shutdown(3, "web1", 1);
    pump(*xs, s);
    toolstack.destroy(3);
    hv.states.erase(3);
    appear(*xs, s, 4, 3, "web1"); // xl restarts it
    clock = 1030;
    publish(*writer, 4,
            {{"version", "0.1.0"}, {"kernel", "3.16.0-4-amd64"}, {"state", "watching"}});
    pump(*xs, s);
    auto t = l.timeline("web1");
    ASSERT_TRUE(t);
    EXPECT_EQ(kinds(l, "web1"),
              (std::vector<std::string>{"domain-start", "boot", "verdict", "incident",
                                        "domain-end:reboot", "domain-start", "boot"}));
    const auto incident =
        std::find_if(t->begin(), t->end(), [](auto& e) { return e.kind == "incident"; });
    EXPECT_EQ(incident->text, "feature change on an unsafe kernel");
    EXPECT_EQ(incident->domid, 3);
    const auto verdict =
        std::find_if(t->begin(), t->end(), [](auto& e) { return e.kind == "verdict"; });
    EXPECT_EQ(verdict->text, "2026-12-06T05:00:00Z critical: vbd/51712/feature-persistent 1->-");
    // Two boots of 3.16 for one guest: one observation, guest-days from both.
    auto obs = l.kernel_observations();
    ASSERT_TRUE(obs);
    ASSERT_EQ(obs->size(), 1u);
    EXPECT_EQ(obs->front().kernel, "3.16.0-4-amd64");
    EXPECT_GT(obs->front().days, 0);
}

// xl save + xl restore: the guest goes on in a new domain with the same
// boot; a reboot after it begins a new one.
TEST_F(HostdService, ARestoredGuestContinuesItsBoot) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    auto writer = xsd.dom0();
    Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    const auto kernel = [&](std::int64_t d) {
        publish(*writer, d, {{"version", "0.1.0"}, {"kernel", "6.1.0-13-amd64"}});
        pump(*xs, s);
    };
    const auto end = [&](std::int64_t d, unsigned reason) { end_domain(*xs, s, d, "db1", reason); };
    appear(*xs, s, 5, 5, "db1");
    kernel(5);
    end(5, 2);                   // SHUTDOWN_suspend: xl save
    appear(*xs, s, 6, 5, "db1"); // xl restore
    kernel(6);
    auto t = l.timeline("db1");
    ASSERT_TRUE(t);
    EXPECT_EQ(count_kind(*t, "boot"), 1u) << "a restore is no new boot";
    end(6, 1); // a reboot
    appear(*xs, s, 7, 5, "db1");
    kernel(7);
    t = l.timeline("db1");
    ASSERT_TRUE(t);
    EXPECT_EQ(count_kind(*t, "boot"), 2u);
}

// A guest that rewrites its data/guardian/ without pause is named once and
// read at most so often; an honest guest beside it is recorded as ever.
TEST_F(HostdService, AFloodingGuestIsNamedAndBoundedAndTheOthersAreRecorded) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    auto writer = xsd.dom0();
    ServiceOptions o = options();
    o.report_reads_per_minute = 5;
    Service s(*xs, &hv, l, log, o, [this] { return clock; });
    ASSERT_TRUE(s.start());
    toolstack.create(8, Toolstack::uuid_of(8), "flood");
    toolstack.create(9, Toolstack::uuid_of(9), "honest");
    pump(*xs, s);
    for (int i = 0; i < 40; ++i) {
        publish(
            *writer, 8,
            {{"version", "0.1.0"},
             {"last-verification", "2026-12-06T05:00:" + std::to_string(10 + i) + "Z healthy"}});
        if (i == 20)
            publish(*writer, 9, {{"version", "0.1.0"}, {"incident", "a real one"}});
        pump(*xs, s);
    }
    auto flood = l.timeline("flood");
    ASSERT_TRUE(flood);
    EXPECT_EQ(count_kind(*flood, "hostile"), 1u);
    EXPECT_LE(count_kind(*flood, "verdict"), 5u);
    auto honest = l.timeline("honest");
    ASSERT_TRUE(honest);
    EXPECT_EQ(count_kind(*honest, "incident"), 1u);
    // A minute later the held-back state is read on the next tick.
    clock += 61;
    ASSERT_TRUE(s.tick());
    flood = l.timeline("flood");
    ASSERT_TRUE(flood);
    EXPECT_EQ(flood->back().kind, "verdict");
    EXPECT_EQ(flood->back().text, "2026-12-06T05:00:49Z healthy");
}

// The guest's kernel trouble and its previous boot's end reach the ledger
// once per boot: republished after a restore (a new domain, the same boot)
// they are not news; the next boot's are.
TEST_F(HostdService, KernelTroubleAndThePreviousBootsEndAreRecordedOncePerBoot) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    auto writer = xsd.dom0();
    Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    const std::string warn = "2026-12-06T09:40:00Z warning 0123456789abcdef rig_trouble_warn -";
    const std::string oops = "2026-12-06T09:41:00Z oops fedcba9876543210 rig_trouble_oops -";
    const std::string prev = "end=watchdog boot=b1 release=6.1.0-13-amd64 "
                             "last-alive=2026-12-06T09:00:00Z uptime=60 trouble=hung_task "
                             "signature=00112233aabbccdd function=- known-bug=-";
    const auto report = [&](std::int64_t d, const std::string& last) {
        publish(*writer, d,
                {{"version", "0.1.0"},
                 {"kernel", "6.1.0-13-amd64"},
                 {"trouble-last", last},
                 {"previous-boot", prev}});
        pump(*xs, s);
    };
    const auto end = [&](std::int64_t d, unsigned reason) { end_domain(*xs, s, d, "db1", reason); };
    const auto texts = [&](const std::string& kind) {
        std::vector<std::string> out;
        auto t = l.timeline("db1");
        EXPECT_TRUE(t);
        for (const auto& e : *t)
            if (e.kind == kind)
                out.push_back(e.text);
        return out;
    };
    appear(*xs, s, 5, 5, "db1");
    report(5, warn);
    report(5, warn + "; " + oops);
    EXPECT_EQ(texts("trouble"), (std::vector<std::string>{warn, oops}));
    EXPECT_EQ(texts("previous-boot"), std::vector<std::string>{prev});
    end(5, 2);                   // xl save
    appear(*xs, s, 6, 5, "db1"); // xl restore: the same boot
    report(6, warn + "; " + oops);
    EXPECT_EQ(texts("trouble"), (std::vector<std::string>{warn, oops}));
    EXPECT_EQ(texts("previous-boot"), std::vector<std::string>{prev});
    end(6, 1); // a reboot: the next boot reports the same old line anew
    appear(*xs, s, 7, 5, "db1");
    report(7, warn);
    EXPECT_EQ(texts("trouble"), (std::vector<std::string>{warn, oops, warn}));
    EXPECT_EQ(texts("previous-boot"), (std::vector<std::string>{prev, prev}));
}

// The rig's disk-changed-while-saved with xl's on_reboot = "restart": a
// guest saved and restored (the same boot), its incident, guardian's
// reboot, a boot that systemd-fsck reboots at once, then the boot that
// reports: its boot report reaches the ledger.
TEST_F(HostdService, TheBootReportAfterAnIncidentAndTwoRestartsIsRecorded) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    auto writer = xsd.dom0();
    Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    const auto start = [&](std::int64_t d) {
        hv.states[d] = {};
        toolstack.create(d, Toolstack::uuid_of(5), "guest");
        toolstack.console("guest", "[    0.000000] Linux version 6.1.0-57-amd64 (x) #1 SMP\n"
                                   "Welcome to Debian GNU/Linux 12 (bookworm)!\n");
        pump(*xs, s);
    };
    const auto end = [&](std::int64_t d, unsigned reason) {
        end_domain(*xs, s, d, "guest", reason);
    };
    start(2);
    publish(*writer, 2,
            {{"version", "0.1.0"}, {"kernel", "6.1.0-57-amd64"}, {"state", "watching"}});
    pump(*xs, s);
    clock += 30;
    end(2, 2); // xl save
    start(3);  // xl restore
    publish(*writer, 3,
            {{"version", "0.1.0"},
             {"kernel", "6.1.0-57-amd64"},
             {"last-verification", "2026-12-06T10:38:52Z critical"},
             {"incident", "/dev/xvda: 1 damaged metadata object(s)"},
             {"state", "incident"}});
    pump(*xs, s);
    clock += 10;
    end(3, 1); // guardian's reboot; xl restarts the guest
    start(4);
    clock += 20;
    end(4, 1); // systemd-fsck repaired root and rebooted
    start(5);
    clock += 40;
    publish(*writer, 5,
            {{"version", "0.1.0"},
             {"kernel", "6.1.0-57-amd64"},
             {"state", "watching"},
             {"boot-report", "fsck: / clean; superblock: /dev/xvda fully checked"}});
    pump(*xs, s);
    clock += 10;
    ASSERT_TRUE(s.tick());
    pump(*xs, s);
    const auto k = kinds(l, "guest");
    std::string said;
    for (const auto& e : log.entries())
        said += e.message + "\n";
    EXPECT_NE(std::find(k.begin(), k.end(), "boot-report"), k.end())
        << ::testing::PrintToString(k) << "\n"
        << said;
}

// guardian-boot.service writes the boot's report before guardiand starts and
// writes `version`: the service reads those nodes while the report is not
// yet guardian's (no version), and must still record them once it is. (On
// the rig the boot report of every boot after an incident was lost so.)
TEST_F(HostdService, NodesWrittenBeforeTheVersionAreRecordedOnceGuardiandSpeaks) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    auto writer = xsd.dom0();
    Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    appear(*xs, s, 2, 5, "guest");
    publish(*writer, 2,
            {{"boot-report", "incident at the previous boot: fsck: / check forced"},
             {"previous-boot", "end=emergency-reboot boot=49ea5d2eddc34b7a9e5a4b835ec6d642 "
                               "release=6.1.0-57-amd64 uptime=40"},
             {"kernel", "6.1.0-57-amd64"}});
    pump(*xs, s);
    EXPECT_EQ(kinds(l, "guest"), (std::vector<std::string>{"domain-start"}))
        << "recorded before guardiand spoke";
    clock += 5;
    publish(*writer, 2, {{"version", "0.1.0"}, {"state", "watching"}});
    pump(*xs, s);
    const auto k = kinds(l, "guest");
    for (const char* kind : {"boot-report", "previous-boot"})
        EXPECT_NE(std::find(k.begin(), k.end(), kind), k.end())
            << kind << " missing: " << ::testing::PrintToString(k);
    const auto kernel = l.domain_kernel(2);
    ASSERT_TRUE(kernel && kernel->has_value()) << "no boot with a kernel for domain 2";
    EXPECT_EQ((*kernel)->kernel, "6.1.0-57-amd64");
}

// The same restarts with the guest writing its report through its own
// connection (its permissions, as guardiand does), the domain's report
// written only after the service has followed it for a while.
TEST_F(HostdService, AGuestWrittenReportOfARestartedDomainIsRecorded) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    appear(*xs, s, 7, 7, "guest");
    clock += 60;
    ASSERT_TRUE(s.tick());
    pump(*xs, s);
    auto guest = xsd.guest();
    for (const auto& [k, v] :
         std::vector<std::pair<std::string, std::string>>{{"version", "0.1.0"},
                                                          {"kernel", "6.1.0-57-amd64"},
                                                          {"state", "watching"},
                                                          {"boot-report", "fsck: / clean"}}) {
        auto st = guest->write("data/guardian/" + k, v);
        ASSERT_TRUE(st) << st.error().message;
    }
    pump(*xs, s);
    const auto k = kinds(l, "guest");
    EXPECT_NE(std::find(k.begin(), k.end(), "boot-report"), k.end()) << ::testing::PrintToString(k);
    EXPECT_NE(std::find(k.begin(), k.end(), "boot"), k.end()) << ::testing::PrintToString(k);
}

// guardiand publishes the guest's distribution (os-release's name) beside
// its kernel: the ledger's boot keeps it, and `guardian-host fleet` names
// it, also for a guest whose node came after its kernel had been recorded
// (a report read half-written; an older guardiand replaced by this one).
TEST_F(HostdService, APublishedDistributionReachesTheBootAndTheFleet) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    auto writer = xsd.dom0();
    Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    hv.states[2] = {};
    hv.states[3] = {};
    toolstack.create(2, Toolstack::uuid_of(2), "bookworm");
    toolstack.create(3, Toolstack::uuid_of(3), "late");
    pump(*xs, s);
    const std::string debian = "Debian GNU/Linux 12 (bookworm)";
    publish(*writer, 2,
            {{"version", "0.1.0"},
             {"kernel", "6.1.0-57-amd64"},
             {"distribution", debian},
             {"state", "watching"}});
    publish(*writer, 3,
            {{"version", "0.1.0"}, {"kernel", "6.1.0-57-amd64"}, {"state", "watching"}});
    pump(*xs, s);
    clock += 86400;
    publish(*writer, 3, {{"distribution", debian}});
    pump(*xs, s);
    clock += 86400;
    ASSERT_TRUE(s.tick());
    pump(*xs, s);

    auto t = l.timeline("bookworm");
    ASSERT_TRUE(t);
    const auto boot = std::find_if(t->begin(), t->end(), [](auto& e) { return e.kind == "boot"; });
    ASSERT_NE(boot, t->end());
    EXPECT_EQ(boot->text, "6.1.0-57-amd64 " + debian);
    auto obs = l.kernel_observations();
    ASSERT_TRUE(obs) << obs.error().message;
    ASSERT_EQ(obs->size(), 2u);
    for (const auto& o : *obs)
        EXPECT_EQ(o.distribution, debian) << o.guest;

    const auto fleet = test::run_command(GUARDIAN_HOST " fleet --json --ledger " +
                                         (dir.path() / "ledger.sqlite").string());
    ASSERT_EQ(fleet.exit_code, 0) << fleet.err;
    const auto j = nlohmann::json::parse(fleet.out);
    ASSERT_EQ(j["kernels"].size(), 1u) << fleet.out;
    EXPECT_EQ(j["kernels"][0]["kernel"], "6.1.0-57-amd64");
    EXPECT_EQ(j["kernels"][0]["distribution"], debian) << fleet.out;
    EXPECT_EQ(j["kernels"][0]["guests"], 2) << fleet.out;
}

// Guests without guardian: guardian-hostd records where each domain's boot
// begins in its xenconsoled log when it sees the domain appear, takes the
// kernel's own boot banner after that offset as the boot's kernel, and
// `guardian-host preflight` judges it by the risk table and names the
// source. Against the wire-protocol test xenstored, with console logs of
// several kernel eras (tests/fleet/console/).
#include "tests/hostd/service_fixture.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace guardian;
using guardian::test::HostdService;
using guardian::test::Toolstack;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(test::source_dir() / "tests/fleet/console" / name, std::ios::binary);
    if (!in)
        throw std::runtime_error("missing fixture " + name);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

const std::string later_userspace = "[  412.000001] systemd[1]: Started getty@hvc0.service.\n"
                                    "[    0.000000] Linux version 9.9.9-forged (x) (gcc) #1 SMP\n"
                                    "Command line: root=/dev/xvda\n";

ledger::Ledger::DomainKernel kernel_of(ledger::Ledger& l, std::int64_t domid) {
    auto k = l.domain_kernel(domid);
    if (!k || !k->has_value())
        throw std::runtime_error("no running domain " + std::to_string(domid));
    return **k;
}

std::string preflight(const test::TestXenstored& xsd, const std::string& ledger,
                      const std::string& args, int& exit_code) {
    const auto r =
        test::run_command("XENSTORED_PATH=" + xsd.control_socket() +
                          " " GUARDIAN_HOST " preflight --ledger " + ledger + " --risk-table " +
                          (test::source_dir() / "data/kernel-risk.json").string() + " " + args);
    exit_code = r.exit_code;
    return r.out + r.err;
}

std::string line_of(const std::string& table, const std::string& domid) {
    std::istringstream in(table);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(domid + " ", 0) == 0)
            return line;
    return {};
}

} // namespace

// The whole path: an old boot already in the log, the domain appears, its
// kernel prints later, userspace prints a forged banner after that; the
// ledger keeps the kernel's release and preflight judges it, naming the
// source. An old kernel is refused on the same evidence, a quiet one is
// unknown, a guest that runs guardian speaks for itself.
TEST_F(HostdService, AGuestsKernelIsItsBannerAfterTheDomainAppearedAndPreflightSaysSo) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    auto dom0 = xsd.dom0();
    toolstack.console("web1", fixture("debian9-4.9.log")); // its boot before this domain
    hostd::Service s(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    pump(*xs, s);
    for (const std::int64_t d : {3, 4, 5, 6})
        hv.states[d] = {};
    toolstack.create(3, Toolstack::uuid_of(3), "web1");
    toolstack.create(4, Toolstack::uuid_of(4), "legacy");
    toolstack.create(5, Toolstack::uuid_of(5), "quiet");
    toolstack.create(6, Toolstack::uuid_of(6), "guarded");
    pump(*xs, s);
    const auto web = kernel_of(l, 3);
    ASSERT_TRUE(web.console_offset);
    EXPECT_EQ(*web.console_offset, static_cast<std::int64_t>(fixture("debian9-4.9.log").size()));
    EXPECT_EQ(*kernel_of(l, 4).console_offset, 0); // no log yet: it begins at 0

    ASSERT_TRUE(s.tick()); // nothing printed yet: still looking
    EXPECT_FALSE(kernel_of(l, 3).console_note);
    EXPECT_EQ(kernel_of(l, 3).kernel, "");

    clock += 5;
    toolstack.console("web1", fixture("debian12-forged-later.log") + later_userspace);
    toolstack.console("legacy", fixture("debian8-3.16-pvgrub.log"));
    toolstack.console("quiet", fixture("debian12-quiet-userspace-only.log"));
    ASSERT_TRUE(dom0->write("/local/domain/6/data/guardian/version", "0.1.0"));
    ASSERT_TRUE(dom0->write("/local/domain/6/data/guardian/kernel", "6.1.0-13-amd64"));
    ASSERT_TRUE(dom0->write("/local/domain/6/data/guardian/suspend-safety", "safe"));
    pump(*xs, s);
    ASSERT_TRUE(s.tick());

    const auto found = kernel_of(l, 3);
    EXPECT_EQ(found.kernel, "6.1.0-13-amd64");
    EXPECT_EQ(found.kernel_source, "console banner");
    EXPECT_NE(found.kernel_version.find("Debian 6.1.55-1"), std::string::npos);
    ASSERT_TRUE(found.console_note);
    EXPECT_NE(found.console_note->find("time zero"), std::string::npos) << *found.console_note;
    EXPECT_EQ(kernel_of(l, 4).kernel, "3.16.0-4-amd64");
    const auto quiet = kernel_of(l, 5);
    EXPECT_EQ(quiet.kernel, "") << "userspace's banner taken for the kernel's";
    ASSERT_TRUE(quiet.console_note);
    EXPECT_EQ(kernel_of(l, 6).kernel_source, "guardian report");
    auto t = l.timeline("web1");
    ASSERT_TRUE(t);
    EXPECT_EQ(kinds(l, "web1"), (std::vector<std::string>{"domain-start", "boot"}));
    EXPECT_NE(t->back().text.find("boot banner"), std::string::npos) << t->back().text;

    int rc = -1;
    const std::string path = (dir.path() / "ledger.sqlite").string();
    const std::string table = preflight(xsd, path, "3 4 5 6", rc);
    EXPECT_EQ(rc, 1) << table; // legacy and quiet are not safe
    EXPECT_NE(line_of(table, "3").find("safe      console banner   6.1.0-13-amd64"),
              std::string::npos)
        << table;
    EXPECT_NE(line_of(table, "3").find("before userspace"), std::string::npos) << table;
    EXPECT_NE(line_of(table, "4").find("NOT SAFE  console banner   3.16.0-4-amd64"),
              std::string::npos)
        << table;
    EXPECT_NE(line_of(table, "5").find("NOT SAFE  unknown"), std::string::npos) << table;
    EXPECT_NE(line_of(table, "6").find("safe      guardian report"), std::string::npos) << table;
    EXPECT_EQ(table.find("9.9.9"), std::string::npos) << "a forged banner reached preflight";
    (void)preflight(xsd, path, "3", rc);
    EXPECT_EQ(rc, 0);
    // Without domain ids: every guest (the test xenstored has no dom0 node).
    const std::string all = preflight(xsd, path, "", rc);
    EXPECT_EQ(rc, 1);
    for (const char* id : {"3", "4", "5", "6"})
        EXPECT_FALSE(line_of(all, id).empty()) << all;

    const auto json = nlohmann::json::parse(preflight(xsd, path, "--json 3 4", rc));
    EXPECT_EQ(json["domains"][0]["source"], "console banner");
    EXPECT_EQ(json["domains"][0]["kernel"], "6.1.0-13-amd64");
    EXPECT_EQ(json["domains"][0]["safety"], "safe");
    EXPECT_EQ(json["domains"][1]["safety"], "unsafe");

    // A crash: the boot's end counts against the banner's kernel.
    hv.states[3] = {false, true, 3};
    toolstack.shutdown(3, "web1", 3);
    pump(*xs, s);
    auto obs = l.kernel_observations();
    ASSERT_TRUE(obs);
    const auto k61 = std::find_if(obs->begin(), obs->end(),
                                  [](auto& o) { return o.kernel == "6.1.0-13-amd64"; });
    ASSERT_NE(k61, obs->end());
    EXPECT_EQ(k61->crashes, 1u);
    // And the fleet's table shows the banners' kernels beside the reported.
    const auto fleet = test::run_command(GUARDIAN_HOST " fleet --ledger " + path);
    EXPECT_EQ(fleet.exit_code, 0) << fleet.err;
    for (const char* kernel : {"6.1.0-13-amd64", "3.16.0-4-amd64"})
        EXPECT_NE(fleet.out.find(kernel), std::string::npos) << fleet.out;
}

// Where the domain's start is unknown the kernel is unknown, banner or not;
// without a banner in time the search ends, and a banner printed after that
// (by userspace, long after boot) is never read.
TEST_F(HostdService, NoStartNoBannerOrTooLateIsUnknown) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    toolstack.create(3, Toolstack::uuid_of(3), "early"); // before the service
    toolstack.console("early", fixture("debian11-5.10-timestamps.log"));
    hostd::Service s(*xs, nullptr, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    pump(*xs, s);
    toolstack.create(4, Toolstack::uuid_of(4), "slow");
    pump(*xs, s);
    ASSERT_TRUE(s.tick());
    const auto early = kernel_of(l, 3);
    EXPECT_FALSE(early.console_offset);
    EXPECT_EQ(early.kernel, "");
    ASSERT_TRUE(early.console_note);
    EXPECT_NE(early.console_note->find("did not see this domain appear"), std::string::npos);

    // Its boot loader prints, its kernel never does (hung, or no console).
    toolstack.console("slow", "    Booting 'Debian GNU/Linux, with Linux 6.1.0-18-amd64'\n\n");
    ASSERT_TRUE(s.tick());
    EXPECT_FALSE(kernel_of(l, 4).console_note) << "gave up before the wait";
    clock += 601;
    ASSERT_TRUE(s.tick());
    ASSERT_TRUE(kernel_of(l, 4).console_note);
    toolstack.console("slow", fixture("debian9-4.9.log"));
    clock += 10;
    ASSERT_TRUE(s.tick());
    EXPECT_EQ(kernel_of(l, 4).kernel, "");

    int rc = -1;
    const std::string table = preflight(xsd, (dir.path() / "ledger.sqlite").string(), "3 4", rc);
    EXPECT_EQ(rc, 1);
    EXPECT_NE(line_of(table, "3").find("unknown"), std::string::npos) << table;
    EXPECT_NE(line_of(table, "4").find("no kernel banner"), std::string::npos) << table;
}

// A restored domain prints no banner: its boot, and the kernel known for
// it, go on. A restarted service goes on looking where it left off. A
// domain that dies before the next look has its banner read at its end.
TEST_F(HostdService, RestoresRestartsAndShortLivesKeepTheBannersKernel) {
    auto l = open_ledger();
    {
        auto xs = xsd.dom0();
        hostd::Service s(*xs, &hv, l, log, options(), [this] { return clock; });
        ASSERT_TRUE(s.start());
        pump(*xs, s);
        hv.states[5] = {};
        hv.states[7] = {};
        toolstack.create(5, Toolstack::uuid_of(5), "db1");
        toolstack.create(7, Toolstack::uuid_of(7), "late");
        pump(*xs, s);
        toolstack.console("db1", fixture("debian8-3.16-pvgrub.log"));
        ASSERT_TRUE(s.tick());
        hv.states[5] = {false, true, 2}; // xl save
        toolstack.shutdown(5, "db1", 2);
        pump(*xs, s);
        toolstack.destroy(5);
        hv.states.erase(5);
        hv.states[6] = {};
        toolstack.create(6, Toolstack::uuid_of(5), "db1"); // xl restore
        pump(*xs, s);
        const auto restored = kernel_of(l, 6);
        EXPECT_EQ(restored.kernel, "3.16.0-4-amd64");
        ASSERT_TRUE(restored.console_note);
        EXPECT_NE(restored.console_note->find("restored"), std::string::npos);
    } // the service stops before "late" prints anything
    toolstack.console("late", fixture("centos6-2.6.32-direct.log"));
    auto xs = xsd.dom0();
    hostd::Service again(*xs, &hv, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(again.start());
    pump(*xs, again);
    ASSERT_TRUE(again.tick());
    EXPECT_EQ(kernel_of(l, 7).kernel, "2.6.32-754.35.1.el6.x86_64");

    hv.states[8] = {};
    toolstack.create(8, Toolstack::uuid_of(8), "brief");
    pump(*xs, again);
    toolstack.console("brief", fixture("debian11-5.10-timestamps.log") +
                                   "[    1.200000] Kernel panic - not syncing: VFS\n");
    hv.states[8] = {false, true, 3};
    toolstack.shutdown(8, "brief", 3);
    pump(*xs, again);
    auto obs = l.kernel_observations();
    ASSERT_TRUE(obs);
    const auto k = std::find_if(obs->begin(), obs->end(),
                                [](auto& o) { return o.kernel == "5.10.0-28-amd64"; });
    ASSERT_NE(k, obs->end());
    EXPECT_EQ(k->crashes, 1u);
}

// The console is the guest's: escape sequences and carriage returns in its
// banner line never reach the operator's terminal raw.
TEST_F(HostdService, AHostileBannerNeverReachesTheTerminalRaw) {
    auto l = open_ledger();
    auto xs = xsd.dom0();
    hostd::Service s(*xs, nullptr, l, log, options(), [this] { return clock; });
    ASSERT_TRUE(s.start());
    pump(*xs, s);
    toolstack.create(3, Toolstack::uuid_of(3), "evil");
    pump(*xs, s);
    toolstack.console("evil", "[    0.000000] Linux version 6.1.0-13-amd64 (x) (gcc) #1 SMP "
                              "\x1b[2J\r3  web1  NOT SAFE\x1b[1A Debian 6.1.55-1\xff\n"
                              "[    0.000000] Command line: \x1b]0;owned\x07\n");
    ASSERT_TRUE(s.tick());
    EXPECT_EQ(kernel_of(l, 3).kernel, "6.1.0-13-amd64");
    int rc = -1;
    const std::string path = (dir.path() / "ledger.sqlite").string();
    for (const std::string& out :
         {preflight(xsd, path, "3", rc), preflight(xsd, path, "--json 3", rc),
          test::run_command(GUARDIAN_HOST " history evil --ledger " + path).out}) {
        for (const char c : out)
            EXPECT_FALSE((static_cast<unsigned char>(c) < 0x20U && c != '\n') || c == '\x7f')
                << out;
    }
}

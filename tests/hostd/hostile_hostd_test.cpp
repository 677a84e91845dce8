// guardian-hostd's watcher and ledger beside a hostile guest, case by case
// (hostile_guests.hpp), through the guest's own socket and through dom0:
// the service keeps going, the honest guests' timelines (as `guardian-host
// history` prints them, table and JSON) are byte-identical to a host without
// the hostile guest, the hostile guest's own timeline is bounded and shows
// nothing raw, and a flood is named in it. The clock is the test's, so two
// runs record the same times.
#include "guardian/hostd/service.hpp"

#include "tests/hostd/hostile_guests.hpp"
#include "tests/hostd/toolstack.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace guardian;
using namespace guardian::test::hostile;
using guardian::test::run_command;
using guardian::test::TestXenstored;
using guardian::test::Toolstack;

namespace {

void must(const Status& st) {
    if (!st)
        throw std::runtime_error(st.error().message);
}

// Delivers watch events to the service until none came for a while.
void pump(xen::XenStore& xs, hostd::Service& s) {
    for (;;) {
        pollfd p{xs.watch_fd(), POLLIN, 0};
        if (::poll(&p, 1, 150) <= 0)
            return;
        must(s.on_watch_events());
    }
}

test::CommandResult history(const std::filesystem::path& ledger, const std::string& args) {
    return run_command(GUARDIAN_HOST " history --ledger " + ledger.string() + " " + args);
}

struct Recorded {
    std::string web1, web1_json, db1, db1_json;
    test::CommandResult hostile, hostile_json;
    std::vector<std::string> log;
    std::vector<std::string> hostile_texts; // as the ledger keeps them
    std::vector<test::CommandResult> fleet; // table, JSON, Prometheus
};

// The same story on every host: web1 and db1 report, then (beside them)
// the hostile domain does its worst, then web1 verifies again and db1 has
// an incident; a minute later the held-back reads are done.
Recorded record(const Case* c, Via via) {
    TestXenstored xsd(7, {web1, mallory, db1});
    test::TempDir dir;
    Toolstack toolstack(xsd, dir.path() / "xen");
    CapturingLogger log;
    double clock = 1000;
    const auto ledger_path = dir.path() / "ledger.sqlite";
    auto ledger = ledger::Ledger::open(ledger_path.string());
    if (!ledger)
        throw std::runtime_error(ledger.error().message);
    auto xs = xsd.dom0();
    hostd::ServiceOptions options;
    options.xen_log_dir = toolstack.log_dir().string();
    options.console_excerpt_bytes = 256;
    hostd::Service s(*xs, nullptr, *ledger, log, options, [&] { return clock; });
    must(s.start());
    pump(*xs, s);
    toolstack.create(web1, Toolstack::uuid_of(3), "web1");
    toolstack.create(db1, Toolstack::uuid_of(6), "db1");
    if (c)
        toolstack.create(mallory, Toolstack::uuid_of(4), c->domain_name);
    pump(*xs, s);
    auto a = xsd.guest(web1);
    auto b = xsd.guest(db1);
    must(a->write("data/guardian/version", "0.1.0"));
    must(a->write("data/guardian/kernel", "6.1.0-13-amd64"));
    must(a->write("data/guardian/last-verification", "2026-12-06T05:00:00Z healthy"));
    must(b->write("data/guardian/version", "0.1.0"));
    must(b->write("data/guardian/kernel", "3.16.0-4-amd64"));
    pump(*xs, s);
    if (c) {
        clock = 1005;
        auto w = via == Via::guest ? xsd.guest(mallory) : xsd.dom0();
        c->write(*w, base_of(mallory), via);
        if (c->answer)
            for (const auto& answer : c->answer("0123abcd"))
                put(*w, base_of(mallory) + "/freeze", answer);
        if (c->floods) // as fast as the connection allows; dom0 has no quota
            for (int i = 0; i < (via == Via::guest ? 1000 : 5000); ++i)
                put(*w, base_of(mallory) + "/last-verification",
                    "2026-12-06T05:00:00Z healthy " + std::to_string(i));
        pump(*xs, s);
    }
    clock = 1010;
    must(a->write("data/guardian/last-verdict-reason", "nothing changed"));
    must(a->write("data/guardian/last-verification", "2026-12-06T06:00:00Z healthy"));
    must(b->write("data/guardian/incident", "feature change on an unsafe kernel"));
    pump(*xs, s);
    clock = 1080;
    must(s.tick());
    pump(*xs, s);

    Recorded r;
    const auto ok = [](const test::CommandResult& res) {
        EXPECT_EQ(res.exit_code, 0) << res.out << res.err;
        return res.out;
    };
    r.web1 = ok(history(ledger_path, "web1"));
    r.web1_json = ok(history(ledger_path, "web1 --json"));
    r.db1 = ok(history(ledger_path, "db1"));
    r.db1_json = ok(history(ledger_path, "db1 --json"));
    r.hostile = history(ledger_path, Toolstack::uuid_of(4));
    r.hostile_json = history(ledger_path, Toolstack::uuid_of(4) + " --json");
    for (const char* args : {"fleet", "fleet --json", "fleet --prometheus"})
        r.fleet.push_back(run_command(GUARDIAN_HOST " " + std::string(args) + " --ledger " +
                                      ledger_path.string()));
    if (auto t = ledger->timeline(Toolstack::uuid_of(4)); t)
        for (const auto& e : *t)
            r.hostile_texts.push_back(e.text);
    for (const auto& e : log.entries())
        r.log.push_back(e.message);
    return r;
}

const Recorded& baseline() {
    static const Recorded r = record(nullptr, Via::guest);
    return r;
}

class HostileHostd : public ::testing::TestWithParam<std::tuple<Case, Via>> {};

} // namespace

TEST_P(HostileHostd, TheLedgerKeepsTheHonestGuestsAndBoundsTheHostileOne) {
    const Case& c = std::get<0>(GetParam());
    const Via via = std::get<1>(GetParam());
    const Recorded& alone = baseline();
    ASSERT_NE(alone.web1.find("2026-12-06T06:00:00Z healthy: nothing changed"), std::string::npos)
        << alone.web1;
    ASSERT_NE(alone.db1.find("feature change on an unsafe kernel"), std::string::npos) << alone.db1;

    const Recorded now = record(&c, via);
    EXPECT_EQ(now.web1, alone.web1);
    EXPECT_EQ(now.web1_json, alone.web1_json);
    EXPECT_EQ(now.db1, alone.db1);
    EXPECT_EQ(now.db1_json, alone.db1_json);

    // The hostile guest's own timeline: shown, escaped, bounded.
    EXPECT_EQ(now.hostile.exit_code, 0) << now.hostile.err;
    EXPECT_EQ(terminal_violation(now.hostile.out + now.hostile.err), "") << now.hostile.out;
    EXPECT_EQ(now.hostile_json.exit_code, 0) << now.hostile_json.err;
    EXPECT_EQ(terminal_violation(now.hostile_json.out), "");
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(now.hostile_json.out)) << now.hostile_json.out;
    std::size_t hostile_marks = 0;
    // The ledger's text bound: 2048 bytes and a note of what was cut.
    for (const auto& text : now.hostile_texts)
        EXPECT_LE(text.size(), 2048u + std::string_view("... [4096 more bytes cut]").size());
    for (const auto& e : j["events"]) {
        hostile_marks += e["kind"] == "hostile" ? 1U : 0U;
        // Marked as the guest's wherever it is: all but the host's own words.
        EXPECT_EQ(e["guest_written"], e["kind"] != "hostile" && e["kind"] != "domain-start" &&
                                          e["kind"] != "domain-end");
    }
    // Read at most 60 times a minute, whatever it wrote.
    EXPECT_LE(j["events"].size(), 70u);
    if (c.floods) {
        EXPECT_EQ(hostile_marks, 1u) << now.hostile.out;
        EXPECT_NE(now.hostile.out.find("hostile      dom 4     boot 4@1000  data/guardian/ "
                                       "changed more than 600 times a minute"),
                  std::string::npos)
            << now.hostile.out;
    }
    // The fleet view shows the hostile guest's kernel, escaped.
    for (const auto& f : now.fleet) {
        EXPECT_EQ(f.exit_code, 0) << f.err;
        EXPECT_EQ(terminal_violation(f.out + f.err), "") << f.out;
    }
    EXPECT_TRUE(nlohmann::json::accept(now.fleet.at(1).out)) << now.fleet.at(1).out;
    for (const auto& line : now.log)
        EXPECT_EQ(terminal_violation(line), "") << line;
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileHostd,
                         ::testing::Combine(::testing::ValuesIn(cases()),
                                            ::testing::Values(Via::guest, Via::dom0)),
                         [](const auto& p) {
                             return std::get<0>(p.param).name + to_string(std::get<1>(p.param));
                         });

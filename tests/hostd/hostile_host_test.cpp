// guardian-host beside a hostile guest, case by case (hostile_guests.hpp),
// the guest writing through its own socket under the real quotas and, again,
// dom0 writing into its tree without them. For each case and each command:
// the exit code; the honest domains' table cells, JSON objects and
// Prometheus series byte-identical to a host without the hostile guest; no
// raw control byte in anything a person reads (stdout and stderr); JSON
// that parses (nlohmann rejects invalid UTF-8); a bounded freeze and verify.
#include "tests/hostd/hostile_guests.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>

using namespace guardian;
using namespace guardian::test::hostile;
using guardian::test::run_command;
using guardian::test::TestXenstored;

namespace {

void must(const Status& st) {
    if (!st)
        throw std::runtime_error(st.error().message);
}

// The honest guests, each through its own socket; the toolstack's names.
void honest(const TestXenstored& xsd) {
    auto dom0 = xsd.dom0();
    must(dom0->write("/local/domain/3/name", "web1"));
    must(dom0->write("/local/domain/6/name", "db1"));
    must(dom0->write("/local/domain/3/vm", "/vm/3f1a2b4c-0000-4000-8000-000000000003"));
    must(dom0->write("/local/domain/6/vm", "/vm/3f1a2b4c-0000-4000-8000-000000000006"));
    auto a = xsd.guest(web1);
    for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
             {"version", "0.1.0"},
             {"schema", "1"},
             {"state", "watching"},
             {"kernel", "6.1.0-13-amd64"},
             {"suspend-safety", "safe"},
             {"suspend-safety-reason", "6.1 has the blkfront fix"},
             {"last-verification", "2026-12-06T05:00:00Z healthy"},
             {"last-verification-timing", "restore noticed +80 ms, verdict +412.0 ms"}})
        must(a->write("data/guardian/" + k, v));
    auto b = xsd.guest(db1);
    for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
             {"version", "0.1.0"},
             {"schema", "1"},
             {"state", "incident"},
             {"kernel", "3.16.0-4-amd64"},
             {"suspend-safety", "unsafe"},
             {"suspend-safety-reason", "3.16 lacks the blkfront fix"},
             {"last-verification", "2026-12-06T05:00:00Z critical"},
             {"incident", "feature change on an unsafe kernel"}})
        must(b->write("data/guardian/" + k, v));
}

test::CommandResult host(const TestXenstored& xsd, const std::string& args) {
    return run_command("XENSTORED_PATH=" + xsd.control_socket() + " " GUARDIAN_HOST " " + args);
}

// Cells of the row for `domid`, cut at the header's column starts (widths
// follow the widest cell, so the padding may differ; the cells may not).
std::vector<std::string> cells(const std::string& table, const std::string& domid) {
    std::istringstream in(table);
    std::string header;
    std::getline(in, header);
    std::vector<std::size_t> starts;
    for (const char* h :
         {"DOMID", "NAME", "STATE", "KERNEL", "SUSPEND", "LAST RESTORE", "LAST VERIFICATION"})
        starts.push_back(header.find(h));
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(domid + " ", 0) != 0)
            continue;
        std::vector<std::string> out;
        for (std::size_t i = 0; i < starts.size(); ++i) {
            std::string cell =
                line.substr(std::min(starts[i], line.size()),
                            i + 1 < starts.size() ? starts[i + 1] - starts[i] : std::string::npos);
            while (!cell.empty() && cell.back() == ' ')
                cell.pop_back();
            out.push_back(cell);
        }
        return out;
    }
    return {};
}

std::string json_object(const std::string& text, const std::string& domid) {
    const auto j = nlohmann::json::parse(text);
    for (const auto& d : j["domains"])
        if (d["domid"] == domid)
            return d.dump();
    return "";
}

std::string series_of(const std::string& exposition, const std::string& domid) {
    std::istringstream in(exposition);
    std::string out;
    for (std::string line; std::getline(in, line);)
        if (line.find("domid=\"" + domid + "\"") != std::string::npos)
            out += line + "\n";
    return out;
}

// What every command says about the honest domains on a host.
struct HonestView {
    std::vector<std::string> table3, table6;
    std::string json3, json6, prom3, prom6, preflight3, preflight6, verify3;
};

HonestView honest_view(const TestXenstored& xsd, bool check_exits = true) {
    HonestView v;
    const auto table = host(xsd, "status");
    const auto json = host(xsd, "status --json");
    const auto prom = host(xsd, "status --prometheus");
    const auto pre3 = host(xsd, "preflight 3");
    const auto pre6 = host(xsd, "preflight 6");
    const auto ver3 = host(xsd, "verify 3 --wait 2");
    if (check_exits) {
        EXPECT_EQ(table.exit_code, 0) << table.err;
        EXPECT_EQ(json.exit_code, 0) << json.err;
        EXPECT_EQ(prom.exit_code, 0) << prom.err;
        EXPECT_EQ(pre3.exit_code, 0) << pre3.out << pre3.err;
        EXPECT_EQ(pre6.exit_code, 1) << pre6.out << pre6.err;
        EXPECT_EQ(ver3.exit_code, 0) << ver3.out << ver3.err;
    }
    v.table3 = cells(table.out, "3");
    v.table6 = cells(table.out, "6");
    try {
        v.json3 = json_object(json.out, "3");
        v.json6 = json_object(json.out, "6");
    } catch (const std::exception& e) {
        ADD_FAILURE() << "status --json does not parse: " << e.what();
    }
    v.prom3 = series_of(prom.out, "3");
    v.prom6 = series_of(prom.out, "6");
    v.preflight3 = pre3.out;
    v.preflight6 = pre6.out;
    v.verify3 = ver3.out;
    for (const auto* r : {&table, &json, &prom, &pre3, &pre6, &ver3})
        for (const auto* s : {&r->out, &r->err})
            EXPECT_EQ(terminal_violation(*s), "") << *s;
    return v;
}

const HonestView& baseline() {
    static const HonestView v = [] {
        TestXenstored xsd(7, {web1, db1});
        honest(xsd);
        return honest_view(xsd);
    }();
    return v;
}

class HostileHost : public ::testing::TestWithParam<std::tuple<Case, Via>> {};

} // namespace

TEST_P(HostileHost, TheHonestViewHoldsAndNothingReachesTheTerminal) {
    const Case& c = std::get<0>(GetParam());
    const Via via = std::get<1>(GetParam());
    const HonestView& alone = baseline();
    ASSERT_FALSE(alone.table3.empty());
    ASSERT_NE(alone.json3, "");
    ASSERT_NE(alone.prom3, "");

    TestXenstored xsd(7, {web1, mallory, db1});
    honest(xsd);
    auto dom0 = xsd.dom0();
    must(dom0->write("/local/domain/4/name", c.domain_name));
    must(dom0->write("/local/domain/4/vm", "/vm/3f1a2b4c-0000-4000-8000-000000000004"));
    c.write(via == Via::guest ? *xsd.guest(mallory) : *dom0, base_of(mallory), via);
    const auto writer = [&] { return via == Via::guest ? xsd.guest(mallory) : xsd.dom0(); };
    std::unique_ptr<Responder> responder;
    if (c.answer)
        responder = std::make_unique<Responder>(writer(), base_of(mallory), c.answer);
    std::unique_ptr<Flooder> flood;
    if (c.floods)
        flood = std::make_unique<Flooder>(writer(), base_of(mallory) + "/last-verification");

    const HonestView now = honest_view(xsd);
    EXPECT_EQ(now.table3, alone.table3);
    EXPECT_EQ(now.table6, alone.table6);
    EXPECT_EQ(now.json3, alone.json3);
    EXPECT_EQ(now.json6, alone.json6);
    EXPECT_EQ(now.prom3, alone.prom3);
    EXPECT_EQ(now.prom6, alone.prom6);
    EXPECT_EQ(now.preflight3, alone.preflight3);
    EXPECT_EQ(now.preflight6, alone.preflight6);
    EXPECT_EQ(now.verify3, alone.verify3);

    // The hostile domain's own row, object and series exist, escaped.
    const auto table = host(xsd, "status");
    EXPECT_FALSE(cells(table.out, "4").empty()) << table.out;
    const auto json = host(xsd, "status --json");
    EXPECT_NE(json_object(json.out, "4"), "");
    const auto prom = host(xsd, "status --prometheus");
    EXPECT_NE(series_of(prom.out, "4"), "") << prom.out;
    EXPECT_EQ(terminal_violation(prom.out), "") << prom.out;

    const auto pre = host(xsd, "preflight 4");
    EXPECT_EQ(pre.exit_code, c.preflight_exit) << pre.out << pre.err;
    EXPECT_EQ(terminal_violation(pre.out + pre.err), "") << pre.out << pre.err;

    // freeze and verify: a lie, garbage or silence ends in bounded time
    // with exit 1, and what the guest said is shown escaped.
    for (const char* cmd : {"freeze 4 --wait 1", "verify 4 --wait 1"}) {
        const auto start = std::chrono::steady_clock::now();
        const auto r = host(xsd, cmd);
        const auto took = std::chrono::steady_clock::now() - start;
        EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.out << r.err;
        EXPECT_LT(took, std::chrono::seconds(4)) << cmd;
        EXPECT_EQ(terminal_violation(r.out + r.err), "") << cmd << ": " << r.out << r.err;
    }
    // ... and the honest guest beside it is frozen as ever.
    Responder web1_answers(xsd.guest(web1), base_of(web1), [](const std::string& nonce) {
        return std::vector<std::string>{"frozen " + nonce};
    });
    const auto fr = host(xsd, "freeze 3 --wait 5");
    EXPECT_EQ(fr.exit_code, 0) << fr.out << fr.err;
    EXPECT_EQ(fr.out.rfind("frozen ", 0), 0u) << fr.out;
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileHost,
                         ::testing::Combine(::testing::ValuesIn(cases()),
                                            ::testing::Values(Via::guest, Via::dom0)),
                         [](const auto& p) {
                             return std::get<0>(p.param).name + to_string(std::get<1>(p.param));
                         });

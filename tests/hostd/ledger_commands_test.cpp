// guardian-host's ledger views with hostile guest text in every field a
// guest controls: no raw control byte reaches the terminal, JSON always
// encodes, and the guest's words are marked as the guest's.
#include "guardian/core/guest_text.hpp"
#include "guardian/host/ledger_commands.hpp"

#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

using namespace guardian;

namespace {

const std::string attack = "critical\r\x1b[1A\x1b[2Kweb2 healthy\xff\xfe\n";

bool has_raw_control(const std::string& s) {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20U && c != '\n') || u == 0x7FU)
            return true;
    }
    return false;
}

} // namespace

TEST(LedgerViews, HistoryEscapesAndMarksGuestText) {
    test::TempDir dir;
    const std::string path = (dir.path() / "l.sqlite").string();
    {
        auto l = ledger::Ledger::open(path);
        ASSERT_TRUE(l);
        const ledger::GuestKey g{"3f1a2b4c-0000-4000-8000-000000000001", "web1"};
        ASSERT_TRUE(l->domain_introduced(g, 3, 1000));
        ASSERT_TRUE(l->record(g, 3, ledger::EventKind::incident, 1001, "b\x1b]0;x\x07", attack));
        ASSERT_TRUE(l->domain_released(3, 1002, ledger::ShutdownReason::crash, attack));
    }
    auto l = ledger::Ledger::open_read_only(path);
    ASSERT_TRUE(l);
    auto guests = l->guests();
    ASSERT_TRUE(guests);
    auto events = l->timeline("web1");
    ASSERT_TRUE(events);
    const std::string table = host::render_history(guests->front(), *events);
    EXPECT_FALSE(has_raw_control(table)) << table;
    // One line per event plus the header: the guest's \n made no new row.
    EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 1 + static_cast<long>(events->size()));
    EXPECT_NE(table.find("guest: critical\\r\\x1b[1A"), std::string::npos) << table;
    EXPECT_NE(table.find("domain-end   dom 3      crash\n"), std::string::npos) << table;
    const std::string json = host::history_json(guests->front(), *events).dump();
    EXPECT_TRUE(is_valid_utf8(json));
    const auto parsed = nlohmann::json::parse(json);
    EXPECT_EQ(parsed["events"][1]["guest_written"], true);
    EXPECT_EQ(parsed["events"][2]["guest_written"], false); // the hypervisor's reason
}

TEST(LedgerViews, FleetTableEscapesKernelNamesGuestsReported) {
    fleet::Observation bad{"6.1.0\x1b[2J\r-evil", "Deb\xff", "g1", 100, 1, 1};
    fleet::Observation ok{"6.1.0-13-amd64", "Debian 12", "g2", 100, 0, 0};
    const std::vector<fleet::Observation> obs{bad, ok};
    const auto cmp = fleet::compare_kernels(obs);
    const std::string table = host::render_fleet(cmp);
    EXPECT_FALSE(has_raw_control(table)) << table;
    EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 4); // summary, header, two rows
    EXPECT_NE(table.find("6.1.0-13-amd64"), std::string::npos);
    const std::string json = host::fleet_json(cmp).dump();
    EXPECT_TRUE(is_valid_utf8(json));
    // One crash over 200 guest-days: a defined rate; its ratio's upper bound
    // is infinite, which JSON says as null.
    const auto parsed = nlohmann::json::parse(json);
    const auto& row = parsed["kernels"][0]["kernel"] == "6.1.0-13-amd64" ? parsed["kernels"][1]
                                                                         : parsed["kernels"][0];
    EXPECT_TRUE(row["rate_ratio_vs_rest"]["high"].is_null());
    EXPECT_EQ(row["evidence"], "no evidence");
}

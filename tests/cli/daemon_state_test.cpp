// guardianctl's reading of guardiand's state.json and history.jsonl, on JSON
// shaped exactly like guardian/daemon/state_file.cpp writes it.
#include "guardian/cli/daemon_state.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace guardian::cli {
namespace {

nlohmann::json verification(const char* time, const char* verdict, bool coordinated,
                            std::vector<std::string> reasons) {
    return {{"time", time},
            {"verdict", verdict},
            {"reasons", reasons},
            {"affected", nlohmann::json::array()},
            {"coordinated", coordinated},
            {"filesystems", nlohmann::json::array()}};
}

TEST(HistoryRow, TimeVerdictModeAndFirstReason) {
    EXPECT_EQ(history_row(verification("2026-11-21T10:00:00Z", "critical", true,
                                       {"frozen metadata changed", "second"})),
              "2026-11-21T10:00:00Z  critical  coordinated  frozen metadata changed");
    EXPECT_EQ(history_row(verification("2026-11-21T10:00:00Z", "healthy", false, {})),
              "2026-11-21T10:00:00Z  healthy   restore      -");
    EXPECT_EQ(history_row(nlohmann::json::object()), "?  ?         restore      -");
}

TEST(RenderState, ShowsStateFilesystemsVerdictFindingsAndIncident) {
    auto v = verification("2026-11-21T10:00:00Z", "critical", false,
                          {"metadata checksum errors on /dev/xvdb"});
    v["filesystems"] = nlohmann::json::array(
        {{{"device", "/dev/xvdb"},
          {"mount_point", "/srv"},
          {"uuid", "u-1"},
          {"checked", true},
          {"error", ""},
          {"findings", {{{"structure", "inode"}, {"inode", 12}, {"detail", "checksum mismatch"}}}},
          {"geometry_changes", nlohmann::json::array()},
          {"frozen_compared", false},
          {"frozen_changes", nlohmann::json::array()},
          {"errors_count_growth", 3}}});
    const nlohmann::json state{
        {"state", "incident"},
        {"kernel", "6.1.0-27-amd64"},
        {"suspend_safety", "safe"},
        {"suspend_reason", "fixed in 6.1.112"},
        {"filesystems", {{{"device", "/dev/xvdb"}, {"mount_point", "/srv"}, {"uuid", "u-1"}}}},
        {"last_restore", "2026-11-21T09:59:58Z"},
        {"last_verification", v},
        {"incident",
         {{"reason", "critical: metadata checksum errors"},
          {"steps",
           {{{"step", "shutdown"},
             {"outcome", "done"},
             {"target", "/srv"},
             {"method", "nologflush"},
             {"detail", ""}},
            {{"step", "reboot"},
             {"outcome", "failed"},
             {"target", ""},
             {"method", ""},
             {"detail", "EPERM"}}}}}}};
    const std::string text = render_state(state);
    for (const char* expected :
         {"guardiand: incident\n", "kernel 6.1.0-27-amd64: suspend safe (fixed in 6.1.112)",
          "guarding /dev/xvdb on /srv (uuid u-1)", "last restore: 2026-11-21T09:59:58Z",
          "last verification: 2026-11-21T10:00:00Z  critical", "reason: metadata checksum errors",
          "/dev/xvdb (/srv): 1 finding(s), ext4 errors_count grew by 3",
          "inode inode 12: checksum mismatch", "INCIDENT: critical: metadata checksum errors",
          "shutdown /srv: done (nologflush)", "reboot (system): failed: EPERM"})
        EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n"
                                                          << text;
}

TEST(RenderState, ToleratesAFreshDaemonAndJunk) {
    const std::string fresh = render_state({{"state", "watching"},
                                            {"filesystems", nlohmann::json::array()},
                                            {"last_restore", ""},
                                            {"last_verification", nullptr},
                                            {"incident", nullptr}});
    EXPECT_NE(fresh.find("guardiand: watching"), std::string::npos) << fresh;
    EXPECT_NE(fresh.find("guarding: nothing"), std::string::npos) << fresh;
    EXPECT_NE(fresh.find("last restore: none"), std::string::npos) << fresh;
    EXPECT_NE(fresh.find("last verification: none"), std::string::npos) << fresh;
    EXPECT_EQ(fresh.find("INCIDENT"), std::string::npos) << fresh;
    // Wrong types everywhere: rendered as unknown, never a throw.
    EXPECT_NO_THROW((void)render_state({{"state", 5},
                                        {"filesystems", "x"},
                                        {"last_verification", {{"filesystems", 7}}},
                                        {"incident", {{"steps", {1, 2}}}}}));
}

TEST(ParseHistory, SkipsMalformedLinesWithTheirNumbers) {
    const std::string text =
        verification("t1", "healthy", false, {}).dump() + "\n" + "{\"verdict\": \"warn\n" + "\n" +
        "[1,2]\n" + "{\"time\": \"t2\"}\n" + verification("t3", "warning", true, {"r"}).dump() +
        "\n" + verification("t4", "critical", false, {"x"}).dump(); // no final newline
    const auto all = parse_history(text, 0);
    ASSERT_EQ(all.size(), 6u);
    EXPECT_TRUE(all[0].error.empty());
    EXPECT_EQ(all[1].line_number, 2u);
    EXPECT_EQ(all[1].error, "not valid JSON");
    EXPECT_EQ(all[2].line_number, 4u);
    EXPECT_EQ(all[2].error, "not a JSON object");
    EXPECT_EQ(all[3].line_number, 5u);
    EXPECT_EQ(all[3].error, "no verdict");
    EXPECT_EQ(all[5].entry["time"], "t4");
    EXPECT_EQ(all[5].line_number, 7u);

    const auto last_two = parse_history(text, 2);
    std::vector<std::string> times;
    std::size_t malformed = 0;
    for (const auto& l : last_two) {
        if (l.error.empty())
            times.push_back(l.entry["time"]);
        else
            ++malformed;
    }
    EXPECT_EQ(times, (std::vector<std::string>{"t3", "t4"}));
    EXPECT_EQ(malformed, 3u);
    EXPECT_TRUE(parse_history("", 5).empty());
}

} // namespace
} // namespace guardian::cli

namespace guardian::cli {
namespace {

std::string fixture(const char* name) {
    std::ifstream in(std::string(GUARDIAN_SOURCE_DIR) + "/tests/fixtures/release-0.1/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// What guardian 0.1.0 wrote, shown by this guardianctl (through the schema
// decoder of guardian/core/state_file.*).
TEST(RenderState, TheLastReleasesStateFileAndHistory) {
    const std::string text = render_state(nlohmann::json::parse(fixture("state.json")));
    for (const char* expected :
         {"guardiand: incident\n", "guarding /dev/xvdb on /srv (uuid 1b1c2d3e-",
          "last restore: 2026-09-21T12:53:20Z domid-changed,time-jump\n",
          "critical  coordinated  /dev/xvdb: 1 checksum finding(s)",
          "/dev/xvdb (/srv): 1 finding(s), 1 geometry change(s), frozen comparison: 1 change(s), "
          "ext4 errors_count grew by 2",
          "      inode group 0 inode 12 block 1065: checksum mismatch\n",
          "/dev/xvdc (/data): not checked: device gone",
          "INCIDENT: /dev/xvdb: 1 checksum finding(s)",
          "    fsck-mark /srv: failed (journal-errno): timed out\n",
          "    notify-provider (system): done\n"})
        EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n"
                                                          << text;
    const auto lines = parse_history(fixture("history.jsonl"), 0);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(history_row(lines[0].entry), "2026-09-21T14:15:00Z  healthy   restore      -");
    EXPECT_TRUE(lines[1].error.empty());
}

} // namespace
} // namespace guardian::cli

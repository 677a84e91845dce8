// guardiand's local files (guardian/core/state_file.*): what guardian 0.1.0
// wrote (tests/fixtures/release-0.1) decodes, the encoder still writes it
// (plus the schema number), and missing keys are named.
#include "guardian/core/state_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace guardian {
namespace {

const std::string k_fixtures = std::string(GUARDIAN_SOURCE_DIR) + "/tests/fixtures/release-0.1/";

std::string read(const std::string& name) {
    std::ifstream in(k_fixtures + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The snapshot the fixture was written from (the capture program's).
StateSnapshot fixture_snapshot() {
    StateSnapshot s;
    s.state = "incident";
    s.kernel = "6.1.0-18-amd64";
    s.suspend_safety = "safe";
    s.suspend_reason = "6.1.0-18-amd64: no known suspend/restore bug";
    s.filesystems.push_back({"/dev/xvda1", "/", "0b1c2d3e-aaaa-4bbb-8ccc-123456789abc"});
    s.filesystems.push_back({"/dev/xvdb", "/srv", "1b1c2d3e-aaaa-4bbb-8ccc-123456789abc"});
    s.last_restore = "2026-09-21T12:53:20Z domid-changed,time-jump";
    VerificationOutcome o;
    o.realtime = std::chrono::seconds(1790000001);
    o.result.verdict = Verdict::critical;
    o.result.reasons = {"/dev/xvdb: 1 checksum finding(s)", "also this"};
    o.result.affected_devices = {"/dev/xvdb"};
    o.coordinated = true;
    FsEvidence e1;
    e1.device = "/dev/xvda1";
    e1.mount_point = "/";
    e1.uuid = s.filesystems[0].uuid;
    e1.checked = true;
    FsEvidence e2;
    e2.device = "/dev/xvdb";
    e2.mount_point = "/srv";
    e2.uuid = s.filesystems[1].uuid;
    e2.checked = true;
    e2.findings.push_back(Finding{Structure::inode, 0u, 12u, 1065u, "checksum mismatch"});
    e2.geometry.push_back(Difference{Difference::Kind::changed, Structure::geometry, std::nullopt,
                                     "blocks_count", "1000", "2000"});
    e2.frozen_compared = true;
    e2.frozen_diff.push_back(
        Difference{Difference::Kind::changed, Structure::geometry, 0u, "free_blocks", "5", "6"});
    e2.errors_count_growth = 2;
    FsEvidence e3;
    e3.device = "/dev/xvdc";
    e3.mount_point = "/data";
    e3.scan_error = "device gone";
    o.evidence = {e1, e2, e3};
    s.last_verification = o;
    IncidentRecord r;
    r.reason = o.result.summary();
    r.steps.push_back({IncidentStep::notify_provider, StepOutcome::done, "", "", "", 1, false});
    r.steps.push_back({IncidentStep::shutdown, StepOutcome::done, "/srv", "ioctl", "", 2, false});
    r.steps.push_back({IncidentStep::fsck_mark, StepOutcome::failed, "/srv", "journal-errno",
                       "timed out", 3, true});
    r.steps.push_back(
        {IncidentStep::reboot, StepOutcome::skipped, "", "", "reboot none", 4, false});
    s.incident = r;
    return s;
}

TEST(StateFileSchema, TheEncoderWritesTheLastReleasesFilePlusItsSchema) {
    nlohmann::json now = state_to_json(fixture_snapshot());
    EXPECT_EQ(now["schema"], k_state_file_schema);
    now.erase("schema");
    EXPECT_EQ(now, nlohmann::json::parse(read("state.json")));
}

TEST(StateFileSchema, TheLastReleasesStateFileDecodesCompletely) {
    const DecodedState s = decode_state(nlohmann::json::parse(read("state.json")));
    EXPECT_EQ(s.schema, 1); // absent: the first schema
    EXPECT_TRUE(s.missing.empty());
    EXPECT_EQ(s.state, "incident");
    ASSERT_EQ(s.filesystems.size(), 2u);
    EXPECT_EQ(s.filesystems[1].mount_point, "/srv");
    ASSERT_TRUE(s.last_verification);
    const auto& v = *s.last_verification;
    EXPECT_TRUE(v.missing.empty());
    EXPECT_EQ(v.verdict, "critical");
    EXPECT_TRUE(v.coordinated);
    ASSERT_EQ(v.filesystems.size(), 3u);
    const auto& srv = v.filesystems[1];
    EXPECT_EQ(srv.findings,
              (std::vector<std::string>{"inode group 0 inode 12 block 1065: checksum mismatch"}));
    EXPECT_EQ(srv.geometry_changes->size(), 1u);
    EXPECT_TRUE(srv.frozen_compared);
    EXPECT_EQ(srv.errors_count_growth, "2");
    EXPECT_EQ(v.filesystems[2].error, "device gone");
    ASSERT_TRUE(s.incident);
    ASSERT_EQ(s.incident->steps.size(), 4u);
    EXPECT_EQ(s.incident->steps[2].step, "fsck-mark");
    EXPECT_EQ(s.incident->steps[2].detail, "timed out");
}

TEST(StateFileSchema, HistoryLinesOfTheLastReleaseDecodeAndReencode) {
    std::istringstream in(read("history.jsonl"));
    std::vector<DecodedVerification> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(decode_verification(nlohmann::json::parse(line)));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].verdict, "healthy");
    EXPECT_EQ(lines[1].verdict, "critical");
    EXPECT_TRUE(lines[0].missing.empty());
    std::istringstream again(read("history.jsonl"));
    std::string first;
    std::getline(again, first);
    std::getline(again, first); // the second line: the fixture's verification
    EXPECT_EQ(verification_to_json(*fixture_snapshot().last_verification),
              nlohmann::json::parse(first));
}

TEST(StateFileSchema, MissingAndForeignKeysAreNamedNotGuessed) {
    const DecodedState s = decode_state(
        nlohmann::json{{"state", 5}, {"kernel", "k"}, {"future_key", {1, 2}}, {"schema", 2}});
    EXPECT_EQ(s.schema, 2);
    EXPECT_EQ(s.state, "");
    EXPECT_EQ(s.missing, (std::vector<std::string>{"state", "suspend_safety", "suspend_reason",
                                                   "last_restore", "filesystems"}));
    EXPECT_FALSE(s.last_verification);
    EXPECT_EQ(decode_state(nlohmann::json("junk")).missing.size(), 6u);
    EXPECT_EQ(decode_verification(nlohmann::json::object()).missing,
              (std::vector<std::string>{"time", "verdict", "filesystems"}));
}

} // namespace
} // namespace guardian

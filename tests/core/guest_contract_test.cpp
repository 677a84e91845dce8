// The guest-provider contract (guardian/core/guest_contract.*): every
// encoding round-trips, and what guardian 0.1.0 wrote (tests/fixtures/
// release-0.1, captured from its encoders) still decodes, with unknown nodes
// kept and missing ones named.
#include "guardian/core/guest_contract.hpp"
#include "guardian/core/guest_metrics.hpp"
#include "guardian/core/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace guardian::contract {
namespace {

const std::string k_fixtures = std::string(GUARDIAN_SOURCE_DIR) + "/tests/fixtures/release-0.1/";

std::vector<std::string> fixture_lines(const std::string& name) {
    std::ifstream in(k_fixtures + name);
    EXPECT_TRUE(in.good()) << name;
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#')
            out.push_back(line);
    return out;
}

// data_guardian.txt: "name=value" per node.
std::map<std::string, std::string> fixture_report() {
    std::map<std::string, std::string> nodes;
    for (const auto& line : fixture_lines("data_guardian.txt"))
        nodes[line.substr(0, line.find('='))] = line.substr(line.find('=') + 1);
    return nodes;
}

// The input the fixture was written from (the capture program's).
ReportInput fixture_input() {
    ReportInput in;
    in.version = "0.9.0";
    in.state = DaemonState::watching;
    in.kernel = "6.1.0-18-amd64";
    in.verdict.safety = Safety::safe;
    in.verdict.reason = "6.1.0-18-amd64: no known suspend/restore bug";
    VbdCapture v;
    v.id = "51712";
    v.frontend_path = "device/vbd/51712";
    v.backend_path = "/local/domain/0/backend/vbd/7/51712";
    v.backend_id = "0";
    v.frontend_state = "4";
    v.backend_state = "4";
    v.device = "xvda";
    v.partitions = {"xvda1"};
    v.size_sectors = 2097152;
    v.backend_features["feature-persistent"] = "1";
    v.backend_features["feature-flush-cache"] = "1";
    in.vbds.push_back(v);
    in.last_restore = RestoreRecord{
        std::chrono::seconds(1790000000),
        "domid-changed,time-jump",
        {CaptureChange{ChangeKind::backend_feature, "51712", "feature-persistent", "1", "0"}}};
    in.last_verification = VerificationRecord{
        std::chrono::seconds(1790000001), "healthy", "no change found",
        "detected 2026-09-21T12:53:20.000Z; features +0.1 ms; first disk read +0.4 ms; verdict "
        "+412.0 ms"};
    in.updated = std::chrono::seconds(1790000002);
    return in;
}

TEST(DaemonStateCodec, EveryStateRoundTripsAndNothingElseParses) {
    for (const DaemonState s : daemon_states())
        EXPECT_EQ(parse_daemon_state(to_string(s)), s) << to_string(s);
    EXPECT_EQ(daemon_states().size(), 6u);
    for (const char* junk : {"", "unknown", "Watching", "watching ", "thawed"})
        EXPECT_FALSE(parse_daemon_state(junk)) << junk;
}

TEST(DaemonStateCodec, TheMetricsListTheContractsStatesPlusUnknown) {
    const auto& listed = guardian_states();
    ASSERT_EQ(listed.size(), daemon_states().size() + 1);
    for (std::size_t i = 0; i < daemon_states().size(); ++i)
        EXPECT_EQ(listed[i], to_string(daemon_states()[i]));
    EXPECT_EQ(listed.back(), "unknown");
}

TEST(FreezeCodec, RequestsRoundTrip) {
    const auto r = decode_freeze_request(encode_freeze_request(60, "n1"));
    EXPECT_EQ(r.kind, FreezeRequest::Kind::freeze);
    EXPECT_EQ(r.seconds, 60);
    EXPECT_EQ(r.nonce, "n1");
    EXPECT_EQ(decode_freeze_request(encode_thaw_request()).kind, FreezeRequest::Kind::thaw);
}

TEST(FreezeCodec, RequestsOfTheLastReleaseDecode) {
    for (const auto& line : fixture_lines("freeze_protocol.txt")) {
        if (!line.starts_with("request "))
            continue;
        const auto r = decode_freeze_request(line.substr(8));
        EXPECT_TRUE(r.kind == FreezeRequest::Kind::freeze || r.kind == FreezeRequest::Kind::thaw)
            << line;
        if (r.kind == FreezeRequest::Kind::freeze) {
            EXPECT_EQ(encode_freeze_request(r.seconds, r.nonce), line.substr(8));
        }
    }
}

TEST(FreezeCodec, BadRequestsAreNamedAndRefusedInTheReleasesWords) {
    using Kind = FreezeRequest::Kind;
    for (const char* bad : {"freeze 0 n1", "freeze 3601 n1", "freeze x n1", "freeze 60", "freeze"})
        EXPECT_EQ(decode_freeze_request(bad).kind, Kind::malformed) << bad;
    for (const char* unknown : {"", "bogus", "FREEZE 60 n1", "thawed n1"})
        EXPECT_EQ(decode_freeze_request(unknown).kind, Kind::unknown) << unknown;
    EXPECT_EQ(decode_freeze_request("freeze 3600 n1").kind, Kind::freeze);
    EXPECT_EQ(refuse_request("freeze 0 n1", Kind::malformed),
              "failed n1 bad request 'freeze 0 n1' (expected: freeze <1-3600 seconds> <nonce>)");
    EXPECT_EQ(refuse_request("freeze 60", Kind::malformed),
              "failed - bad request 'freeze 60' (expected: freeze <1-3600 seconds> <nonce>)");
    EXPECT_EQ(refuse_request("bogus", Kind::unknown), "failed - unknown request 'bogus'");
    EXPECT_EQ(refuse_request(std::string(100, 'x'), Kind::unknown),
              "failed - unknown request '" + std::string(64, 'x') + "'");
}

TEST(FreezeCodec, EveryAnswerOfTheLastReleaseDecodesAndEncodesBackTheSame) {
    std::size_t answers = 0;
    for (const auto& line : fixture_lines("freeze_protocol.txt")) {
        if (!line.starts_with("answer "))
            continue;
        ++answers;
        const std::string text = line.substr(7);
        const auto a = decode_freeze_answer(text);
        ASSERT_TRUE(a) << text;
        EXPECT_EQ(encode(*a), text);
    }
    EXPECT_GE(answers, 10u);
    const auto thawed = decode_freeze_answer("thawed n1 healthy");
    ASSERT_TRUE(thawed);
    EXPECT_EQ(*thawed, (FreezeAnswer{FreezeAnswerKind::thawed, "n1", "healthy"}));
    const auto failed = decode_freeze_answer("failed n1 freeze guard: cannot start x");
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->detail, "freeze guard: cannot start x");
    // Written by earlier guests' documentation; still understood.
    const auto critical = decode_freeze_answer("critical n9");
    ASSERT_TRUE(critical);
    EXPECT_EQ(critical->kind, FreezeAnswerKind::critical);
    EXPECT_TRUE(is_terminal(critical->kind));
    EXPECT_FALSE(is_terminal(FreezeAnswerKind::frozen));
    for (const char* junk : {"", "frozen", "frozen ", "melted n1", "Frozen n1"})
        EXPECT_FALSE(decode_freeze_answer(junk)) << junk;
}

TEST(FreezeCodec, AnswersRoundTrip) {
    for (const auto& a : {FreezeAnswer{FreezeAnswerKind::frozen, "n1", {}},
                          FreezeAnswer{FreezeAnswerKind::auto_thawed, "n3", {}},
                          FreezeAnswer{FreezeAnswerKind::thawed, "n1", "cancelled"},
                          FreezeAnswer{FreezeAnswerKind::failed, "n1", "no guarded filesystem"}})
        EXPECT_EQ(decode_freeze_answer(encode(a)), a) << encode(a);
    EXPECT_EQ(encode(FreezeAnswer{FreezeAnswerKind::failed, "", "x"}), "failed - x");
}

TEST(IncidentCodec, TheLastReleasesNodesDecodeAndEncodeTheSame) {
    const auto lines = fixture_lines("incident_nodes.txt");
    ASSERT_EQ(lines.size(), 2u);
    IncidentRecord r;
    r.reason = "/dev/xvdb: 1 checksum finding(s)";
    EXPECT_EQ(encode_incident(r), lines[0]);
    r.steps.push_back({IncidentStep::fsck_mark, StepOutcome::failed, "/srv", "journal-errno",
                       "timed out", 3, true});
    EXPECT_EQ(encode_incident(r), lines[1]);
    const auto plain = decode_incident(lines[0]);
    EXPECT_EQ(plain.reason, r.reason);
    EXPECT_EQ(plain.timed_out, "");
    const auto hung = decode_incident(lines[1]);
    EXPECT_EQ(hung.reason, r.reason);
    EXPECT_EQ(hung.timed_out, "fsck-mark /srv");
    r.reason = std::string(5000, 'r');
    EXPECT_EQ(encode_incident(r).size(), k_max_incident);
}

TEST(ReportCodec, TheEncoderStillWritesWhatTheLastReleaseWrote) {
    EXPECT_EQ(build_report(fixture_input()), fixture_report());
}

TEST(ReportCodec, TheLastReleasesReportDecodesCompletely) {
    const DecodedReport r = decode_report(fixture_report());
    EXPECT_TRUE(r.present);
    EXPECT_TRUE(r.missing.empty());
    EXPECT_TRUE(r.unknown.empty());
    EXPECT_EQ(r.version, "0.9.0");
    EXPECT_EQ(r.schema, k_report_schema);
    EXPECT_EQ(r.state, "watching");
    EXPECT_EQ(r.suspend_safety, "safe");
    EXPECT_EQ(r.vbd_nodes.size(), 4u);
    EXPECT_EQ(decode_last_verdict(r.last_verification), "healthy");
    EXPECT_EQ(decode_timed_value(r.last_verification).time, 1790000001);
    EXPECT_EQ(decode_timed_value(r.last_restore).rest, "domid-changed,time-jump");
    ASSERT_TRUE(decode_verdict_delay(r.last_verification_timing));
    EXPECT_NEAR(*decode_verdict_delay(r.last_verification_timing), 0.412, 1e-9);
    EXPECT_NEAR(*decode_verdict_delay("verdict +9467.25 ms"), 9.46725, 1e-9);
    EXPECT_FALSE(decode_verdict_delay("verdict +12. ms"));
}

// The distribution (os-release's name) goes out as a node and comes back;
// unknown, it is not written and reads back empty, never as missing (the
// last release did not write it).
TEST(ReportCodec, TheDistributionRoundTripsAndIsOptional) {
    ReportInput in = fixture_input();
    in.distribution = "Debian GNU/Linux 12 (bookworm)";
    const ReportNodes nodes = build_report(in);
    EXPECT_EQ(nodes.at(std::string(node::distribution)), "Debian GNU/Linux 12 (bookworm)");
    const DecodedReport r = decode_report(nodes);
    EXPECT_EQ(r.distribution, "Debian GNU/Linux 12 (bookworm)");
    EXPECT_TRUE(r.missing.empty());
    EXPECT_TRUE(r.unknown.empty());
    const auto& ledger = ledger_nodes();
    EXPECT_NE(std::find(ledger.begin(), ledger.end(), node::distribution), ledger.end());

    in.distribution = std::string(300, 'd') + "\x1b[2J\n";
    EXPECT_EQ(decode_report(build_report(in)).distribution.size(), 64u);

    in.distribution.clear();
    EXPECT_FALSE(build_report(in).contains(std::string(node::distribution)));
    const DecodedReport old = decode_report(fixture_report());
    EXPECT_EQ(old.distribution, "");
    EXPECT_TRUE(old.missing.empty());
}

TEST(ReportCodec, UnknownNodesAreKeptMissingOnesNamedForeignStatesUnknown) {
    auto nodes = fixture_report();
    nodes.erase("kernel");
    nodes.erase("schema");
    nodes["fleet-ledger"] = "from a newer guardian";
    nodes["state"] = "hibernating";
    const DecodedReport r = decode_report(nodes);
    EXPECT_TRUE(r.present);
    EXPECT_EQ(r.missing, (std::vector<std::string>{"schema", "kernel"}));
    EXPECT_EQ(r.unknown,
              (std::map<std::string, std::string>{{"fleet-ledger", "from a newer guardian"}}));
    EXPECT_EQ(r.state, "unknown");
    EXPECT_FALSE(decode_report({}).present);
    EXPECT_EQ(decode_report({}).missing.size(), 5u);
}

TEST(NodeValues, VerificationAndRestoreRoundTrip) {
    const auto t = std::chrono::seconds(1790000001);
    EXPECT_EQ(decode_last_verdict(encode_last_verification(t, "critical")), "critical");
    EXPECT_EQ(decode_timed_value(encode_last_verification(t, "critical")).time, 1790000001);
    EXPECT_EQ(decode_timed_value(encode_last_restore(t, "a,b")).rest, "a,b");
    EXPECT_EQ(decode_last_verdict(""), "none");
    for (const char* junk : {"yesterday healthy", "2026-09-21T14:13:21Z", "2026-09-21T14:13:21Z ok",
                             "2026-09-21T14:13:21Z healthy extra"})
        EXPECT_EQ(decode_last_verdict(junk), "unknown") << junk;
}

TEST(NodePaths, RelativeAndPerDomain) {
    EXPECT_EQ(node_path(node::freeze), "data/guardian/freeze");
    EXPECT_EQ(domain_node_path("7", node::request), "/local/domain/7/data/guardian/request");
    EXPECT_EQ(domain_base_path("7"), "/local/domain/7/data/guardian");
}

} // namespace
} // namespace guardian::contract

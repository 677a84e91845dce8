// `guardian-host status --prometheus` and `guardianctl status --prometheus` as
// a provider runs them: the real binaries, dom0 reading the test xenstored
// (real libxenstore wire protocol) with a fleet of guests, and a guest reading
// guardiand's state.json on a fake system root.
#include "tests/support/exposition_check.hpp"
#include "tests/support/test_env.hpp"
#include "tests/xen/xenstore_server_fixture.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void put(xen::XenStore& xs, const std::string& path, const std::string& value) {
    ASSERT_TRUE(xs.write(path, value).ok()) << path;
}

// Labels of a domain as the checker's keys spell them (sorted by name).
std::string key(const std::string& metric, const std::string& domid, const std::string& name,
                const std::string& uuid, const std::string& extra = "") {
    return metric + "{domid=\"" + domid + "\"" + (extra.empty() ? "" : "," + extra) + ",name=\"" +
           name + "\",uuid=\"" + uuid + "\"}";
}

class HostPrometheus : public ::testing::Test {
protected:
    void SetUp() override {
        auto dom0 = m_xsd.dom0();
        put(*dom0, "/local/domain/0/name", "Domain-0");
        // 3: a healthy guest, restored once.
        const std::string d3 = "/local/domain/3";
        put(*dom0, d3 + "/name", "web1");
        put(*dom0, d3 + "/vm", "/vm/0c7f9a3e-0000-4000-8000-000000000003");
        put(*dom0, d3 + "/data/guardian/schema", "1");
        put(*dom0, d3 + "/data/guardian/version", "0.1.0");
        put(*dom0, d3 + "/data/guardian/state", "watching");
        put(*dom0, d3 + "/data/guardian/kernel", "6.1.0-18-amd64");
        put(*dom0, d3 + "/data/guardian/suspend-safety", "safe");
        put(*dom0, d3 + "/data/guardian/last-restore", "2026-11-21T17:00:00Z clock-jump");
        put(*dom0, d3 + "/data/guardian/last-verification", "2026-11-21T17:00:05Z healthy");
        put(*dom0, d3 + "/data/guardian/last-verification-timing",
            "detected 2026-11-21T17:00:04.100Z; features +2 ms; no disk read; verdict +900 ms");
        // 5: an old kernel after an incident.
        const std::string d5 = "/local/domain/5";
        put(*dom0, d5 + "/name", "legacy");
        put(*dom0, d5 + "/data/guardian/version", "0.1.0");
        put(*dom0, d5 + "/data/guardian/state", "incident");
        put(*dom0, d5 + "/data/guardian/kernel", "3.16.0-4-amd64");
        put(*dom0, d5 + "/data/guardian/suspend-safety", "unsafe");
        put(*dom0, d5 + "/data/guardian/last-verification", "2026-11-21T17:00:05Z critical");
        put(*dom0, d5 + "/data/guardian/incident", "vbd/51712/feature-persistent 1->-");
        // 12: a guest publishing garbage, and far more nodes than guardian does.
        const std::string d12 = "/local/domain/12";
        put(*dom0, d12 + "/name", "evil\"} 1\nguardian_present{domid=\"0\"} 1");
        put(*dom0, d12 + "/data/guardian/version", "\xff\xfe\x01");
        put(*dom0, d12 + "/data/guardian/state", "watching\"} 1\n");
        put(*dom0, d12 + "/data/guardian/kernel", std::string(2000, 'k'));
        put(*dom0, d12 + "/data/guardian/suspend-safety", "very safe, trust me");
        put(*dom0, d12 + "/data/guardian/last-restore", "9999-99-99T99:99:99Z x");
        put(*dom0, d12 + "/data/guardian/last-verification", "healthy");
        for (int i = 0; i < 300; ++i)
            put(*dom0, d12 + "/data/guardian/junk/" + std::to_string(i), "x");
        // 7 (the test server's guest) runs no guardian.
    }

    CommandResult host(const std::string& args) const {
        return run_command("XENSTORED_PATH=" + m_xsd.control_socket() + " " GUARDIAN_HOST " " +
                           args);
    }

    TestXenstored m_xsd;
    TempDir m_tmp;
};

TEST_F(HostPrometheus, EveryDomainGetsItsGaugeSet) {
    const auto r = host("status --prometheus");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Exposition ex = check_exposition(r.out);
    ASSERT_TRUE(ex.errors.empty()) << ex.errors.front() << "\n" << r.out;

    const std::string uuid3 = "0c7f9a3e-0000-4000-8000-000000000003";
    EXPECT_EQ(ex.at("guardian_host_domains"), 5); // 0, 3, 5, 7, 12
    EXPECT_EQ(ex.at(key("guardian_present", "0", "Domain-0", "")), 0);
    EXPECT_EQ(ex.at(key("guardian_present", "7", "", "")), 0);
    EXPECT_EQ(ex.at(key("guardian_present", "3", "web1", uuid3)), 1);
    EXPECT_EQ(ex.at(key("guardian_present", "5", "legacy", "")), 1);
    // Domains without guardian have only guardian_present.
    EXPECT_FALSE(ex.has(key("guardian_state", "0", "Domain-0", "", "guardian_state=\"unknown\"")));

    // StateSets: one series per state, only the current one is 1.
    EXPECT_EQ(ex.at(key("guardian_state", "3", "web1", uuid3, "guardian_state=\"watching\"")), 1);
    EXPECT_EQ(ex.at(key("guardian_state", "3", "web1", uuid3, "guardian_state=\"frozen\"")), 0);
    EXPECT_EQ(ex.count_prefix("guardian_state{domid=\"3\""), 7U);
    EXPECT_EQ(ex.at(key("guardian_suspend_safety", "3", "web1", uuid3,
                        "guardian_suspend_safety=\"safe\"")),
              1);
    EXPECT_EQ(ex.at(key("guardian_last_verdict", "3", "web1", uuid3,
                        "guardian_last_verdict=\"healthy\"")),
              1);
    EXPECT_EQ(ex.at(key("guardian_last_verdict_timestamp_seconds", "3", "web1", uuid3)),
              1795280405);
    EXPECT_EQ(ex.at(key("guardian_last_restore_timestamp_seconds", "3", "web1", uuid3)),
              1795280400);
    const double since = ex.at(key("guardian_seconds_since_last_restore", "3", "web1", uuid3));
    EXPECT_NEAR(since, ex.at("guardian_host_scrape_timestamp_seconds") - 1795280400, 0.5);
    EXPECT_EQ(ex.at(R"(guardian_info{domid="3",kernel="6.1.0-18-amd64",name="web1",uuid=")" +
                    uuid3 + R"(",version="0.1.0"})"),
              1);

    EXPECT_EQ(ex.at(key("guardian_state", "5", "legacy", "", "guardian_state=\"incident\"")), 1);
    EXPECT_EQ(ex.at(key("guardian_suspend_safety", "5", "legacy", "",
                        "guardian_suspend_safety=\"unsafe\"")),
              1);
    EXPECT_EQ(ex.at(key("guardian_last_verdict", "5", "legacy", "",
                        "guardian_last_verdict=\"critical\"")),
              1);
    EXPECT_EQ(ex.at(key("guardian_incident", "5", "legacy", "")), 1);
    EXPECT_EQ(ex.at(key("guardian_incident", "3", "web1", uuid3)), 0);
    EXPECT_EQ(ex.at(key("guardian_last_verification_duration_seconds", "3", "web1", uuid3)), 0.9);
    // Never restored: no restore series rather than a made-up value.
    EXPECT_FALSE(ex.has(key("guardian_seconds_since_last_restore", "5", "legacy", "")));
}

TEST_F(HostPrometheus, GarbageFromAGuestStaysInsideItsLabels) {
    const auto r = host("status --prometheus");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Exposition ex = check_exposition(r.out);
    ASSERT_TRUE(ex.errors.empty()) << ex.errors.front();
    // The injected "series" is only text inside domain 12's name label.
    const std::string name12 = "evil\"} 1\nguardian_present{domid=\"0\"} 1";
    EXPECT_EQ(ex.at(key("guardian_present", "12", name12, "")), 1);
    EXPECT_EQ(ex.at(key("guardian_present", "0", "Domain-0", "")), 0);
    EXPECT_EQ(ex.at(key("guardian_state", "12", name12, "", "guardian_state=\"unknown\"")), 1);
    EXPECT_EQ(ex.at(key("guardian_suspend_safety", "12", name12, "",
                        "guardian_suspend_safety=\"unknown\"")),
              1);
    EXPECT_EQ(
        ex.at(key("guardian_last_verdict", "12", name12, "", "guardian_last_verdict=\"unknown\"")),
        1);
    EXPECT_FALSE(ex.has(key("guardian_last_restore_timestamp_seconds", "12", name12, "")));
    // Every line is one series: the newline in the name is escaped.
    for (std::size_t pos = 0; (pos = r.out.find("evil", pos)) != std::string::npos; ++pos)
        EXPECT_EQ(r.out.compare(pos, 8, "evil\\\"} "), 0);
}

TEST_F(HostPrometheus, ChosenDomainsOnceEach) {
    const auto r = host("status 3 3 7 --prometheus");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Exposition ex = check_exposition(r.out);
    ASSERT_TRUE(ex.errors.empty()) << ex.errors.front();
    EXPECT_EQ(ex.at("guardian_host_domains"), 2);
    EXPECT_EQ(ex.count_prefix("guardian_present{"), 2U);
}

TEST_F(HostPrometheus, OutputFileIsReplacedAtomicallyWithMode0644) {
    const fs::path dir = m_tmp.path() / "node-exporter";
    fs::create_directories(dir);
    const fs::path file = dir / "guardian.prom";
    std::ofstream(file) << "old\n";
    // Even under a strict umask the collector (another user) must read it.
    const auto r = run_command("umask 077; XENSTORED_PATH=" + m_xsd.control_socket() +
                               " " GUARDIAN_HOST " status --prometheus --output " + file.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644U);
    const std::string text = slurp(file);
    const Exposition ex = check_exposition(text);
    EXPECT_TRUE(ex.errors.empty()) << (ex.errors.empty() ? "" : ex.errors.front());
    EXPECT_EQ(ex.at("guardian_host_domains"), 5);
    // Nothing else left in the directory (no temporary file).
    EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);

    // xenstored gone: exit 2 and the previous file stays (its age shows it).
    m_xsd.stop();
    const auto r2 = host("status --prometheus -o " + file.string());
    EXPECT_EQ(r2.exit_code, 2);
    EXPECT_EQ(slurp(file), text);
}

TEST_F(HostPrometheus, UsageErrors) {
    EXPECT_NE(host("status --output /tmp/x.prom").exit_code, 0); // needs --prometheus
    EXPECT_NE(host("status --json --prometheus").exit_code, 0);
    const auto r = host("status --prometheus -o /nonexistent-dir/guardian.prom");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("/nonexistent-dir/guardian.prom"), std::string::npos) << r.err;
}

// Prometheus's own checker, strict mode: its exit code and lint findings.
bool have_promtool() {
    return run_command("command -v promtool").exit_code == 0;
}
constexpr const char* k_no_promtool =
    "promtool not installed (tools/install-deps --test puts it in /usr/local/bin)";
void expect_promtool_accepts(const fs::path& file) {
    const auto r = run_command("promtool check metrics < " + file.string());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out + r.err, "") << "promtool lint findings";
}

TEST_F(HostPrometheus, PromtoolAcceptsTheFile) {
    if (!have_promtool())
        GTEST_SKIP() << k_no_promtool;
    const fs::path file = m_tmp.path() / "guardian.prom";
    ASSERT_EQ(host("status --prometheus -o " + file.string()).exit_code, 0);
    expect_promtool_accepts(file);
}

class GuestPrometheus : public ::testing::Test {
protected:
    fs::path root() const { return m_tmp.path() / "root"; }
    void write_state(const std::string& json) const {
        fs::create_directories(root() / "run/guardian");
        std::ofstream(root() / "run/guardian/state.json") << json;
    }
    CommandResult ctl(const std::string& xenstored, const std::string& args) const {
        return run_command("XENSTORED_PATH=" + xenstored + " " GUARDIANCTL " status --prometheus " +
                           args + " --root " + root().string());
    }
    // A socket path that is not there: off Xen.
    std::string no_xen() const { return (m_tmp.path() / "no-xenstore").string(); }

    TempDir m_tmp;
};

constexpr const char* k_state = R"({
  "state": "watching", "kernel": "6.1.0-18-amd64", "suspend_safety": "safe",
  "suspend_reason": "r",
  "filesystems": [{"device": "/dev/xvda1", "mount_point": "/", "uuid": "u1"}],
  "last_restore": "2026-11-21T17:00:00Z clock-jump",
  "last_verification": {"time": "2026-11-21T17:00:05Z", "verdict": "warning", "reasons": [],
    "coordinated": false, "filesystems": [{"device": "/dev/xvda1", "mount_point": "/",
    "checked": true, "findings": [{"structure": "inode"}], "geometry_changes": [],
    "frozen_compared": false, "frozen_changes": []}]},
  "incident": null})";

TEST_F(GuestPrometheus, OffXenFromStateJson) {
    write_state(k_state);
    const auto r = ctl(no_xen(), "");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Exposition ex = check_exposition(r.out);
    ASSERT_TRUE(ex.errors.empty()) << ex.errors.front() << "\n" << r.out;
    EXPECT_EQ(ex.at(key("guardian_present", "", "", "")), 1);
    EXPECT_EQ(ex.at(key("guardian_state", "", "", "", "guardian_state=\"watching\"")), 1);
    EXPECT_EQ(ex.at(key("guardian_last_verdict", "", "", "", "guardian_last_verdict=\"warning\"")),
              1);
    EXPECT_EQ(ex.at(key("guardian_last_restore_timestamp_seconds", "", "", "")), 1795280400);
    EXPECT_EQ(ex.at(R"(guardian_filesystem_findings{device="/dev/xvda1",domid="",)"
                    R"(mountpoint="/",name="",uuid=""})"),
              1);
    EXPECT_EQ(ex.count_prefix("guardian_filesystem_guarded{"), 1U);
    EXPECT_TRUE(ex.has("guardian_guest_scrape_timestamp_seconds"));
    EXPECT_FALSE(ex.has("guardian_host_domains"));
}

TEST_F(GuestPrometheus, PromtoolAcceptsTheFile) {
    if (!have_promtool())
        GTEST_SKIP() << k_no_promtool;
    write_state(k_state);
    const fs::path file = m_tmp.path() / "guardian.prom";
    ASSERT_EQ(ctl(no_xen(), "-o " + file.string()).exit_code, 0);
    expect_promtool_accepts(file);
}

TEST_F(GuestPrometheus, NothingRunningIsPresentZero) {
    const auto r = ctl(no_xen(), "");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Exposition ex = check_exposition(r.out);
    ASSERT_TRUE(ex.errors.empty()) << ex.errors.front();
    EXPECT_EQ(ex.at(key("guardian_present", "", "", "")), 0);
    EXPECT_EQ(ex.samples.size(), 2U) << r.out; // present + scrape timestamp

    write_state("{not json");
    const auto bad = ctl(no_xen(), "");
    EXPECT_EQ(bad.exit_code, 0);
    EXPECT_NE(bad.err.find("not a JSON object"), std::string::npos) << bad.err;
    EXPECT_EQ(check_exposition(bad.out).at(key("guardian_present", "", "", "")), 0);
}

TEST_F(GuestPrometheus, OnXenLabelsComeFromXenstore) {
    TestXenstored xsd(7);
    auto dom0 = xsd.dom0();
    put(*dom0, "/local/domain/7/domid", "7");
    put(*dom0, "/local/domain/7/name", "guest7");
    put(*dom0, "/local/domain/7/vm", "/vm/0c7f9a3e-0000-4000-8000-000000000007");
    // What guardiand published (the guest writes its own data/).
    auto guest = xsd.guest();
    put(*guest, "data/guardian/version", "0.1.0");
    put(*guest, "data/guardian/state", "frozen");
    put(*guest, "data/guardian/suspend-safety", "unknown");
    const std::string uuid = "0c7f9a3e-0000-4000-8000-000000000007";

    // Without state.json: what xenstore says.
    auto r = ctl(xsd.guest_socket(), "");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto ex = check_exposition(r.out);
    ASSERT_TRUE(ex.errors.empty()) << ex.errors.front();
    EXPECT_EQ(ex.at(key("guardian_present", "7", "guest7", uuid)), 1);
    EXPECT_EQ(ex.at(key("guardian_state", "7", "guest7", uuid, "guardian_state=\"frozen\"")), 1);

    // With state.json: guardiand's own file wins, labels stay.
    write_state(k_state);
    const fs::path file = m_tmp.path() / "guardian.prom";
    r = ctl(xsd.guest_socket(), "-o " + file.string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ex = check_exposition(slurp(file));
    ASSERT_TRUE(ex.errors.empty()) << ex.errors.front();
    EXPECT_EQ(ex.at(key("guardian_state", "7", "guest7", uuid, "guardian_state=\"watching\"")), 1);
    EXPECT_EQ(ex.at(key("guardian_suspend_safety", "7", "guest7", uuid,
                        "guardian_suspend_safety=\"safe\"")),
              1);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644U);
}

} // namespace
} // namespace guardian::test

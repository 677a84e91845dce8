// The kernel trouble watch and the boot history through the real guardiand
// process, without Xen and with the test xenstored: a system root whose
// /dev/kmsg is a FIFO fed with recorded kernel log text in /dev/kmsg's
// record format (the reader's "file" method), whose boot id the test sets
// per "boot", and whose /var/lib/guardian is an ext4 filesystem on a loop
// device that guardiand guards. Checked: what reaches data/guardian/, the
// boot history across a crash (SIGKILL after an RCU stall: the boot never
// recorded its end) and an orderly stop, guardianctl status / history
// --boots / the textfile, and that a process writing /dev/kmsg cannot
// forge trouble.
#include "tests/daemon/daemon_harness.hpp"
#include "tests/protect/fs_fixture.hpp"

#include "guardian/core/guest_contract.hpp"
#include "guardian/core/state_file.hpp"
#include "guardian/util/fd.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sys/stat.h>
#include <unistd.h>

namespace guardian::test {
namespace {

namespace fs = std::filesystem;

void put(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::trunc) << text;
}

std::string get(const fs::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// syslog(2) lines ("<4>[  12.345678] text", tests/unit/data/kmsg/) as
// /dev/kmsg records ("4,seq,usec,-;text"), facility 0 (the kernel).
std::string as_kmsg_records(const std::string& syslog_text, unsigned long long& seq) {
    static const std::regex line(R"(<(\d+)>\[\s*(\d+)\.(\d+)\] ?(.*))");
    std::string out;
    std::istringstream in(syslog_text);
    for (std::string l; std::getline(in, l);) {
        std::smatch m;
        if (!std::regex_match(l, m, line))
            continue;
        const unsigned long long us = std::stoull(m[2]) * 1'000'000 + std::stoull(m[3]);
        out += m[1].str() + "," + std::to_string(++seq) + "," + std::to_string(us) + ",-;" +
               m[4].str() + "\n";
    }
    return out;
}

// A guest's system root: /proc files the daemon reads, /sys the real one,
// /dev/kmsg a FIFO the test writes, /var/lib/guardian on `state_fs`.
class GuestRoot {
public:
    explicit GuestRoot(const LoopFs& state_fs) {
        const fs::path r = m_dir.path();
        put(r / "proc/sys/kernel/osrelease", "6.1.0-26-amd64\n");
        put(r / "proc/sys/kernel/version",
            "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)\n");
        put(r / "proc/version", "Linux version 6.1.0-26-amd64 (debian-kernel@lists.debian.org) "
                                "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)\n");
        put(r / "proc/self/mountinfo", get("/proc/self/mountinfo"));
        put(r / "etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n");
        fs::create_symlink("/sys", r / "sys");
        fs::create_directories(r / "dev");
        fs::create_directories(r / "run");
        fs::create_directories(r / "var/lib");
        fs::create_symlink(state_fs.mount_point(), r / "var/lib/guardian");
        put(r / "etc/guardian/guardian.conf",
            "guard = " + state_fs.mount_point() +
                "\nrisk_table = " + (source_dir() / "data/kernel-risk.json").string() +
                "\nhook_dir = " + (r / "etc/guardian/hooks.d").string() + "\n");
        if (::mkfifo((r / "dev/kmsg").c_str(), 0600) != 0)
            throw std::runtime_error("mkfifo");
        // Held open for writing so the reader never sees end-of-file.
        m_kmsg = ::open((r / "dev/kmsg").c_str(), O_RDWR | O_CLOEXEC);
    }
    ~GuestRoot() {
        if (m_kmsg >= 0)
            ::close(m_kmsg);
    }
    [[nodiscard]] std::string path() const { return m_dir.path().string(); }
    // A new boot: its own id, an empty /run (tmpfs).
    void boot(const std::string& id) {
        put(m_dir.path() / "proc/sys/kernel/random/boot_id", id + "\n");
        fs::remove_all(m_dir.path() / "run");
        fs::create_directories(m_dir.path() / "run");
    }
    void write_kmsg(const std::string& records) const {
        ASSERT_EQ(::write(m_kmsg, records.data(), records.size()),
                  static_cast<ssize_t>(records.size()));
    }
    [[nodiscard]] DecodedState state() const {
        const auto j =
            nlohmann::json::parse(get(m_dir.path() / "run/guardian/state.json"), nullptr, false);
        return decode_state(j);
    }
    [[nodiscard]] std::uint64_t seen(TroubleKind k) const {
        const auto s = state();
        return s.kernel_trouble ? s.kernel_trouble->counts.seen[static_cast<std::size_t>(k)] : 0;
    }
    [[nodiscard]] bool exists(const std::string& rel) const {
        return fs::exists(m_dir.path() / rel);
    }
    [[nodiscard]] CommandResult ctl(const std::string& args) const {
        return run_command(std::string(GUARDIANCTL) + " " + args + " --root " + path());
    }

private:
    TempDir m_dir;
    int m_kmsg = -1;
};

const std::string k_boot_a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string k_boot_b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const std::string k_boot_c = "cccccccccccccccccccccccccccccccc";

std::string corpus(const std::string& name) {
    return get(source_dir() / "tests/unit/data/kmsg" / name);
}

TEST(TroubleProcess, BootsTroubleAndTheirEndsReachTheReportHistoryAndTextfile) {
    GUARDIAN_SKIP_WITHOUT_LOOP();
    LoopFs state_fs("mkfs.ext4 -q -F", 64);
    state_fs.mount();
    TestXenstored xsd;
    GuestRoot root(state_fs);
    const auto node = [&](std::string_view name) {
        return xsd.read("/local/domain/7/" + contract::node_path(name));
    };
    unsigned long long seq = 0;

    // Boot A: the 6.1 livelock's stall reports, and a forged WARNING from a
    // process (facility 1: "<12>" = user.warning) that must not count.
    root.boot(k_boot_a);
    {
        Guardiand d(root.path(), xsd.guest_socket());
        ASSERT_TRUE(wait_until([&] { return node(contract::node::state) == "watching"; },
                               std::chrono::seconds(20)));
        EXPECT_EQ(node(contract::node::trouble_counts), "none");
        EXPECT_EQ(node(contract::node::previous_boot), "none");
        EXPECT_EQ(node(contract::node::distribution), "Debian GNU/Linux 12 (bookworm)");
        // Debian 6.1.112 has the livelock; no XFS mounted here: latent.
        EXPECT_NE(node(contract::node::known_bugs)
                      .find("mm-large-folio-pagecache-livelock=latent@6.1.113"),
                  std::string::npos)
            << node(contract::node::known_bugs);
        root.write_kmsg("12," + std::to_string(++seq) +
                        ",1,-;WARNING: CPU: 0 PID: 1 at fs/forged.c:1 forged+0x1/0x2\n");
        root.write_kmsg(as_kmsg_records(corpus("linux-6.1.31-xfs-livelock-bz217572.log"), seq));
        ASSERT_TRUE(wait_until([&] { return root.seen(TroubleKind::rcu_stall) == 3; },
                               std::chrono::seconds(20)))
            << get(fs::path(root.path()) / "run/guardian/state.json");
        ASSERT_TRUE(wait_until(
            [&] {
                return node(contract::node::trouble_counts) == "rcu_stall=3 hung_task=1 forged=1";
            },
            std::chrono::seconds(10)))
            << node(contract::node::trouble_counts);
        const auto last = contract::decode_trouble_last(node(contract::node::trouble_last));
        ASSERT_FALSE(last.empty());
        EXPECT_EQ(last.back().kind, "rcu_stall");
        EXPECT_EQ(last.back().function, "xas_descend");
        EXPECT_EQ(last.back().known_bug, "mm-large-folio-pagecache-livelock");
        EXPECT_EQ(root.seen(TroubleKind::warning), 0u) << "a process forged a WARNING";

        // The textfile and status, while it runs.
        const auto prom = root.ctl("status --prometheus");
        EXPECT_NE(prom.out.find("guardian_kernel_trouble_events_total{kind=\"rcu_stall\"} 3"),
                  std::string::npos)
            << prom.out;
        EXPECT_NE(prom.out.find("guardian_kernel_trouble_forged_total 1"), std::string::npos);
        const auto status = root.ctl("status");
        EXPECT_NE(status.out.find("restore watch: active"), std::string::npos) << status.out;
        EXPECT_NE(status.out.find("kernel trouble this boot: 3 rcu_stall, 1 hung_task"),
                  std::string::npos)
            << status.out;
        // The boot "crashes": the watchdog resets it, nothing records an end.
        d.kill9();
    }

    // Boot B: the previous boot ended unclean, attributed to the stall that
    // guardiand wrote into its record while the boot was alive.
    root.boot(k_boot_b);
    {
        Guardiand d(root.path(), xsd.guest_socket());
        ASSERT_TRUE(
            wait_until([&] { return node(contract::node::previous_boot).starts_with("end="); },
                       std::chrono::seconds(30)));
        const auto prev = contract::decode_previous_boot(node(contract::node::previous_boot));
        ASSERT_TRUE(prev) << node(contract::node::previous_boot);
        EXPECT_EQ(prev->end, "watchdog");
        EXPECT_EQ(prev->boot_id, k_boot_a);
        EXPECT_EQ(prev->release, "6.1.0-26-amd64");
        EXPECT_EQ(prev->trouble_kind, "rcu_stall");
        EXPECT_EQ(prev->function, "xas_descend");
        EXPECT_EQ(prev->known_bug, "mm-large-folio-pagecache-livelock");
        EXPECT_EQ(node(contract::node::trouble_counts), "none");
        // The pid file is written once SIGTERM is handled.
        ASSERT_TRUE(wait_until([&] { return root.exists("run/guardian/guardiand.pid"); },
                               std::chrono::seconds(10)));
        // SIGTERM without systemd running the root: SysV semantics, an
        // orderly end of the boot.
        const int status = d.terminate();
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }

    // Boot C, off Xen: the previous boot ended orderly; guardiand runs
    // without xenstore and says which parts are idle.
    root.boot(k_boot_c);
    // Logged during boot, before guardiand runs: the first start in a boot
    // reads what the ring holds.
    root.write_kmsg(as_kmsg_records(corpus("linux-3.16-i915-thunderbolt-warnings.log"), seq));
    {
        Guardiand d(root.path(), "");
        ASSERT_TRUE(wait_until(
            [&] {
                const auto s = root.state();
                return s.kernel_trouble && s.kernel_trouble->previous_boot &&
                       s.kernel_trouble->previous_boot->boot_id == k_boot_b;
            },
            std::chrono::seconds(30)));
        EXPECT_EQ(root.state().kernel_trouble->previous_boot->end, BootEnd::orderly);
        ASSERT_TRUE(wait_until([&] { return root.seen(TroubleKind::warning) >= 1; },
                               std::chrono::seconds(20)));
        EXPECT_TRUE(d.running());
        const auto status = root.ctl("status");
        EXPECT_NE(status.out.find("restore watch: idle (not a Xen guest"), std::string::npos)
            << status.out;
        EXPECT_NE(status.out.find("kernel trouble watch: active (kernel log via file)"),
                  std::string::npos);
        EXPECT_NE(status.out.find("previous boot: orderly"), std::string::npos);

        const auto boots = root.ctl("history --boots");
        EXPECT_EQ(boots.exit_code, 0) << boots.err;
        EXPECT_NE(boots.out.find("unclean (watchdog) after rcu_stall in xas_descend"),
                  std::string::npos)
            << boots.out;
        EXPECT_NE(boots.out.find("6.1.0-26-amd64            3 boot(s), 1 unclean"),
                  std::string::npos)
            << boots.out;
        const auto json =
            nlohmann::json::parse(root.ctl("history --boots --json").out, nullptr, false);
        ASSERT_TRUE(json.is_object());
        ASSERT_EQ(json["boots"].size(), 3u);
        EXPECT_EQ(json["boots"][0]["end"], "watchdog");
        EXPECT_EQ(json["boots"][1]["end"], "orderly");
        EXPECT_EQ(json["boots"][2]["end"], "running");
        EXPECT_EQ(json["boots"][2]["distribution"], "Debian GNU/Linux 12 (bookworm)");
        const auto prom = root.ctl("status --prometheus");
        EXPECT_NE(prom.out.find("guardian_boot_history_boots{end=\"watchdog\"} 1"),
                  std::string::npos)
            << prom.out;
    }
}

} // namespace
} // namespace guardian::test

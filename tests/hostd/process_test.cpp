// The real guardian-hostd process against the test xenstored: 2,000 domains
// come and go, the service is SIGKILLed half-way and started again, and the
// ledger is compared with what the toolstack did. Figures (latency from
// XS_INTRODUCE to the ledger, CPU, peak memory) are printed for the notes.
#include "guardian/ledger/ledger.hpp"

#include "tests/hostd/toolstack.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <vector>

using namespace guardian;
using guardian::test::TestXenstored;
using guardian::test::Toolstack;

namespace {

struct Hostd {
    pid_t pid = -1;
    Hostd(const std::string& control, const std::string& ledger, const std::string& logs,
          const std::string& out, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"guardian-hostd",
                                         "--foreground",
                                         "--no-hypervisor",
                                         "--ledger",
                                         ledger,
                                         "--xen-log-dir",
                                         logs};
        args.insert(args.end(), extra.begin(), extra.end());
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        pid = ::fork();
        if (pid == 0) {
            ::setenv("XENSTORED_PATH", control.c_str(), 1);
            const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            ::dup2(fd, 2);
            ::execv(GUARDIAN_HOSTD, argv.data());
            ::_exit(127);
        }
    }
    void kill9() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
    }
    void stop() {
        if (pid > 0) {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
            pid = -1;
        }
    }
    ~Hostd() { stop(); }
    // utime + stime in seconds, and VmHWM in kB, from /proc.
    [[nodiscard]] std::pair<double, long> usage() const {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string s((std::istreambuf_iterator<char>(stat)), {});
        std::istringstream rest(s.substr(s.rfind(')') + 2));
        std::string f;
        double ticks = 0;
        for (int i = 3; i <= 15 && rest >> f; ++i)
            if (i == 14 || i == 15)
                ticks += std::stod(f);
        long hwm = 0;
        std::ifstream status("/proc/" + std::to_string(pid) + "/status");
        for (std::string line; std::getline(status, line);)
            if (line.rfind("VmHWM:", 0) == 0)
                hwm = std::stol(line.substr(6));
        return {ticks / static_cast<double>(::sysconf(_SC_CLK_TCK)), hwm};
    }
};

std::string tail_of(const std::string& path) {
    std::ifstream in(path);
    std::string s((std::istreambuf_iterator<char>(in)), {});
    return s.size() > 3000 ? s.substr(s.size() - 3000) : s;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

} // namespace

TEST(HostdProcess, TwoThousandDomainsAcrossAKill9) {
    TestXenstored xsd;
    test::TempDir dir;
    Toolstack ts(xsd, dir.path() / "xen");
    const std::string ledger_path = (dir.path() / "ledger.sqlite").string();
    const std::string out = (dir.path() / "hostd.log").string();
    // A reader as guardian-host is one: opened for each look.
    const auto reader = [&] {
        auto l = ledger::Ledger::open_read_only(ledger_path);
        if (!l)
            throw std::runtime_error(l.error().message);
        return std::move(l).value();
    };
    const auto in_ledger = [&](const std::string& name) {
        auto t = reader().timeline(name);
        return t && !t->empty();
    };
    const auto domid = [](int i) { return std::int64_t{100} + i; };
    const auto name = [](int i) { return "vm" + std::to_string(i); };
    const auto reason = [](int i) {
        return std::array<unsigned, 3>{0, 1, 3}[static_cast<std::size_t>(i % 3)];
    };

    auto hostd =
        std::make_unique<Hostd>(xsd.control_socket(), ledger_path, ts.log_dir().string(), out);
    ASSERT_TRUE(wait_until([&] { return ledger::Ledger::open_read_only(ledger_path).ok(); },
                           std::chrono::seconds(10)));
    // Three domains of four go again, but only once the service provably
    // looked after they appeared: every 20 domains the toolstack waits until
    // the newest one is in the ledger; the look that recorded it listed every
    // domain created before it, so those must all be recorded too, whatever
    // the machine's load. (A domain that comes and goes between two looks is
    // never seen: a real one lives minutes, a look takes milliseconds.)
    // While no service runs, domains come and go unseen.
    constexpr int total = 2000;
    std::deque<int> alive;
    std::map<int, bool> destroyed;
    std::set<int> seen; // known to some guardian-hostd: its ledger says so
    bool running = true;
    std::vector<double> latency_ms;
    const auto retire_before = [&](int limit) {
        while (!alive.empty() && alive.front() < limit) {
            const int k = alive.front();
            alive.pop_front();
            if (k % 4 == 0)
                continue; // stays up
            ts.shutdown(domid(k), name(k), reason(k));
            ts.destroy(domid(k));
            destroyed[k] = true;
        }
    };
    for (int i = 0; i < total; ++i) {
        if (i == 810) {
            const auto [cpu, hwm] = hostd->usage();
            std::printf("guardian-hostd before the SIGKILL: %.2f s CPU, peak RSS %ld kB\n", cpu,
                        hwm);
            hostd->kill9(); // between two barriers: whatever it had not recorded yet is unseen
            running = false;
            for (int k = 0; k < i; ++k)
                if (in_ledger(name(k)))
                    seen.insert(k);
        }
        if (i == 1200) {
            hostd = std::make_unique<Hostd>(xsd.control_socket(), ledger_path,
                                            ts.log_dir().string(), out);
            running = true;
            // Everything alive now must be caught up on.
            for (const int k : alive) {
                ASSERT_TRUE(
                    wait_until([&] { return in_ledger(name(k)); }, std::chrono::seconds(60)))
                    << name(k) << " alive at the restart, never recorded:\n"
                    << tail_of(out);
                seen.insert(k);
            }
        }
        const auto t0 = std::chrono::steady_clock::now();
        ts.create(domid(i), Toolstack::uuid_of(i), name(i));
        alive.push_back(i);
        destroyed[i] = false;
        if (!running) {
            retire_before(i - 10);
        } else if (i % 20 == 19) {
            ASSERT_TRUE(wait_until([&] { return in_ledger(name(i)); }, std::chrono::seconds(60)))
                << name(i) << " never reached the ledger:\n"
                << tail_of(out);
            latency_ms.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count());
            for (const int k : alive)
                seen.insert(k);
            retire_before(i);
        }
    }
    retire_before(total);
    // Phase one, before the kill, must have seen every domain too: its
    // domains all lived 200 ms or more while it ran.
    for (int k = 0; k < 790; ++k)
        EXPECT_TRUE(seen.count(k))
            << name(k) << " lived 200 ms with a service running, never recorded";
    std::size_t expected_ends = 0;
    for (const auto& [k, gone] : destroyed)
        expected_ends += (gone && seen.count(k)) ? 1U : 0U;
    const auto count_ends = [&] {
        std::size_t n = 0;
        auto g = reader().guests();
        for (const auto& s : g.value_or(std::vector<ledger::GuestSummary>{}))
            n += s.running_domid ? 0U : 1U;
        return n;
    };
    ASSERT_TRUE(wait_until([&] { return count_ends() >= expected_ends; }, std::chrono::seconds(60)))
        << count_ends() << " of " << expected_ends << " ends recorded:\n"
        << tail_of(out);
    const auto [cpu, hwm] = hostd->usage();
    std::printf("guardian-hostd after the restart: %.2f s CPU, peak RSS %ld kB\n", cpu, hwm);
    hostd->stop();

    auto l = reader();
    std::size_t checked = 0;
    for (int i = 0; i < total; ++i) {
        auto t = l.timeline(name(i));
        ASSERT_TRUE(t);
        if (!seen.count(i)) {
            continue; // came and went while no service ran: nobody saw it
        }
        ASSERT_FALSE(t->empty()) << name(i) << " lost";
        EXPECT_EQ(
            std::count_if(t->begin(), t->end(), [](auto& e) { return e.kind == "domain-start"; }),
            1)
            << name(i) << " started twice";
        const auto end =
            std::find_if(t->begin(), t->end(), [](auto& e) { return e.kind == "domain-end"; });
        if (destroyed[i]) {
            ASSERT_NE(end, t->end()) << name(i) << ": its end was lost";
            const char* want[] = {"poweroff", "reboot", "suspend", "crash"};
            EXPECT_EQ(end->text, want[reason(i)]) << name(i);
        } else {
            EXPECT_EQ(end, t->end()) << name(i) << " recorded as ended but runs";
        }
        ++checked;
    }
    std::printf("%zu of %d domains checked against the ledger (the rest came and went while no "
                "service ran)\n",
                checked, total);
    EXPECT_GT(checked, 1500u);
    std::sort(latency_ms.begin(), latency_ms.end());
    ASSERT_FALSE(latency_ms.empty());
    std::printf("XS_INTRODUCE -> ledger (%zu samples): median %.2f ms, p99 %.2f ms\n",
                latency_ms.size(), latency_ms[latency_ms.size() / 2],
                latency_ms[latency_ms.size() * 99 / 100]);
}

// The real service finds a guest's kernel in its console log where
// --console-log-dir says xenconsoled writes it, on its own timer.
TEST(HostdProcess, FindsTheBannerInTheConsoleLogDir) {
    TestXenstored xsd;
    test::TempDir dir;
    Toolstack ts(xsd, dir.path() / "xen");
    const std::string ledger_path = (dir.path() / "ledger.sqlite").string();
    const auto consoles = dir.path() / "consoles";
    std::filesystem::create_directories(consoles);
    Hostd hostd(xsd.control_socket(), ledger_path, ts.log_dir().string(),
                (dir.path() / "hostd.log").string(), {"--console-log-dir", consoles.string()});
    ASSERT_TRUE(wait_until([&] { return ledger::Ledger::open_read_only(ledger_path).ok(); },
                           std::chrono::seconds(10)));
    // Past the service's first look: this domain is seen appearing.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ts.create(3, Toolstack::uuid_of(3), "web1");
    // What guardian-host would read now.
    const auto seen = [&]() -> std::optional<ledger::Ledger::DomainKernel> {
        auto l = ledger::Ledger::open_read_only(ledger_path);
        if (!l)
            return std::nullopt;
        auto k = l->domain_kernel(3);
        return k ? *k : std::nullopt;
    };
    ASSERT_TRUE(
        wait_until([&] { return seen() && seen()->console_offset; }, std::chrono::seconds(10)))
        << tail_of((dir.path() / "hostd.log").string());
    std::ofstream(consoles / "guest-web1.log")
        << "[    0.000000] Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org) (gcc-12 "
           "(Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)\n"
           "[    0.000000] Command line: root=/dev/xvda ro console=hvc0\n";
    EXPECT_TRUE(wait_until([&] { return seen() && seen()->kernel == "6.1.0-13-amd64"; },
                           std::chrono::seconds(30)))
        << tail_of((dir.path() / "hostd.log").string());
}

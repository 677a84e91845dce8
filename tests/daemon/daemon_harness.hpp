// A stage for guardiand scenarios: a running guardian-test-xenstored with a
// guest (domid 7) that has one vbd on blkback, dom0's control connection to
// play the toolstack (restore as another domid, onto another backend), a
// fake system root whose /proc, /sys and /dev are the real ones but whose
// /etc/guardian and /run, /var/lib are the test's own, and clocks the test
// moves by hand.
#pragma once

#include "guardian/daemon/timers.hpp"
#include "guardian/protect/ports.hpp"
#include "guardian/sys/clocks.hpp"
#include "guardian/xen/xenstore.hpp"
#include "tests/support/test_env.hpp"

#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace guardian::test {

class TestXenstored {
public:
    TestXenstored(); // starts the server, domid 7
    ~TestXenstored();
    TestXenstored(const TestXenstored&) = delete;
    TestXenstored& operator=(const TestXenstored&) = delete;

    [[nodiscard]] const std::string& guest_socket() const { return m_guest; }
    // A client connected as the guest / as dom0.
    [[nodiscard]] std::unique_ptr<xen::XenStore> connect_guest() const;
    [[nodiscard]] xen::XenStore& dom0() { return *m_dom0; }

    // Writes domain `domid`'s vbd 51712 with its backend under
    // /local/domain/0/backend/<kind>/<domid>/51712 ("vbd" = blkback, "qdisk").
    // The frontend's xenbus state is `frontend_state` ("4" = Connected).
    void populate(unsigned domid, const std::string& kind,
                  const std::map<std::string, std::string>& features,
                  const std::string& frontend_state = "4");
    // The toolstack restores the guest as `domid` (xs_resume: watches re-fire).
    void restore_as(unsigned domid);
    [[nodiscard]] std::string read(const std::string& abs_path);

    static std::map<std::string, std::string> blkback_features();
    static std::map<std::string, std::string> qdisk_features();

private:
    TempDir m_dir;
    std::string m_guest;
    std::string m_control;
    pid_t m_pid = -1;
    std::unique_ptr<xen::XenStore> m_dom0;
};

// /proc, /sys, /dev are links to the real ones; etc/, run/, var/ are ours.
class FakeRoot {
public:
    FakeRoot();
    [[nodiscard]] std::string path() const { return m_dir.path().string(); }
    void write_config(const std::string& text);

private:
    TempDir m_dir;
};

class ManualClocks final : public Clocks {
public:
    // As SystemClocks reads them on this kernel: without CLOCK_BOOTTIME (an
    // emulated 2.6.32, tests/oldkernel) boottime is monotonic.
    ClockSample now() override {
        ClockSample s = m_now;
        if (!boottime_available()) {
            s.boottime = s.monotonic;
            s.boottime_known = false;
        }
        return s;
    }
    void advance(std::chrono::nanoseconds d) {
        m_now.realtime += d;
        m_now.monotonic += d;
        m_now.boottime += d;
    }
    // What a Xen restore does: BOOTTIME and REALTIME jump, MONOTONIC does not.
    void suspend_for(std::chrono::nanoseconds d) {
        m_now.realtime += d;
        m_now.boottime += d;
    }
    // An NTP step: REALTIME only.
    void step_realtime(std::chrono::nanoseconds d) { m_now.realtime += d; }

private:
    ClockSample m_now{std::chrono::seconds(1'700'000'000), std::chrono::seconds(1000),
                      std::chrono::seconds(1000)};
};

class ManualTimers final : public daemon::Timers {
public:
    void set(daemon::TimerSlot slot, std::chrono::nanoseconds from_now,
             std::function<void()> cb) override {
        m_pending[slot] = std::move(cb);
        m_after[slot] = from_now;
    }
    // How far ahead the slot was last set.
    [[nodiscard]] std::chrono::nanoseconds after(daemon::TimerSlot slot) const {
        auto it = m_after.find(slot);
        return it == m_after.end() ? std::chrono::nanoseconds(-1) : it->second;
    }
    void cancel(daemon::TimerSlot slot) override { m_pending.erase(slot); }
    [[nodiscard]] bool pending(daemon::TimerSlot slot) const { return m_pending.contains(slot); }
    void fire(daemon::TimerSlot slot) {
        auto it = m_pending.find(slot);
        if (it == m_pending.end())
            return;
        auto cb = std::move(it->second);
        m_pending.erase(it);
        cb();
    }

private:
    std::map<daemon::TimerSlot, std::function<void()>> m_pending;
    std::map<daemon::TimerSlot, std::chrono::nanoseconds> m_after;
};

class RecordingRebooter final : public protect::Rebooter {
public:
    [[nodiscard]] Status reboot_now() override {
        ++calls;
        if (fail)
            return Error{"reboot(RB_AUTOBOOT): Operation not permitted"};
        return ok_status();
    }
    int calls = 0;
    bool fail = false; // the reboot "did not start": the sequence goes on
};

// Counts the stops and continues; `on_stop` sees the world at the stop.
class RecordingHalter final : public protect::ProcessHalter {
public:
    [[nodiscard]] Status stop_others() override {
        ++stops;
        if (on_stop)
            on_stop();
        return ok_status();
    }
    [[nodiscard]] Status continue_others() override {
        ++continues;
        return ok_status();
    }
    int stops = 0;
    int continues = 0;
    std::function<void()> on_stop;
};

// The real guardiand process (GUARDIAND) on a system root, talking to the
// test xenstored at `xenstored_socket` ("": none, as off Xen); SIGTERM and
// a wait when it goes out of scope.
class Guardiand {
public:
    Guardiand(const std::string& root, const std::string& xenstored_socket,
              const std::vector<std::pair<std::string, std::string>>& env = {});
    Guardiand(const Guardiand&) = delete;
    Guardiand& operator=(const Guardiand&) = delete;
    ~Guardiand();
    void kill9();
    // SIGTERM and the wait status.
    int terminate();
    // Whether it still runs (reaps it when it has exited).
    [[nodiscard]] bool running();

private:
    pid_t m_pid = -1;
};

// Polls `fd` and calls `pump` until `done()` or the timeout; false on timeout.
bool pump_until(int fd, const std::function<void()>& pump, const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));

} // namespace guardian::test

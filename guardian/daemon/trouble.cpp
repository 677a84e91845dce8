// The Daemon's side of the kernel trouble watch (trouble_watch.hpp): every
// record the kmsg reader drains is fed to it; a timer ends an open report
// when the log goes quiet (armed only while a report is open, so a quiet
// /dev/kmsg costs no wakeup); the heartbeat keeps "last alive" in the boot
// history; the end of the boot is recorded at shutdown and before
// guardian's own emergency reboot.
#include "guardian/daemon/daemon.hpp"

#include "guardian/core/trouble_sources.hpp"
#include "guardian/hooks/hook_runner.hpp"
#include "guardian/sys/kernel_info.hpp"

#include <algorithm>
#include <filesystem>

namespace guardian::daemon {
namespace {

// A report's lines come within microseconds; a second of silence after its
// last line means it is complete (the assembler's own quiet gap is 2 s of
// the records' timestamps, which only a next record can show).
constexpr std::chrono::seconds k_flush_after{2};

// Whether SIGTERM means the system is going down (an orderly end of the
// boot) rather than guardiand alone being stopped. Under systemd the
// manager says so itself: `systemctl is-system-running` prints "stopping"
// once shutdown.target's jobs run (systemctl(1)); a guardiand stopped or
// restarted by hand sees "running" or "degraded" and records nothing. Without
// systemd (SysV init stops daemons only at a runlevel change) SIGTERM
// counts as the system going down.
bool system_going_down(const SystemRoot& root) {
    std::error_code ec;
    if (!std::filesystem::exists(root.path("/run/systemd/system"), ec))
        return true;
    for (const char* exe : {"/usr/bin/systemctl", "/bin/systemctl"}) {
        if (!std::filesystem::exists(exe, ec))
            continue;
        hooks::HookOptions o;
        o.timeout = std::chrono::seconds(5);
        o.output_limit = 4096;
        const auto r = hooks::run_program({exe, "is-system-running"}, o);
        return r.output.starts_with("stopping");
    }
    return false;
}

} // namespace

void Daemon::start_trouble_watch(const std::vector<MountEntry>& mounts) {
    TroubleWatchSettings ts;
    ts.risk_table = m_settings.config.risk_table;
    ts.kernel_release = m_settings.kernel.release;
    ts.distribution = m_settings.distribution;
    ts.previous_journal = m_settings.previous_journal;
    ts.journal_dir = m_settings.previous_journal_dir;
    m_trouble = std::make_unique<TroubleWatch>(*m_ports.log, *m_ports.clocks, m_ports.root, ts);
    m_trouble->start(guest_conditions(mounts, sys::read_guest_shape(m_ports.root)));
    // What the ring holds of this boot so far (an oops during boot, before
    // guardiand ran); a guardiand restarted within the boot saw it already.
    if (m_kmsg) {
        auto backlog = m_kmsg->drain();
        if (backlog && m_trouble->first_start_in_boot()) {
            (void)m_trouble->feed(*backlog, may_write());
            // The backlog's last report ends by the flush timer too: the
            // ring may stay quiet after it (tests/package/deb-nspawn-test).
            arm_trouble_flush();
        }
    }
    arm_heartbeat();
}

bool Daemon::may_write() const noexcept {
    return !m_freeze.has_value() && m_state != contract::DaemonState::incident;
}

void Daemon::feed_trouble(const std::vector<KmsgRecord>& records) {
    if (!m_trouble)
        return;
    const auto events = m_trouble->feed(records, may_write());
    arm_trouble_flush();
    if (!events.empty()) {
        publish();
        persist();
    }
}

void Daemon::arm_trouble_flush() {
    if (m_trouble->report_open()) {
        // Re-armed on every batch: fires k_flush_after after the last one.
        m_ports.timers->set(TimerSlot::trouble_flush, k_flush_after,
                            [this] { on_trouble_flush(); });
        m_flush_armed = true;
    } else if (m_flush_armed) {
        m_ports.timers->cancel(TimerSlot::trouble_flush);
        m_flush_armed = false;
    }
}

void Daemon::on_trouble_flush() {
    m_flush_armed = false;
    if (!m_trouble)
        return;
    if (!m_trouble->flush(may_write()).empty()) {
        publish();
        persist();
    }
}

void Daemon::arm_heartbeat() {
    const auto interval = m_settings.config.heartbeat;
    if (!m_trouble || interval.count() <= 0)
        return;
    m_ports.timers->set(TimerSlot::heartbeat, interval, [this] {
        (void)m_trouble->heartbeat(m_settings.config.heartbeat, frozen(),
                                   m_state == contract::DaemonState::incident);
        arm_heartbeat();
    });
}

void Daemon::record_end_at_shutdown() {
    if (!m_trouble || m_state == contract::DaemonState::incident || frozen())
        return;
    if (system_going_down(m_ports.root))
        m_trouble->end_boot(BootEnd::orderly);
    else
        (void)m_trouble->record_alive();
}

void Daemon::record_emergency_end(const VerdictResult& result) {
    if (!m_trouble)
        return;
    // Only where it cannot touch a suspect disk: the state directory must lie
    // on a filesystem that is not affected (the guarded filesystem with the
    // longest mount point above it decides; none: not a guarded one).
    const std::string dir = m_ports.root.path(m_settings.state_dir);
    const GuardedFs* holder = nullptr;
    for (const auto& fs : m_fs) {
        const std::string& mp = fs.mount.mount_point;
        const bool above = dir == mp || dir.starts_with(mp == "/" ? mp : mp + "/");
        if (above && (holder == nullptr || mp.size() > holder->mount.mount_point.size()))
            holder = &fs;
    }
    if (holder != nullptr &&
        std::find(result.affected_devices.begin(), result.affected_devices.end(),
                  holder->mount.source) != result.affected_devices.end()) {
        m_ports.log->notice("boot history: the emergency reboot is not recorded (" +
                            m_settings.state_dir + " is on an affected filesystem)");
        return;
    }
    m_trouble->end_boot(BootEnd::emergency_reboot);
}

std::vector<PartStatus> Daemon::parts() const {
    std::vector<PartStatus> out;
    if (m_ports.xs)
        out.push_back({"restore watch", true, "xenstore watches, clock changes"});
    else
        out.push_back({"restore watch", false,
                       "not a Xen guest (no xenstore): only the systemd-sleep hook and clock "
                       "changes"});
    if (m_ports.xs)
        out.push_back({"coordinated freeze", true, "dom0 requests in data/guardian/request"});
    else
        out.push_back({"coordinated freeze", false, "not a Xen guest: no provider to request it"});
    out.push_back({"xenstore report", m_ports.xs != nullptr,
                   m_ports.xs ? "data/guardian/" : "not a Xen guest: journal and state file only"});
    if (m_fs.empty())
        out.push_back({"filesystem checks", false, "no filesystem to guard"});
    else
        out.push_back({"filesystem checks", true,
                       std::to_string(m_fs.size()) + " filesystem(s), baseline every " +
                           format_duration(m_settings.config.baseline_refresh)});
    if (m_kmsg)
        out.push_back(
            {"kernel trouble watch", true, "kernel log via " + std::string(m_kmsg->method())});
    else
        out.push_back({"kernel trouble watch", false, "no kernel log (/dev/kmsg unreadable)"});
    if (m_trouble) {
        for (auto& p : m_trouble->parts())
            out.push_back(std::move(p));
        const auto hb = m_settings.config.heartbeat;
        if (hb.count() > 0)
            out.push_back({"heartbeat", may_write(),
                           may_write() ? "every " + format_duration(hb)
                                       : std::string("paused (frozen or after a critical "
                                                     "verdict)")});
        else
            out.push_back({"heartbeat", false, "heartbeat = 0"});
    }
    return out;
}

} // namespace guardian::daemon

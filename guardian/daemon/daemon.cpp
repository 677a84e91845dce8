#include "guardian/daemon/daemon.hpp"

#include "guardian/core/findings_json.hpp"
#include "guardian/core/guard_selection.hpp"
#include "guardian/core/message_ids.hpp"
#include "guardian/daemon/state_file.hpp"
#include "guardian/ext4/scan.hpp"
#include "guardian/sys/mounts.hpp"
#include "guardian/util/time_format.hpp"

#include <fmt/format.h>

namespace guardian::daemon {

Daemon::Daemon(DaemonPorts ports, DaemonSettings settings)
    : m_ports(std::move(ports)), m_settings(std::move(settings)) {}

Daemon::~Daemon() = default;

std::vector<std::string> Daemon::mount_points() const {
    std::vector<std::string> out;
    for (const auto& fs : m_fs)
        out.push_back(fs.mount.mount_point);
    return out;
}

Status Daemon::start() {
    Logger& log = *m_ports.log;
    GUARDIAN_TRY_ASSIGN(auto mounts, sys::read_mounts(m_ports.root));
    const auto chosen =
        select_guarded(sys::mounted_ext_filesystems(mounts), m_settings.config.guard,
                       m_settings.config.skip, m_ports.xs != nullptr);
    for (const auto& m : chosen)
        m_fs.push_back(GuardedFs{m, {}, 0, std::nullopt, std::nullopt, std::nullopt, {}});
    if (m_fs.empty())
        log.warning("no filesystem to guard (guard/skip settings, or no ext4 on a "
                    "xvd device): only the block protocol is watched");
    // Before the baseline, whose methods line names how the log is read.
    if (auto k = sys::KmsgReader::open(m_ports.root); k)
        m_kmsg.emplace(std::move(k).value());
    else
        log.warning("kernel log: " + k.error().message + "; no kmsg window after restores");
    GUARDIAN_TRY(take_baseline());

    if (auto w = protect::KmsgWriter::open(m_ports.root); w)
        m_kmsg_writer.emplace(std::move(w).value());

    if (m_ports.xs) {
        m_watch = std::make_unique<RestoreWatch>(
            *m_ports.xs, *m_ports.clocks, log, m_ports.root,
            RestoreWatchSettings{m_settings.version, m_settings.kernel.release, m_settings.verdict,
                                 m_settings.detector});
        m_watch->on_restore = [this](const RestoreEvent& ev) { on_restore(ev); };
        m_watch->on_other_event = [this](const xen::WatchEvent& ev) { on_other_event(ev); };
        GUARDIAN_TRY(m_watch->start());
        // The provider's coordinated-freeze requests arrive here (dom0 writes
        // into the guest's own data/guardian/).
        GUARDIAN_TRY(m_ports.xs->watch("data/guardian/request", "request"));
    }
    set_state("watching");
    arm_baseline_refresh();
    log.log(Priority::notice,
            fmt::format("guardiand {} started: guarding {} filesystem(s), kernel {} suspend {}",
                        m_settings.version, m_fs.size(), m_settings.kernel.release,
                        to_string(m_settings.verdict.safety)),
            {{"MESSAGE_ID", std::string(message_id::daemon_started)}});
    return ok_status();
}

Result<ext4::ScanResult> Daemon::scan(const GuardedFs& fs, CheckMode mode, bool fingerprint) {
    ext4::ScanOptions o;
    o.path = fs.mount.source;
    o.mode = mode;
    o.fingerprint = fingerprint;
    // The guest's memory is the customer's: a smaller window than
    // guardianctl's default, still enough reads in flight to finish a
    // post-restore check in well under a second.
    o.queue_depth = 16;
    o.memory_budget = 16u << 20;
    return ext4::scan(o);
}

Status Daemon::take_baseline() {
    Logger& log = *m_ports.log;
    for (auto& fs : m_fs) {
        // Geometry is always recorded; digests of a live filesystem mean nothing.
        auto scan = Daemon::scan(fs, CheckMode::live, /*fingerprint=*/false);
        if (!scan)
            return Error{"baseline of " + fs.mount.source + ": " + scan.error().message,
                         scan.error().code};
        fs.baseline = std::move(scan->fingerprint);
        fs.errors_count = read_errors_count(fs);
        if (m_settings.config.force_fsck) {
            protect::PlanOptions po;
            po.force_kernel_error_path = m_settings.force_kernel_error_path;
            auto plan =
                protect::plan_fsck_mark(fs.mount.source, fs.mount.mount_point, m_ports.root, po);
            if (plan && !plan->note.empty())
                log.notice("fsck mark for " + fs.mount.source + ": " + plan->note);
            if (plan)
                fs.fsck_plan.emplace(std::move(plan).value());
            else
                log.warning("fsck mark for " + fs.mount.source +
                            " cannot be prepared: " + plan.error().message);
        }
        plan_methods(fs);
        log.log(Priority::info,
                fmt::format("baseline of {} on {} ({} {})", fs.mount.source, fs.mount.mount_point,
                            fs.baseline.identity.type, fs.baseline.identity.uuid),
                {{"MESSAGE_ID", std::string(message_id::baseline_taken)},
                 {"GUARDIAN_DEVICE", fs.mount.source},
                 {"GUARDIAN_FS_UUID", fs.baseline.identity.uuid}});
    }
    report_methods();
    return ok_status();
}

bool Daemon::calm() const noexcept {
    return m_state == "watching" && !m_freeze && !m_window && !m_incident;
}

void Daemon::arm_baseline_refresh() {
    m_ports.timers->set(TimerSlot::baseline_refresh, m_settings.config.baseline_refresh,
                        [this] { refresh_baseline("periodic"); });
}

void Daemon::refresh_baseline(const char* why) {
    if (calm()) {
        // A failed refresh keeps the previous baseline: still a true record
        // of an earlier moment, and better than none.
        if (auto st = take_baseline(); !st)
            m_ports.log->warning(std::string("baseline refresh (") + why +
                                 "): " + st.error().message);
        else
            persist();
    }
    arm_baseline_refresh();
}

void Daemon::set_state(std::string state) {
    m_state = std::move(state);
    if (m_watch)
        m_watch->set_state(m_state);
    publish();
    persist();
}

void Daemon::publish() {
    if (!m_watch)
        return;
    if (auto st = m_watch->publish(); !st)
        m_ports.log->warning("publishing data/guardian: " + st.error().message);
    publish_methods();
}

void Daemon::persist() {
    StateSnapshot s;
    s.state = m_state;
    s.kernel = m_settings.kernel.release;
    s.suspend_safety = std::string(to_string(m_settings.verdict.safety));
    s.suspend_reason = m_settings.verdict.reason;
    for (const auto& fs : m_fs)
        s.filesystems.push_back({fs.mount.source, fs.mount.mount_point, fs.baseline.identity.uuid});
    if (m_watch && m_watch->last_restore())
        s.last_restore = iso8601_utc(m_watch->last_restore()->realtime) + " " +
                         m_watch->last_restore()->decision.signal_list();
    if (!m_verifications.empty())
        s.last_verification = m_verifications.back();
    s.incident = m_incident;
    // /run is tmpfs: safe to write while filesystems are frozen.
    if (auto st = write_state_file(m_ports.root.path(m_settings.run_dir + "/state.json"), s); !st)
        m_ports.log->debug("state file: " + st.error().message);
}

void Daemon::on_xenstore_readable() {
    if (m_watch)
        m_watch->on_xenstore_readable();
    if (m_watch && m_watch->settling())
        m_ports.timers->set(TimerSlot::settle, std::chrono::seconds(10),
                            [this] { m_watch->on_settle_timeout(); });
}

void Daemon::on_clock_set() {
    if (m_watch)
        m_watch->on_clock_set();
}

void Daemon::on_other_event(const xen::WatchEvent& ev) {
    if (ev.token != "request" || !m_ports.xs)
        return;
    auto value = m_ports.xs->read("data/guardian/request");
    if (!value || value->empty())
        return; // removed, or the registration firing with nothing there
    handle_request(*value);
}

void Daemon::on_sleep_hook(bool post) {
    if (!post) {
        // The last moment before the sleep: compare the resume with it.
        m_ports.log->info("systemd-sleep: going to sleep; refreshing the baseline");
        refresh_baseline("before sleep");
        return;
    }
    RestoreEvent ev;
    ev.decision.restored = true;
    ev.decision.evidence.push_back("systemd-sleep post hook (ACPI resume)");
    ev.realtime = m_ports.clocks->now().realtime;
    on_restore(ev);
}

void Daemon::shutdown() {
    if (m_freeze)
        end_freeze("stopped");
    close_kmsg_window();
    set_state("stopped");
}

} // namespace guardian::daemon

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
namespace {
constexpr const char* k_tok_request = "request"; // the watch on data/guardian/request
} // namespace

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
        m_fs.push_back(GuardedFs{m, {}, 0, std::nullopt, {}, false, {}});
    if (m_fs.empty())
        log.warning("no filesystem to guard (guard/skip settings, or no ext4 on a "
                    "xvd device): only the block protocol is watched");
    // Before the baseline, whose methods line names how the log is read.
    // From the start of the ring: the trouble watch takes what this boot
    // logged before guardiand ran (trouble.cpp), the first time in a boot.
    if (auto k = sys::KmsgReader::open(m_ports.root, /*from_start=*/true); k)
        m_kmsg.emplace(std::move(k).value());
    else
        log.warning("kernel log: " + k.error().message +
                    "; no kmsg window after restores, no kernel trouble watch");
    start_trouble_watch(mounts);
    GUARDIAN_TRY(take_baseline());

    if (auto w = protect::KmsgWriter::open(m_ports.root); w)
        m_kmsg_writer.emplace(std::move(w).value());

    if (m_ports.xs) {
        m_publisher.emplace(*m_ports.xs);
        m_watch = std::make_unique<RestoreWatch>(
            *m_ports.xs, *m_ports.clocks, log, m_ports.root,
            RestoreWatchSettings{m_settings.version, m_settings.kernel.release, m_settings.verdict,
                                 m_settings.detector},
            *m_publisher, *m_ports.timers);
        m_watch->on_restore = [this](const RestoreEvent& ev) { on_restore(ev); };
        m_watch->on_other_event = [this](const xen::WatchEvent& ev) { on_other_event(ev); };
        GUARDIAN_TRY(m_watch->start());
    }
    // The first report says "watching": the block-protocol watches are set.
    dispatch(machine::EventKind::started);
    if (m_watch) {
        GUARDIAN_TRY(m_watch->watch_publication());
        // The provider's coordinated-freeze requests arrive here (dom0 writes
        // into the guest's own data/guardian/).
        GUARDIAN_TRY(
            m_ports.xs->watch(contract::node_path(contract::node::request), k_tok_request));
    }
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
        prepare_protection(fs);
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

void Daemon::arm_baseline_refresh() {
    m_ports.timers->set(TimerSlot::baseline_refresh, m_settings.config.baseline_refresh, [this] {
        EventData d;
        d.why = "periodic";
        dispatch(machine::Event{machine::EventKind::baseline_due, Verdict::healthy, false}, d);
    });
}

void Daemon::refresh_baseline(const char* why) {
    // A failed refresh keeps the previous baseline: still a true record of
    // an earlier moment, and better than none.
    if (auto st = take_baseline(); !st)
        m_ports.log->warning(std::string("baseline refresh (") + why + "): " + st.error().message);
    else
        persist();
}

ReportInput Daemon::report() const {
    ReportInput in;
    in.version = m_settings.version;
    in.state = m_state;
    in.kernel = m_settings.kernel.release;
    in.distribution = m_settings.distribution;
    in.verdict = m_settings.verdict;
    if (m_watch) {
        in.vbds = m_watch->baseline().vbds;
        if (const auto& last = m_watch->last_restore())
            in.last_restore =
                RestoreRecord{last->realtime, last->decision.signal_list(), last->changes};
    }
    in.last_verification = m_last_verification;
    if (m_trouble)
        in.trouble = m_trouble->report();
    in.updated = m_ports.clocks->now().realtime;
    return in;
}

void Daemon::publish() {
    if (!m_publisher)
        return;
    if (auto st = m_publisher->publish(report()); !st)
        m_ports.log->warning("publishing data/guardian: " + st.error().message);
    publish_methods();
}

void Daemon::persist() {
    StateSnapshot s;
    s.state = std::string(contract::to_string(m_state));
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
    if (m_trouble) {
        s.kernel_trouble = m_trouble->snapshot();
        s.kernel_trouble->kmsg_method = m_kmsg ? std::string(m_kmsg->method()) : "none";
    }
    s.parts = parts();
    // /run is tmpfs: safe to write while filesystems are frozen.
    if (auto st = write_state_file(m_ports.root.path(m_settings.run_dir + "/state.json"), s); !st)
        m_ports.log->debug("state file: " + st.error().message);
}

void Daemon::on_xenstore_readable() {
    if (m_watch)
        m_watch->on_xenstore_readable();
}

void Daemon::on_clock_set() {
    if (m_watch)
        m_watch->on_clock_set();
}

void Daemon::on_other_event(const xen::WatchEvent& ev) {
    if (ev.token != k_tok_request || !m_ports.xs)
        return;
    auto value = m_ports.xs->read(contract::node_path(contract::node::request));
    if (!value || value->empty())
        return; // removed, or the registration firing with nothing there
    handle_request(*value);
}

void Daemon::on_sleep_hook(bool post) {
    if (!post) {
        // The last moment before the sleep: compare the resume with it.
        m_ports.log->info("systemd-sleep: going to sleep; refreshing the baseline");
        EventData d;
        d.why = "before sleep";
        dispatch(machine::Event{machine::EventKind::sleep_pre, Verdict::healthy, false}, d);
        return;
    }
    RestoreEvent ev;
    ev.decision.restored = true;
    ev.decision.evidence.push_back("systemd-sleep post hook (ACPI resume)");
    ev.realtime = m_ports.clocks->now().realtime;
    on_restore(ev);
}

void Daemon::shutdown() {
    EventData d;
    d.thaw_outcome = contract::thaw_outcome::stopped;
    dispatch(machine::Event{machine::EventKind::stop_signal, Verdict::healthy, false}, d);
    // After the thaw: a frozen filesystem would block the write.
    record_end_at_shutdown();
}

} // namespace guardian::daemon

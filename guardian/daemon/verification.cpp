// Verification after a restore, fastest first (docs/design.md "The daemon's
// event flow"): the block-protocol judgement arrives with the restore event;
// then per guarded filesystem the static geometry and the live checksums
// (or, frozen, the byte-exact comparison); then a window of kernel-log
// watching, during which a signature still turns the verdict critical.
#include "guardian/daemon/daemon.hpp"

#include "guardian/core/message_ids.hpp"
#include "guardian/daemon/state_file.hpp"
#include "guardian/ext4/scan.hpp"
#include "guardian/hooks/hook_runner.hpp"

#include <fmt/format.h>

namespace guardian::daemon {
namespace {

std::string_view verdict_message_id(Verdict v) {
    switch (v) {
    case Verdict::healthy:
        return message_id::verification_healthy;
    case Verdict::warning:
        return message_id::verification_warning;
    case Verdict::critical:
        return message_id::verification_critical;
    }
    return message_id::verification_warning;
}

FsEvidence evidence_for(const GuardedFs& fs) {
    FsEvidence e; // checked stays false until a scan ran
    e.device = fs.mount.source;
    e.mount_point = fs.mount.mount_point;
    e.uuid = fs.baseline.identity.uuid;
    return e;
}

} // namespace

void Daemon::on_restore(const RestoreEvent& ev) {
    // A restore does not carry data/ over: the machine has every node (the
    // methods too) written again before the verification starts.
    EventData d;
    d.restore = &ev;
    machine::Event e{machine::EventKind::restore_detected, Verdict::healthy, false};
    e.writes_unsafe = ev.judgement.writes_unsafe;
    dispatch(e, d);
}

void Daemon::verify(const RestoreEvent& ev) {
    // Logged here, not when the restore is noticed: after a restore that
    // left the block path writing wrong data the machine stops every other
    // process first, journald included, so this line is not written to disk.
    const std::string signals =
        ev.decision.signals.empty()
            ? (ev.decision.evidence.empty() ? std::string("unknown") : ev.decision.evidence.front())
            : ev.decision.signal_list();
    m_ports.log->log(
        Priority::notice,
        "restore detected: " + signals + "; verifying " + std::to_string(m_fs.size()) +
            " filesystem(s)",
        {{"MESSAGE_ID", std::string(message_id::restore_detected)}, {"GUARDIAN_SIGNALS", signals}});
    const bool coordinated = m_freeze.has_value();
    m_detected_at = m_ports.clocks->now();
    m_timing = VerificationTiming{};
    m_timing->detected_realtime = m_detected_at.realtime;
    VerdictInput in;
    in.features = ev.judgement;
    // The block-protocol judgement came with the event: known now.
    m_timing->features = m_ports.clocks->now().monotonic - m_detected_at.monotonic;
    // A critical block-protocol verdict needs no disk reads to act on, and
    // every read through a suspect protocol is one more chance of damage.
    if (in.features.severity != FeatureChangeSeverity::critical)
        for (auto& fs : m_fs)
            in.filesystems.push_back(verify_fs(fs, coordinated));
    else
        for (const auto& fs : m_fs)
            in.filesystems.push_back(evidence_for(fs)); // not read
    conclude(std::move(in), coordinated);
}

FsEvidence Daemon::verify_fs(GuardedFs& fs, bool coordinated) {
    FsEvidence e = evidence_for(fs);
    // Frozen, the on-disk metadata is exactly stable: check everything and
    // digest everything. Otherwise only what a live filesystem can vouch for.
    const bool frozen = coordinated && fs.frozen.has_value();
    const CheckMode mode = frozen ? CheckMode::stable : CheckMode::live;
    if (m_timing && !m_timing->first_read)
        m_timing->first_read = m_ports.clocks->now().monotonic - m_detected_at.monotonic;
    auto scan = Daemon::scan(fs, mode, /*fingerprint=*/frozen);
    if (!scan) {
        e.scan_error = scan.error().message;
        return e;
    }
    e.checked = true;
    e.geometry = compare_geometry(fs.baseline, scan->fingerprint);
    if (m_settings.config.verify_live_checksums || mode == CheckMode::stable)
        e.findings = scan->report.findings;
    if (frozen) {
        e.frozen_compared = true;
        e.frozen_diff = compare(*fs.frozen, scan->fingerprint);
    }
    const unsigned long now_errors = read_errors_count(fs);
    e.errors_count_growth = now_errors > fs.errors_count ? now_errors - fs.errors_count : 0;
    return e;
}

void Daemon::conclude(VerdictInput input, bool coordinated) {
    Logger& log = *m_ports.log;
    VerificationOutcome out;
    out.realtime = m_ports.clocks->now().realtime;
    out.result = judge(input);
    out.evidence = input.filesystems;
    out.coordinated = coordinated;
    m_verifications.push_back(out);
    std::string timing;
    if (m_timing) {
        // A later conclusion (the kmsg window) keeps the first one's start.
        m_timing->verdict = m_ports.clocks->now().monotonic - m_detected_at.monotonic;
        timing = m_timing->describe();
    }
    m_last_verification = VerificationRecord{
        out.realtime, std::string(to_string(out.result.verdict)), out.result.summary(), timing};
    const Priority prio = out.result.verdict == Verdict::critical  ? Priority::crit
                          : out.result.verdict == Verdict::warning ? Priority::warning
                                                                   : Priority::notice;
    log.log(prio,
            fmt::format("verification {}: {}", to_string(out.result.verdict), out.result.summary()),
            {{"MESSAGE_ID", std::string(verdict_message_id(out.result.verdict))},
             {"GUARDIAN_VERDICT", std::string(to_string(out.result.verdict))},
             {"GUARDIAN_TIMING", timing}});
    for (std::size_t i = 1; i < out.result.reasons.size(); ++i)
        log.info("  also: " + out.result.reasons[i]);

    EventData d;
    d.input = &input;
    d.result = &out.result;
    d.thaw_outcome = to_string(out.result.verdict);
    dispatch(machine::Event{machine::EventKind::verified, out.result.verdict, coordinated}, d);
    // Halted at the restore, and still here: the verdict did not end in a
    // reboot (protect() continues them itself when its reboot failed).
    if (m_halted)
        continue_processes(nullptr);
}

void Daemon::open_kmsg_window(VerdictInput input) {
    if (!m_kmsg || m_settings.config.kmsg_window.count() == 0)
        return;
    (void)m_kmsg->drain(); // what was logged before the verdict was already judged
    m_window = std::move(input);
    m_ports.timers->set(TimerSlot::kmsg_window_end, m_settings.config.kmsg_window,
                        [this] { dispatch(machine::EventKind::window_end); });
}

void Daemon::close_kmsg_window() {
    if (!m_window)
        return;
    // A last look at the ext4 error counters, which may have grown without a
    // kernel-log line we recognised.
    VerdictInput in = std::move(*m_window);
    m_window.reset();
    m_ports.timers->cancel(TimerSlot::kmsg_window_end);
    bool grew = false;
    for (auto& e : in.filesystems) {
        for (auto& fs : m_fs) {
            if (fs.mount.source != e.device)
                continue;
            const unsigned long now = read_errors_count(fs);
            if (now > fs.errors_count) {
                e.errors_count_growth = now - fs.errors_count;
                grew = true;
            }
        }
    }
    if (grew)
        conclude(std::move(in), false);
}

void Daemon::on_kmsg_readable() {
    if (!m_kmsg)
        return;
    auto records = m_kmsg->drain();
    if (!records)
        return;
    feed_trouble(*records);
    if (!m_window)
        return; // outside a window the kernel log is not ours to judge
    bool hit = false;
    for (const auto& r : *records)
        // Only the kernel's own lines: a process writing /dev/kmsg must not
        // be able to set off an emergency.
        if (auto m = r.facility == 0 ? classify_kmsg(r.message) : std::nullopt) {
            m_ports.log->warning("kernel log after restore: " + r.message);
            m_window->kmsg.push_back(*m);
            hit = true;
        }
    if (hit)
        dispatch(machine::EventKind::kmsg_signature);
}

void Daemon::judge_window() {
    VerdictInput in = std::move(*m_window);
    m_window.reset();
    m_ports.timers->cancel(TimerSlot::kmsg_window_end);
    conclude(std::move(in), false);
}

int Daemon::kmsg_fd() const noexcept {
    return m_kmsg ? m_kmsg->fd() : -1;
}

} // namespace guardian::daemon

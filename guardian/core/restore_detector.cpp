#include "guardian/core/restore_detector.hpp"

#include <algorithm>
#include <cstdio>

namespace guardian {
namespace {

std::string seconds(std::chrono::nanoseconds d) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3f s", static_cast<double>(d.count()) / 1e9);
    return buf;
}

std::chrono::nanoseconds abs_ns(std::chrono::nanoseconds d) {
    return d < d.zero() ? -d : d;
}

} // namespace

std::string_view to_string(RestoreSignal s) noexcept {
    switch (s) {
    case RestoreSignal::clock_jump:
        return "clock-jump";
    case RestoreSignal::domid_changed:
        return "domid-changed";
    case RestoreSignal::unique_domain_id_changed:
        return "unique-domain-id-changed";
    case RestoreSignal::backend_path_changed:
        return "backend-path-changed";
    case RestoreSignal::data_vanished:
        return "data-vanished";
    case RestoreSignal::watch_refire:
        return "watch-refire";
    case RestoreSignal::wall_clock_step:
        return "wall-clock-step";
    case RestoreSignal::vbd_state_changed:
        return "vbd-state-changed";
    }
    return "unknown";
}

bool is_strong(RestoreSignal s) noexcept {
    return s != RestoreSignal::watch_refire && s != RestoreSignal::vbd_state_changed &&
           s != RestoreSignal::wall_clock_step;
}

std::string RestoreDecision::signal_list() const {
    std::string out;
    for (auto s : signals) {
        if (!out.empty())
            out += ',';
        out += to_string(s);
    }
    return out;
}

void RestoreDetector::add(RestoreSignal s, std::string evidence, const ClockSample& now) {
    if (!is_strong(s) && m_quiet_until && now.monotonic < *m_quiet_until) {
        m_notes.push_back(evidence + " (echo of the restore just verified: ignored)");
        return;
    }
    m_observations.push_back({s, std::move(evidence), now.monotonic});
}

void RestoreDetector::rebase(const BlkfrontCapture& capture, const ClockSample& now) {
    m_capture = capture;
    m_observations.clear();
    m_suspended_for.reset();
    m_quiet_until = now.monotonic + m_config.weak_window;
}

void RestoreDetector::observe_clock(const ClockSample& now) {
    if (m_last_clock) {
        const auto slept = now.suspended() - m_last_clock->suspended();
        const auto stepped = now.wall_offset() - m_last_clock->wall_offset();
        if (!now.boottime_known || !m_last_clock->boottime_known) {
            if (abs_ns(stepped) > m_config.min_clock_step)
                add(RestoreSignal::wall_clock_step,
                    "CLOCK_REALTIME-CLOCK_MONOTONIC stepped by " + seconds(stepped) +
                        " (no CLOCK_BOOTTIME on this kernel: a suspend or an NTP step)",
                    now);
        } else if (slept > m_config.min_suspend_gap) {
            m_suspended_for = slept;
            add(RestoreSignal::clock_jump,
                "CLOCK_BOOTTIME-CLOCK_MONOTONIC grew by " + seconds(slept) +
                    ": the guest did not run for that long",
                now);
        } else if (abs_ns(stepped) > m_config.min_clock_step) {
            m_notes.push_back("CLOCK_REALTIME stepped by " + seconds(stepped) +
                              " while BOOTTIME-MONOTONIC moved " + seconds(slept) +
                              ": a clock step (NTP or date), not a suspend");
        }
    }
    m_last_clock = now;
}

void RestoreDetector::observe_capture(const BlkfrontCapture& capture, const ClockSample& now) {
    if (m_capture) {
        for (const auto& c : compare(*m_capture, capture)) {
            switch (c.kind) {
            case ChangeKind::domid:
                add(RestoreSignal::domid_changed, c.describe(), now);
                break;
            case ChangeKind::unique_domain_id:
                add(RestoreSignal::unique_domain_id_changed, c.describe(), now);
                break;
            case ChangeKind::backend_path:
                add(RestoreSignal::backend_path_changed, c.describe(), now);
                break;
            case ChangeKind::frontend_state:
            case ChangeKind::backend_state:
                add(RestoreSignal::vbd_state_changed, c.describe(), now);
                break;
            default:
                break; // feature changes are judged by the verifier, not here
            }
        }
    }
    m_capture = capture;
}

void RestoreDetector::observe_watch_refire(std::string_view path, const ClockSample& now) {
    add(RestoreSignal::watch_refire,
        "watch on " + std::string(path.substr(0, 128)) + " fired with nothing changed", now);
}

void RestoreDetector::observe_data_vanished(const ClockSample& now) {
    add(RestoreSignal::data_vanished, "data/guardian/ written earlier is gone", now);
}

void RestoreDetector::observe_suspend_hint(const ClockSample& now) {
    m_hint = now.realtime;
    m_notes.push_back("control/shutdown fired: a suspend may follow");
}

RestoreDecision RestoreDetector::decide(const ClockSample& now) {
    // Weak signals that are too old to corroborate anything are dropped.
    std::erase_if(m_observations, [&](const Observation& o) {
        return !is_strong(o.signal) && now.monotonic - o.at > m_config.weak_window;
    });
    RestoreDecision d;
    for (const auto& o : m_observations)
        if (std::find(d.signals.begin(), d.signals.end(), o.signal) == d.signals.end())
            d.signals.push_back(o.signal);
    const bool strong = std::any_of(d.signals.begin(), d.signals.end(), is_strong);
    d.restored = strong || d.signals.size() >= 2;
    for (const auto& o : m_observations)
        d.evidence.push_back(o.evidence);
    d.notes = std::move(m_notes);
    m_notes.clear(); // each note is reported once
    d.suspended_for = m_suspended_for;
    d.suspend_hint_realtime = m_hint;
    if (d.restored) {
        m_observations.clear();
        m_suspended_for.reset();
        m_hint.reset();
    } else {
        d.evidence.clear(); // not counted: what remains is reported as notes
        for (const auto& o : m_observations)
            d.notes.push_back(o.evidence + " (alone: not a restore)");
    }
    return d;
}

} // namespace guardian

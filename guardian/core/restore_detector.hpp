// Deciding that the guest was restored (or migrated, or resumed from ACPI
// sleep) from several weak and strong signals, none of which the guest is
// told about directly. Pure: the daemon feeds it clock samples, xenstore
// observations and watch firings; tests feed it the same, invented.
//
// Strong signals, each enough on its own: CLOCK_BOOTTIME moved away from
// CLOCK_MONOTONIC (the guest did not run for a while: Xen restore and ACPI
// sleep move BOOTTIME and REALTIME but not MONOTONIC, an NTP step moves only
// REALTIME); domid or unique-domain-id changed; a vbd's backend path moved;
// data/guardian/ vanished (a restore does not carry data/ over).
// Without CLOCK_BOOTTIME (Linux < 2.6.39) a REALTIME-MONOTONIC step stands
// in for the clock jump, as a weak signal: an NTP step or `date -s` moves it
// just as a restore does, so it counts only beside another signal (domid,
// re-fired watches).
// Weak signals, a restore only together with another signal: watches firing
// again with nothing changed (xs_resume re-fires every watch, but so can a
// xenstored restart); a vbd state change. The control/shutdown watch event
// is only a hint that a suspend may follow: recorded, never relied on.
#pragma once

#include "guardian/core/blkfront.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// One reading of the three clocks, taken together.
struct ClockSample {
    std::chrono::nanoseconds realtime{0};
    std::chrono::nanoseconds monotonic{0};
    std::chrono::nanoseconds boottime{0};
    // False on a kernel without CLOCK_BOOTTIME (before 2.6.39, CentOS 6):
    // boottime is then monotonic, and a suspend shows only as a
    // REALTIME-MONOTONIC step, which an NTP step looks like too.
    bool boottime_known = true;

    // Time the system spent suspended since boot (BOOTTIME - MONOTONIC).
    [[nodiscard]] std::chrono::nanoseconds suspended() const { return boottime - monotonic; }
    // REALTIME's offset from MONOTONIC: moves with a clock step or a suspend.
    [[nodiscard]] std::chrono::nanoseconds wall_offset() const { return realtime - monotonic; }
};

enum class RestoreSignal {
    clock_jump,               // strong
    domid_changed,            // strong
    unique_domain_id_changed, // strong
    backend_path_changed,     // strong
    data_vanished,            // strong
    watch_refire,             // weak
    wall_clock_step,          // weak: REALTIME-MONOTONIC step without CLOCK_BOOTTIME
    vbd_state_changed,        // weak
};
[[nodiscard]] std::string_view to_string(RestoreSignal s) noexcept;
[[nodiscard]] bool is_strong(RestoreSignal s) noexcept;

struct RestoreDecision {
    bool restored = false;
    std::vector<RestoreSignal> signals; // distinct, in the order first seen
    std::vector<std::string> evidence;  // one line per observation that counted
    std::vector<std::string> notes;     // seen but not counted (NTP step, suspend hint)
    std::optional<std::chrono::nanoseconds> suspended_for;         // from the clock jump
    std::optional<std::chrono::nanoseconds> suspend_hint_realtime; // last control/shutdown event

    // "clock_jump,domid_changed"
    [[nodiscard]] std::string signal_list() const;
};

struct RestoreDetectorConfig {
    // A BOOTTIME-MONOTONIC growth above this means the guest was suspended.
    std::chrono::nanoseconds min_suspend_gap = std::chrono::milliseconds(1500);
    // A REALTIME-MONOTONIC change above this without suspend is noted as a
    // clock step (NTP, an admin's `date -s`).
    std::chrono::nanoseconds min_clock_step = std::chrono::milliseconds(500);
    // Weak signals corroborate each other only when this close (monotonic).
    std::chrono::nanoseconds weak_window = std::chrono::seconds(30);
};

class RestoreDetector {
public:
    explicit RestoreDetector(RestoreDetectorConfig config = {}) : m_config(config) {}

    // The clocks, read periodically and whenever the CANCEL_ON_SET timer fires.
    void observe_clock(const ClockSample& now);
    // A fresh blkfront capture: compared with the previous one given here.
    void observe_capture(const BlkfrontCapture& capture, const ClockSample& now);
    // A watch fired but the value it guards had not changed.
    void observe_watch_refire(std::string_view path, const ClockSample& now);
    // data/guardian/ (written by us earlier) is gone.
    void observe_data_vanished(const ClockSample& now);
    // A control/shutdown watch event (value already cleared by the kernel).
    void observe_suspend_hint(const ClockSample& now);
    // A restore was concluded and `capture` is the new normal. What was
    // observed meanwhile belonged to it, and so do its echoes: after a Xen
    // restore every watch fires again (xs_resume), on a loaded host many
    // seconds later. Weak signals are ignored for weak_window; a strong one
    // (a second save/restore) still counts.
    void rebase(const BlkfrontCapture& capture, const ClockSample& now);

    // Whether what was observed so far adds up to a restore. A positive
    // decision consumes the signals (the next restore starts from zero);
    // a negative one keeps the weak signals until they age out.
    [[nodiscard]] RestoreDecision decide(const ClockSample& now);

    [[nodiscard]] const std::optional<BlkfrontCapture>& last_capture() const { return m_capture; }

private:
    struct Observation {
        RestoreSignal signal;
        std::string evidence;
        std::chrono::nanoseconds at; // monotonic
    };
    void add(RestoreSignal s, std::string evidence, const ClockSample& now);

    RestoreDetectorConfig m_config;
    std::optional<ClockSample> m_last_clock;
    std::optional<BlkfrontCapture> m_capture;
    std::vector<Observation> m_observations;
    std::vector<std::string> m_notes;
    std::optional<std::chrono::nanoseconds> m_suspended_for;
    std::optional<std::chrono::nanoseconds> m_hint;
    std::optional<std::chrono::nanoseconds> m_quiet_until; // monotonic
};

} // namespace guardian

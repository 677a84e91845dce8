// guardiand's state machine, pure: events in, the next state and the actions
// to take out. Every change of guardiand's state is decided here and nowhere
// else (guardian/daemon/ executes the actions); the table test
// (tests/core/daemon_machine_test.cpp) covers every (state, event) pair,
// including the ones that must be ignored. The flow it encodes is
// detect -> verify -> act (ARCHITECTURE.md "The daemon's event flow").
#pragma once

#include "guardian/core/guest_contract.hpp"
#include "guardian/core/verdict.hpp"

#include <string_view>
#include <vector>

namespace guardian::machine {

using contract::DaemonState;

enum class EventKind {
    started,          // baseline taken, watches set
    restore_detected, // RestoreWatch's decision (or the systemd-sleep post hook)
    verified,         // a verdict: after a restore, or from the kmsg window
    kmsg_signature,   // a kernel-log line matched a signature
    window_end,       // the kmsg window's timer
    freeze_request,   // a valid "freeze" from dom0
    freeze_taken,     // the filesystems are frozen and fingerprinted
    freeze_deadline,  // the freeze deadline passed without a restore
    thaw_request,     // "thaw" from dom0
    sleep_pre,        // systemd-sleep: going to sleep
    baseline_due,     // the periodic baseline refresh
    config_reload,    // guardiand reads its configuration only at start: ignored
    stop_signal,      // SIGTERM / SIGINT
};
inline constexpr std::size_t k_event_kinds = 13;

[[nodiscard]] std::string_view to_string(EventKind k) noexcept;

struct Event {
    EventKind kind = EventKind::started;
    Verdict verdict = Verdict::healthy; // verified
    bool coordinated = false;           // verified: the restore came during a freeze
    // restore_detected: the block path now writes wrong data (the block
    // protocol's judgement, FeatureChangeJudgement::writes_unsafe).
    bool writes_unsafe = false;
};

// What else the decision depends on, besides the state.
struct Facts {
    bool frozen = false;       // a freeze session is active
    bool window_open = false;  // the kmsg window is open
    bool incident = false;     // an incident was recorded this run
    bool observe_only = false; // policy observe: a critical verdict only reports
    bool filesystems = true;   // something is guarded
    bool may_reboot = true;    // `reboot` is not `none`
};

enum class Action {
    halt_processes,   // stop every other process (writes nothing)
    verify,           // the verification sequence (block protocol, geometry and checksums)
    judge_window,     // conclude again with what the kmsg window saw
    close_window,     // close the kmsg window (may conclude when ext4 errors grew)
    begin_freeze,     // hooks, guard, FIFREEZE, stable fingerprint
    refuse_freeze,    // answer "failed" (already frozen, nothing guarded)
    arm_deadline,     // the freeze deadline timer
    thaw,             // thaw, answer, post-thaw hooks (publishes and persists)
    report_only,      // policy observe: log the critical verdict
    protect,          // run the protection plans (the emergency)
    incident_hooks,   // the incident hooks (policy observe)
    append_history,   // one line in history.jsonl
    restore_hooks,    // the restore hooks
    open_window,      // the kmsg window after a non-critical verdict
    refresh_baseline, // a fresh baseline of every guarded filesystem
    arm_baseline,     // the periodic baseline refresh timer
    forget_published, // a restore dropped data/: publish everything again
    publish,          // data/guardian/ from the current state
    persist,          // /run/guardian/state.json
};

[[nodiscard]] std::string_view to_string(Action a) noexcept;

struct Transition {
    DaemonState next = DaemonState::starting;
    std::vector<Action> actions; // in this order
    bool ignored = false;        // the event changes nothing in this state
};

// Calm: watching, nothing frozen, no window, no incident (a new baseline is
// a true record of the recent past only then).
[[nodiscard]] bool calm(DaemonState s, const Facts& f) noexcept;

[[nodiscard]] Transition step(DaemonState state, const Facts& facts, const Event& event);

} // namespace guardian::machine

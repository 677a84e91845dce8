#include "guardian/core/daemon_machine.hpp"

namespace guardian::machine {

std::string_view to_string(EventKind k) noexcept {
    switch (k) {
    case EventKind::started:
        return "started";
    case EventKind::restore_detected:
        return "restore-detected";
    case EventKind::verified:
        return "verified";
    case EventKind::kmsg_signature:
        return "kmsg-signature";
    case EventKind::window_end:
        return "window-end";
    case EventKind::freeze_request:
        return "freeze-request";
    case EventKind::freeze_taken:
        return "freeze-taken";
    case EventKind::freeze_deadline:
        return "freeze-deadline";
    case EventKind::thaw_request:
        return "thaw-request";
    case EventKind::sleep_pre:
        return "sleep-pre";
    case EventKind::baseline_due:
        return "baseline-due";
    case EventKind::config_reload:
        return "config-reload";
    case EventKind::stop_signal:
        return "stop-signal";
    }
    return "?";
}

std::string_view to_string(Action a) noexcept {
    switch (a) {
    case Action::halt_processes:
        return "halt-processes";
    case Action::verify:
        return "verify";
    case Action::judge_window:
        return "judge-window";
    case Action::close_window:
        return "close-window";
    case Action::begin_freeze:
        return "begin-freeze";
    case Action::refuse_freeze:
        return "refuse-freeze";
    case Action::arm_deadline:
        return "arm-deadline";
    case Action::thaw:
        return "thaw";
    case Action::report_only:
        return "report-only";
    case Action::protect:
        return "protect";
    case Action::incident_hooks:
        return "incident-hooks";
    case Action::append_history:
        return "append-history";
    case Action::restore_hooks:
        return "restore-hooks";
    case Action::open_window:
        return "open-window";
    case Action::refresh_baseline:
        return "refresh-baseline";
    case Action::arm_baseline:
        return "arm-baseline";
    case Action::forget_published:
        return "forget-published";
    case Action::publish:
        return "publish";
    case Action::persist:
        return "persist";
    }
    return "?";
}

bool calm(DaemonState s, const Facts& f) noexcept {
    return s == DaemonState::watching && !f.frozen && !f.window_open && !f.incident;
}

namespace {

Transition stay(DaemonState s) {
    return Transition{s, {}, true};
}

Transition go(DaemonState next, std::vector<Action> actions) {
    return Transition{next, std::move(actions), false};
}

// A verdict. Critical: protect (or, observing, report); otherwise thaw a
// coordinated freeze, keep the record and watch the kernel log a while.
Transition on_verified(DaemonState s, const Facts& f, const Event& e) {
    using enum Action;
    if (e.verdict == Verdict::critical) {
        if (f.observe_only) {
            std::vector<Action> a{report_only};
            if (f.frozen)
                a.push_back(thaw);
            a.insert(a.end(), {publish, persist, incident_hooks});
            return go(DaemonState::watching, std::move(a));
        }
        // The verdict reaches dom0 before anything else happens; the thaw
        // only after the writes were stopped (they fail with EIO by then).
        std::vector<Action> a{publish, protect};
        if (f.frozen)
            a.push_back(thaw);
        a.insert(a.end(), {publish, persist});
        return go(DaemonState::incident, std::move(a));
    }
    (void)s;
    std::vector<Action> a;
    if (e.coordinated && f.frozen)
        a.push_back(thaw); // publishes and persists the new state itself
    else
        a.insert(a.end(), {publish, persist});
    // History lives on a guarded filesystem: only now that nothing is frozen
    // and the verdict did not condemn the disk.
    a.insert(a.end(), {append_history, restore_hooks, open_window});
    return go(DaemonState::watching, std::move(a));
}

// The state after a thaw: watching, unless the daemon is stopping or an
// incident stands.
DaemonState after_thaw(DaemonState s) {
    return s == DaemonState::stopped || s == DaemonState::incident ? s : DaemonState::watching;
}

} // namespace

Transition step(DaemonState s, const Facts& f, const Event& e) {
    using enum Action;
    if (s == DaemonState::stopped)
        return stay(s); // nothing runs after the stop
    switch (e.kind) {
    case EventKind::started:
        if (s != DaemonState::starting)
            return stay(s);
        return go(DaemonState::watching, {publish, persist, arm_baseline});
    case EventKind::restore_detected:
        if (s == DaemonState::starting)
            return stay(s); // the detector is not running yet
        // A block path that writes wrong data: every writer stops before
        // anything else happens, the verdict's own log line included (the
        // journal is written through that path). Only when the emergency
        // that follows reboots: with nothing to end it, the stop would hang
        // the guest; observing, it is not ours to stop anything.
        if (e.writes_unsafe && !f.observe_only && f.may_reboot)
            return go(DaemonState::verifying,
                      {halt_processes, forget_published, publish, persist, verify});
        return go(DaemonState::verifying, {forget_published, publish, persist, verify});
    case EventKind::verified:
        if (s == DaemonState::starting)
            return stay(s);
        return on_verified(s, f, e);
    case EventKind::kmsg_signature:
        // Outside a window the kernel log is not ours to judge.
        return f.window_open ? go(s, {judge_window}) : stay(s);
    case EventKind::window_end:
        return f.window_open ? go(s, {close_window}) : stay(s);
    case EventKind::freeze_request:
        if (s == DaemonState::starting)
            return stay(s);
        if (f.frozen || !f.filesystems)
            return go(s, {refuse_freeze});
        return go(s, {begin_freeze});
    case EventKind::freeze_taken:
        if (s == DaemonState::starting)
            return stay(s);
        return go(DaemonState::frozen, {arm_deadline, publish, persist});
    case EventKind::freeze_deadline:
    case EventKind::thaw_request:
        return f.frozen ? go(after_thaw(s), {thaw}) : stay(s);
    case EventKind::sleep_pre:
    case EventKind::baseline_due:
        if (s == DaemonState::starting)
            return stay(s);
        if (calm(s, f))
            return go(s, {refresh_baseline, arm_baseline}); // persists when it worked
        return go(s, {arm_baseline});                       // not now; try again later
    case EventKind::config_reload:
        return stay(s);
    case EventKind::stop_signal: {
        std::vector<Action> a;
        if (f.frozen)
            a.push_back(thaw);
        a.insert(a.end(), {close_window, publish, persist});
        return go(DaemonState::stopped, std::move(a));
    }
    }
    return stay(s);
}

} // namespace guardian::machine

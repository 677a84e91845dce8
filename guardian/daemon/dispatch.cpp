// Where the daemon's events meet the pure state machine
// (guardian/core/daemon_machine.hpp): the machine decides the next state and
// the actions; this file only carries them out, in the order given.
#include "guardian/daemon/daemon.hpp"

#include "guardian/core/message_ids.hpp"
#include "guardian/daemon/state_file.hpp"
#include "guardian/hooks/hook_runner.hpp"

namespace guardian::daemon {

machine::Facts Daemon::facts() const noexcept {
    machine::Facts f;
    f.frozen = m_freeze.has_value();
    f.window_open = m_window.has_value();
    f.incident = m_incident.has_value();
    f.observe_only = m_settings.config.policy == Policy::observe;
    f.filesystems = !m_fs.empty();
    f.may_reboot = m_settings.config.reboot != RebootMode::none;
    return f;
}

void Daemon::dispatch(const machine::Event& event, EventData& data) {
    const machine::Transition t = machine::step(m_state, facts(), event);
    if (t.ignored)
        return;
    if (t.next != m_state)
        m_ports.log->debug(std::string("state ") + std::string(contract::to_string(m_state)) +
                           " -> " + std::string(contract::to_string(t.next)) + " (" +
                           std::string(machine::to_string(event.kind)) + ")");
    m_state = t.next;
    for (const machine::Action a : t.actions)
        run(a, data);
}

void Daemon::run(machine::Action action, EventData& data) {
    using machine::Action;
    const auto run_hooks = [this](hooks::HookEvent event) {
        hooks::HookOptions ho;
        ho.timeout = m_settings.config.hook_timeout;
        (void)hooks::run_hooks(m_settings.config.hook_dir, event, ho, *m_ports.log);
    };
    switch (action) {
    case Action::halt_processes:
        halt_processes();
        return;
    case Action::verify:
        if (data.restore != nullptr)
            verify(*data.restore);
        return;
    case Action::judge_window:
        judge_window();
        return;
    case Action::close_window:
        close_kmsg_window();
        return;
    case Action::begin_freeze:
        begin_freeze(data.timeout, data.nonce);
        return;
    case Action::refuse_freeze:
        refuse_freeze(data.nonce);
        return;
    case Action::arm_deadline:
        m_ports.timers->set(TimerSlot::freeze_deadline, data.timeout, [this] {
            m_ports.log->log(Priority::warning, "freeze deadline passed without a restore: thawing",
                             {{"MESSAGE_ID", std::string(message_id::auto_thaw)}});
            EventData d;
            d.deadline = true;
            dispatch(machine::Event{machine::EventKind::freeze_deadline, Verdict::healthy, false},
                     d);
        });
        return;
    case Action::thaw:
        end_freeze(data.thaw_outcome, data.deadline);
        return;
    case Action::report_only:
        if (data.result != nullptr)
            report_only(*data.result);
        return;
    case Action::protect:
        if (data.result != nullptr)
            protect(*data.result);
        return;
    case Action::incident_hooks:
        run_hooks(hooks::HookEvent::incident);
        return;
    case Action::append_history:
        if (!m_verifications.empty())
            if (auto st = append_history(m_ports.root.path(m_settings.state_dir + "/history.jsonl"),
                                         m_verifications.back());
                !st)
                m_ports.log->warning("history: " + st.error().message);
        return;
    case Action::restore_hooks:
        run_hooks(hooks::HookEvent::restore);
        return;
    case Action::open_window:
        if (data.input != nullptr)
            open_kmsg_window(std::move(*data.input));
        return;
    case Action::refresh_baseline:
        refresh_baseline(data.why);
        return;
    case Action::arm_baseline:
        arm_baseline_refresh();
        return;
    case Action::forget_published:
        if (m_publisher)
            m_publisher->invalidate();
        return;
    case Action::publish:
        publish();
        return;
    case Action::persist:
        persist();
        return;
    }
}

} // namespace guardian::daemon

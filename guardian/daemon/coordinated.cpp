// Coordinated mode: the provider asks, before `xl save` or a migration, by
// writing "freeze <timeout-seconds> <nonce>" into the guest's
// data/guardian/request (guardian-host freeze). The guest runs its pre-freeze
// hooks, arms the freeze guard, freezes the guarded filesystems (FIFREEZE
// syncs and checkpoints the journal, so the on-disk metadata is exactly
// stable), records a stable fingerprint and answers in data/guardian/freeze.
// After the restore it verifies byte for byte while still frozen, then thaws
// (or declares critical). The deadline runs on CLOCK_MONOTONIC, which does not
// advance while the domain is saved; the guard process thaws even if this
// daemon dies.
//
// The words of the handshake are the contract's
// (guardian/core/guest_contract.hpp); this file only decides.
#include "guardian/daemon/daemon.hpp"

#include "guardian/core/message_ids.hpp"
#include "guardian/ext4/scan.hpp"
#include "guardian/hooks/hook_runner.hpp"
#include "guardian/protect/fs_control.hpp"

#include <unistd.h>

namespace guardian::daemon {
namespace {

// The guard thaws a little after the daemon's own deadline: normally the
// daemon thaws (and reports) first; the guard is for when it cannot.
constexpr auto k_guard_grace = std::chrono::seconds(5);

// journald keeps writing its files while our filesystems are frozen - our
// own "frozen" line is enough - and a writer blocked on a frozen filesystem
// cannot be frozen by the kernel's suspend, so the save fails ("Freezing of
// tasks failed", seen on the Xen rig with Linux 6.1). For the freeze it
// writes to /run only (--relinquish-var), and back to /var after the thaw
// (--flush). Without journalctl (no systemd) there is nothing to do.
void journal_storage(const std::string& journalctl, const char* option, Logger& log) {
    if (journalctl.empty() || ::access(journalctl.c_str(), X_OK) != 0)
        return;
    hooks::HookOptions o;
    o.timeout = std::chrono::seconds(10);
    const auto r = hooks::run_program({journalctl, option}, o);
    if (!r.ok())
        log.warning(std::string("journalctl ") + option + ": " + r.describe() +
                    (r.output.empty() ? "" : ": " + r.output));
}

} // namespace

namespace {
using contract::FreezeAnswer;
using contract::FreezeAnswerKind;

FreezeAnswer failed(const std::string& nonce, std::string reason) {
    return FreezeAnswer{FreezeAnswerKind::failed, nonce, std::move(reason)};
}
} // namespace

void Daemon::write_freeze_node(const FreezeAnswer& answer) {
    if (!m_publisher)
        return;
    if (auto st = m_publisher->publish_freeze_answer(answer); !st)
        m_ports.log->warning(contract::node_path(contract::node::freeze) + ": " +
                             st.error().message);
}

void Daemon::handle_request(const std::string& text) {
    const contract::FreezeRequest request = contract::decode_freeze_request(text);
    using Kind = contract::FreezeRequest::Kind;
    if (request.kind == Kind::malformed) {
        if (m_publisher)
            (void)m_publisher->publish_freeze_answer(contract::refuse_request(text, request.kind));
        return; // left in place, as before: a corrected request overwrites it
    }
    if (request.kind == Kind::freeze) {
        const long seconds = request.seconds;
        // The guest's own limit (freeze_timeout) wins over a longer request:
        // the customer decides how long their filesystems may stand still.
        auto timeout = std::chrono::seconds(seconds);
        const auto cap =
            std::chrono::duration_cast<std::chrono::seconds>(m_settings.config.freeze_timeout);
        if (timeout > cap) {
            m_ports.log->notice("freeze request for " + std::to_string(seconds) +
                                " s capped at freeze_timeout (" + std::to_string(cap.count()) +
                                " s)");
            timeout = cap;
        }
        EventData d;
        d.nonce = request.nonce;
        d.timeout = timeout;
        dispatch(machine::Event{machine::EventKind::freeze_request, Verdict::healthy, false}, d);
    } else if (request.kind == Kind::thaw) {
        EventData d;
        d.thaw_outcome = contract::thaw_outcome::cancelled;
        dispatch(machine::Event{machine::EventKind::thaw_request, Verdict::healthy, false}, d);
    } else if (m_publisher) {
        (void)m_publisher->publish_freeze_answer(contract::refuse_request(text, request.kind));
    }
    // Consumed: a later restore must not find (and replay) an old request.
    (void)m_ports.xs->remove(contract::node_path(contract::node::request));
}

void Daemon::begin_freeze(std::chrono::seconds timeout, const std::string& nonce) {
    Logger& log = *m_ports.log;
    hooks::HookOptions ho;
    ho.timeout = m_settings.config.hook_timeout;
    (void)hooks::run_hooks(m_settings.config.hook_dir, hooks::HookEvent::pre_freeze, ho, log);

    journal_storage(m_settings.journalctl, "--relinquish-var", log);

    FreezeSession session;
    session.nonce = nonce;
    session.mount_points = mount_points();
    const auto deadline_ns =
        protect::monotonic_now_ns() +
        std::chrono::duration_cast<std::chrono::nanoseconds>(timeout + k_guard_grace).count();
    auto guard = protect::FreezeGuard::start(m_settings.guard_exe, session.mount_points,
                                             deadline_ns, std::chrono::milliseconds(3000));
    if (!guard) {
        // Without a guard a daemon crash would leave the filesystems frozen:
        // refuse rather than take that risk.
        write_freeze_node(failed(nonce, "freeze guard: " + guard.error().message));
        log.error("freeze refused: guard did not start: " + guard.error().message);
        journal_storage(m_settings.journalctl, "--flush", log);
        return;
    }
    session.guard.emplace(std::move(guard).value());
    if (auto st = protect::freeze_all(session.mount_points); !st) {
        (void)session.guard->disarm();
        write_freeze_node(failed(nonce, st.error().message));
        log.error("freeze failed: " + st.error().message);
        journal_storage(m_settings.journalctl, "--flush", log);
        return;
    }
    for (auto& fs : m_fs) {
        auto scan = Daemon::scan(fs, CheckMode::stable, /*fingerprint=*/true);
        if (!scan) {
            log.error("fingerprint while frozen: " + scan.error().message);
            m_freeze = std::move(session);
            end_freeze(contract::thaw_outcome::failed);
            write_freeze_node(failed(nonce, "fingerprint: " + scan.error().message));
            return;
        }
        fs.frozen = std::move(scan->fingerprint);
    }
    m_freeze = std::move(session);
    EventData d;
    d.nonce = nonce;
    d.timeout = timeout;
    dispatch(machine::Event{machine::EventKind::freeze_taken, Verdict::healthy, false}, d);
    write_freeze_node(FreezeAnswer{FreezeAnswerKind::frozen, nonce, {}});
    log.log(Priority::notice,
            "frozen " + std::to_string(m_fs.size()) + " filesystem(s) for the provider (" +
                std::to_string(timeout.count()) + " s deadline)",
            {{"MESSAGE_ID", std::string(message_id::freeze_started)}});
}

void Daemon::refuse_freeze(const std::string& nonce) {
    if (m_freeze)
        write_freeze_node(failed(nonce, "already frozen for " + m_freeze->nonce));
    else
        write_freeze_node(failed(nonce, "no guarded filesystem"));
}

void Daemon::end_freeze(std::string_view outcome, bool deadline) {
    if (!m_freeze)
        return;
    m_ports.timers->cancel(TimerSlot::freeze_deadline);
    for (const auto& e : protect::thaw_all(m_freeze->mount_points))
        m_ports.log->error("thaw: " + e.message);
    journal_storage(m_settings.journalctl, "--flush", *m_ports.log);
    if (m_freeze->guard)
        if (auto r = m_freeze->guard->disarm(); !r)
            m_ports.log->warning("freeze guard: " + r.error().message);
    const std::string nonce = m_freeze->nonce;
    m_freeze.reset();
    for (auto& fs : m_fs)
        fs.frozen.reset();
    const FreezeAnswer answer =
        deadline ? FreezeAnswer{FreezeAnswerKind::auto_thawed, nonce, {}}
                 : FreezeAnswer{FreezeAnswerKind::thawed, nonce, std::string(outcome)};
    m_ports.log->log(Priority::notice,
                     "thawed (" +
                         std::string(deadline ? contract::to_string(answer.kind) : outcome) + ")",
                     {{"MESSAGE_ID", std::string(message_id::thawed)}});
    write_freeze_node(answer);
    // The state after the thaw is the machine's, already set.
    publish();
    persist();
    hooks::HookOptions ho;
    ho.timeout = m_settings.config.hook_timeout;
    (void)hooks::run_hooks(m_settings.config.hook_dir, hooks::HookEvent::post_thaw, ho,
                           *m_ports.log);
}

} // namespace guardian::daemon

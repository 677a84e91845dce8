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
// data/guardian/freeze values: "frozen <nonce>", "failed <nonce> <reason>",
// "thawed <nonce> <verdict>", "auto-thawed <nonce>", "critical <nonce>".
#include "guardian/daemon/daemon.hpp"

#include "guardian/core/message_ids.hpp"
#include "guardian/ext4/scan.hpp"
#include "guardian/hooks/hook_runner.hpp"
#include "guardian/protect/fs_control.hpp"

#include <charconv>
#include <sstream>
#include <unistd.h>

namespace guardian::daemon {
namespace {

// The guard thaws a little after the daemon's own deadline: normally the
// daemon thaws (and reports) first; the guard is for when it cannot.
constexpr auto k_guard_grace = std::chrono::seconds(5);
constexpr auto k_max_freeze = std::chrono::seconds(3600);

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

void Daemon::write_freeze_node(const std::string& value) {
    if (!m_ports.xs)
        return;
    if (auto st = m_ports.xs->write("data/guardian/freeze", value); !st)
        m_ports.log->warning("data/guardian/freeze: " + st.error().message);
}

void Daemon::handle_request(const std::string& request) {
    std::istringstream in(request);
    std::string verb, arg, nonce;
    in >> verb >> arg >> nonce;
    if (verb == "freeze") {
        long seconds = 0;
        const auto r = std::from_chars(arg.data(), arg.data() + arg.size(), seconds);
        if (r.ec != std::errc{} || seconds <= 0 || seconds > k_max_freeze.count() ||
            nonce.empty()) {
            write_freeze_node("failed " + (nonce.empty() ? std::string("-") : nonce) +
                              " bad request '" + request.substr(0, 64) +
                              "' (expected: freeze <1-3600 seconds> <nonce>)");
            return;
        }
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
        begin_freeze(timeout, nonce);
    } else if (verb == "thaw") {
        if (m_freeze)
            end_freeze("cancelled");
    } else {
        write_freeze_node("failed - unknown request '" + request.substr(0, 64) + "'");
    }
    // Consumed: a later restore must not find (and replay) an old request.
    (void)m_ports.xs->remove("data/guardian/request");
}

void Daemon::begin_freeze(std::chrono::seconds timeout, const std::string& nonce) {
    Logger& log = *m_ports.log;
    if (m_freeze) {
        write_freeze_node("failed " + nonce + " already frozen for " + m_freeze->nonce);
        return;
    }
    if (m_fs.empty()) {
        write_freeze_node("failed " + nonce + " no guarded filesystem");
        return;
    }
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
        write_freeze_node("failed " + nonce + " freeze guard: " + guard.error().message);
        log.error("freeze refused: guard did not start: " + guard.error().message);
        journal_storage(m_settings.journalctl, "--flush", log);
        return;
    }
    session.guard.emplace(std::move(guard).value());
    if (auto st = protect::freeze_all(session.mount_points); !st) {
        (void)session.guard->disarm();
        write_freeze_node("failed " + nonce + " " + st.error().message);
        log.error("freeze failed: " + st.error().message);
        journal_storage(m_settings.journalctl, "--flush", log);
        return;
    }
    for (auto& fs : m_fs) {
        auto scan = Daemon::scan(fs, CheckMode::stable, /*fingerprint=*/true);
        if (!scan) {
            log.error("fingerprint while frozen: " + scan.error().message);
            m_freeze = std::move(session);
            end_freeze("failed");
            write_freeze_node("failed " + nonce + " fingerprint: " + scan.error().message);
            return;
        }
        fs.frozen = std::move(scan->fingerprint);
    }
    m_freeze = std::move(session);
    m_ports.timers->set(TimerSlot::freeze_deadline, timeout, [this] {
        m_ports.log->log(Priority::warning, "freeze deadline passed without a restore: thawing",
                         {{"MESSAGE_ID", std::string(message_id::auto_thaw)}});
        end_freeze("auto-thawed");
    });
    set_state("frozen");
    write_freeze_node("frozen " + nonce);
    log.log(Priority::notice,
            "frozen " + std::to_string(m_fs.size()) + " filesystem(s) for the provider (" +
                std::to_string(timeout.count()) + " s deadline)",
            {{"MESSAGE_ID", std::string(message_id::freeze_started)}});
}

void Daemon::end_freeze(const std::string& outcome) {
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
    m_ports.log->log(Priority::notice, "thawed (" + outcome + ")",
                     {{"MESSAGE_ID", std::string(message_id::thawed)}});
    if (outcome == "auto-thawed")
        write_freeze_node("auto-thawed " + nonce);
    else
        write_freeze_node("thawed " + nonce + " " + outcome);
    if (m_state != "stopped" && m_state != "incident")
        set_state("watching");
    hooks::HookOptions ho;
    ho.timeout = m_settings.config.hook_timeout;
    (void)hooks::run_hooks(m_settings.config.hook_dir, hooks::HookEvent::post_thaw, ho,
                           *m_ports.log);
}

} // namespace guardian::daemon

// The side effects of the emergency sequence that are not filesystem ioctls,
// behind small interfaces: the daemon wires the real ones (xenstore, kmsg,
// reboot(2)); tests substitute recording fakes.
#pragma once

#include "guardian/core/incident.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <string>
#include <string_view>

namespace guardian::protect {

// Tells the provider through channels that do not write the suspect disk.
class ProviderNotifier {
public:
    virtual ~ProviderNotifier() = default;
    // xenstore data/guardian/incident (the daemon implements it on its
    // XenStore port). Called with the reason before any action is taken.
    [[nodiscard]] virtual Status report_incident(const IncidentRecord& record) = 0;
};

// One line on /dev/kmsg, which the Xen console shows. The fd is opened when
// the writer is made (baseline time), not during the emergency.
class KmsgWriter {
public:
    [[nodiscard]] static Result<KmsgWriter> open(const SystemRoot& root);
    // "<2>guardian: ..." (KERN_CRIT); kmsg takes one record per write(2).
    [[nodiscard]] Status write_line(std::string_view line);

private:
    explicit KmsgWriter(Fd fd, std::string path) : m_fd(std::move(fd)), m_path(std::move(path)) {}
    Fd m_fd;
    std::string m_path;
    std::string m_buffer; // reserved up front: the emergency does not allocate
};

// Stops every other process, and continues them again. For a block path
// that writes wrong data (docs/design.md, "Writing nothing"): the writers
// must stop before anything else happens, and stopping them writes nothing.
// init (pid 1) and guardiand itself are not stopped; kernel threads ignore
// the signal.
class ProcessHalter {
public:
    virtual ~ProcessHalter() = default;
    [[nodiscard]] virtual Status stop_others() = 0;
    // Only after a reboot that failed: the writes are stopped by then.
    [[nodiscard]] virtual Status continue_others() = 0;
};

// kill(-1, SIGSTOP) and kill(-1, SIGCONT): every kernel guardian runs on
// has them. Needs CAP_KILL for processes of other users.
class SignalProcessHalter final : public ProcessHalter {
public:
    [[nodiscard]] Status stop_others() override;
    [[nodiscard]] Status continue_others() override;
};

// How the machine goes down after the filesystems are shut down.
class Rebooter {
public:
    virtual ~Rebooter() = default;
    // Returns only if the reboot could not be started.
    [[nodiscard]] virtual Status reboot_now() = 0;
};

// reboot(2) with RB_AUTOBOOT and no sync(2) first: syncing would write
// through the suspect path, which is exactly what the shutdown stopped.
class ImmediateRebooter final : public Rebooter {
public:
    [[nodiscard]] Status reboot_now() override;
};

// Asks systemd for an orderly reboot (`systemctl reboot --no-wall`, forked
// and exec'd). Services stop cleanly; the shut-down filesystems refuse the
// writes that come with it. Only for operators who chose `reboot = orderly`:
// it execs after writes stopped, which the immediate path never does.
class OrderlyRebooter final : public Rebooter {
public:
    explicit OrderlyRebooter(std::string systemctl = "/usr/bin/systemctl")
        : m_systemctl(std::move(systemctl)) {}
    [[nodiscard]] Status reboot_now() override;

private:
    std::string m_systemctl;
};

} // namespace guardian::protect

// guardian-hostd's logic: keeps the ledger's picture of domains in step with
// xenstore and the hypervisor. On every @introduceDomain / @releaseDomain it
// asks the hypervisor which domains are shutting down and why, looks at
// /local/domain again, and records what changed: a domain that appeared
// (keyed by VM UUID, never domid), a domain that shut down with the
// hypervisor's reason (or, when the toolstack destroyed it first, the reason
// xl logged; else "destroyed"), and for a crash the end of the guest's
// console log where xenconsoled keeps one. Everything outside lives behind
// ports (XenStore, Hypervisor, the ledger), so tests drive it with the test
// xenstored.
#pragma once

#include "guardian/hostd/domain_tracker.hpp"
#include "guardian/hostd/hypervisor.hpp"
#include "guardian/ledger/ledger.hpp"
#include "guardian/util/log.hpp"
#include "guardian/xen/xenstore.hpp"

#include <functional>
#include <set>

namespace guardian::hostd {

struct ServiceOptions {
    std::string xen_log_dir = "/var/log/xen"; // xl-<name>.log, console/guest-<name>.log
    std::size_t console_excerpt_bytes = 2048;
};

class Service {
public:
    // `hypervisor` may be null (no libxenctrl answer): reasons then come
    // from xl's log only. `now` gives wall-clock seconds.
    Service(xen::XenStore& xs, Hypervisor* hypervisor, ledger::Ledger& ledger, Logger& log,
            ServiceOptions options, std::function<double()> now);

    // Registers the two special watches; their first firing does the first scan.
    [[nodiscard]] Status start();
    // Handles what the watch fd has; an error here means the xenstore
    // connection is gone (the caller reconnects).
    [[nodiscard]] Status on_watch_events();
    // One look at xenstore and the hypervisor, recording what changed.
    [[nodiscard]] Status rescan();

    [[nodiscard]] const DomainSet& known() const noexcept { return m_known; }

private:
    [[nodiscard]] Result<DomainSet> scan();
    [[nodiscard]] ledger::ShutdownReason reason_from_xl_log(const DomainEntry& d) const;
    [[nodiscard]] std::string console_excerpt(const DomainEntry& d) const;
    // What changed since the last look, recorded in the open batch; the
    // log lines to say once it is committed.
    [[nodiscard]] Result<std::vector<std::string>>
    record_changes(const std::map<std::int64_t, DomainState>& states, bool have_states,
                   const DomainSet& after);
    [[nodiscard]] Status release(const DomainEntry& d, ledger::ShutdownReason reason,
                                 std::vector<std::string>& said);

    xen::XenStore& m_xs;
    Hypervisor* m_hypervisor;
    ledger::Ledger& m_ledger;
    Logger& m_log;
    ServiceOptions m_options;
    std::function<double()> m_now;
    DomainSet m_known;                 // as of the last scan
    std::set<std::int64_t> m_released; // shut down, tree not yet gone
};

} // namespace guardian::hostd

// guardian-hostd's logic: keeps the ledger's picture of domains in step with
// xenstore and the hypervisor. On every @introduceDomain / @releaseDomain it
// asks the hypervisor which domains are shutting down and why, looks at
// /local/domain again, and records what changed: a domain that appeared
// (keyed by VM UUID, never domid), a domain that shut down with the
// hypervisor's reason (or, when the toolstack destroyed it first, the reason
// xl logged; else "destroyed"), and for a crash the end of the guest's
// console log where xenconsoled keeps one. For guests without guardian it
// identifies the kernel from the console too: the log's size when the
// domain appeared is where its boot's output begins, and the kernel's own
// boot banner after that offset names the release (core/console_banner;
// recorded as the boot's kernel with source "console banner"). Everything
// outside lives behind
// ports (XenStore, Hypervisor, the ledger), so tests drive it with the test
// xenstored.
#pragma once

#include "guardian/core/guest_contract.hpp"
#include "guardian/hostd/domain_tracker.hpp"
#include "guardian/hostd/hypervisor.hpp"
#include "guardian/ledger/ledger.hpp"
#include "guardian/util/log.hpp"
#include "guardian/xen/xenstore.hpp"

#include <deque>
#include <functional>
#include <set>

namespace guardian::hostd {

struct ServiceOptions {
    std::string xen_log_dir = "/var/log/xen"; // xl-<name>.log, console/guest-<name>.log
    std::size_t console_excerpt_bytes = 2048;
    // A guest's data/guardian/ is read at most this often a minute; a guest
    // that changes it faster is named once (a "hostile" event) and read
    // again on the next tick(), so it cannot make dom0 work for it.
    std::size_t report_reads_per_minute = 60;
    // Watch events on one guest's data/guardian/ a minute before it counts
    // as flooding even when its writes came in bursts that one read each
    // answered (a burst of thousands of writes costs dom0 the events):
    // named the same way, read again on the next tick().
    std::size_t report_events_per_minute = 600;
    // xenconsoled --log=guest writes <console_dir>/guest-<name>.log (its
    // --log-dir; default <xen_log_dir>/console).
    std::string console_dir;
    // The kernel prints its banner within its first moments; after this long,
    // or this much console output, without one the kernel stays unknown.
    double banner_wait_seconds = 600;
    std::size_t banner_window_bytes = 256U << 10;
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
    // Reads the reports a flood held back, looks for the kernel banners of
    // domains that have not printed one yet, and marks running boots alive
    // (call every few seconds).
    [[nodiscard]] Status tick();

    [[nodiscard]] const DomainSet& known() const noexcept { return m_known; }

private:
    [[nodiscard]] Result<DomainSet> scan();
    [[nodiscard]] ledger::ShutdownReason reason_from_xl_log(const DomainEntry& d) const;
    [[nodiscard]] std::string console_excerpt(const DomainEntry& d) const;
    [[nodiscard]] std::string console_log(const DomainEntry& d) const;
    // The console log's size now: where a domain appearing now begins.
    [[nodiscard]] std::optional<std::int64_t> console_size(const DomainEntry& d) const;
    // What changed since the last look, recorded in the open batch; the
    // log lines to say once it is committed.
    [[nodiscard]] Result<std::vector<std::string>>
    record_changes(const std::map<std::int64_t, DomainState>& states, bool have_states,
                   const DomainSet& after);
    [[nodiscard]] Status release(const DomainEntry& d, ledger::ShutdownReason reason,
                                 std::vector<std::string>& said);
    // A domain of a guest: its boot (the guest's previous boot when its last
    // domain ended in a suspend, i.e. xl restore, or when `resumed`: it ran
    // before this service started) and the watch on its report.
    struct Start {
        bool resumed = false; // it ran before this service started
        std::optional<std::int64_t> console_offset;
        bool console_searched = false; // resumed: the banner search had ended
    };
    [[nodiscard]] Status follow(const DomainEntry& d, const Start& start);
    [[nodiscard]] Status watch_report(std::int64_t domid);
    void unfollow(std::int64_t domid);
    // Reads these domains' reports and records what changed, in one batch.
    [[nodiscard]] Status read_reports(const std::set<std::int64_t>& domids);
    [[nodiscard]] Status read_report(std::int64_t domid);
    // One look for the domain's kernel banner; `last`: the domain is ending,
    // so what the log holds now is all there will be.
    [[nodiscard]] Status search_banner(std::int64_t domid, bool last);
    [[nodiscard]] Status end_banner_search(std::int64_t domid, std::string_view note);

    // What guardian-hostd follows of one domain's report.
    struct Followed {
        contract::DecodedReport last;
        std::string boot_key;     // the ledger's boot this domain runs
        double boot_started = 0;  // for a boot that began with this domain
        std::string kernel;       // as the guest reported it
        std::string distribution; // the same; "" until reported
        std::deque<double> reads; // times of the last minute's reads
        bool held_back = false;   // an event came while over the budget
        bool flood_named = false;
        double events_since = 0; // this minute's watch events on the report
        std::size_t events = 0;
        // The console banner search (guests without guardian).
        std::optional<std::int64_t> console_offset;
        bool banner_pending = false;
        bool boot_recorded = false; // the ledger has this boot (kernel known)
        double appeared = 0;
        double alive_marked = 0;
    };

    xen::XenStore& m_xs;
    Hypervisor* m_hypervisor;
    ledger::Ledger& m_ledger;
    Logger& m_log;
    ServiceOptions m_options;
    std::function<double()> m_now;
    DomainSet m_known;                 // as of the last scan
    std::set<std::int64_t> m_released; // shut down, tree not yet gone
    std::map<std::int64_t, Followed> m_followed;
    // Domains found by the first look were not seen appearing: their boot
    // may have begun long before, so their console offset is unknown.
    bool m_first_scan = true;
};

} // namespace guardian::hostd

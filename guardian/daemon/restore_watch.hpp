// The Xen half of guardiand: keeps a blkfront baseline, feeds every xenstore
// watch firing and clock change to the restore detector, and when a restore
// is decided, names what changed in the block protocol, judges it against
// the kernel risk verdict. It publishes nothing and keeps no daemon state:
// data/guardian/ is the daemon's (it only asks the publisher whether what
// was written vanished, one of the restore signals). No system calls of its own: it talks to the
// world only through the ports it is given, so tests drive it with MemoryXenStore and invented
// clocks.
#pragma once

#include "guardian/core/blkfront.hpp"
#include "guardian/core/report.hpp"
#include "guardian/core/restore_detector.hpp"
#include "guardian/core/risk_table.hpp"
#include "guardian/daemon/timers.hpp"
#include "guardian/sys/clocks.hpp"
#include "guardian/util/log.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/xen/publisher.hpp"
#include "guardian/xen/xenstore.hpp"

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace guardian::daemon {

// What a detected restore amounted to, once the vbds had reconnected.
struct RestoreEvent {
    RestoreDecision decision;
    std::vector<CaptureChange> changes; // blkfront before -> after
    FeatureChangeJudgement judgement;   // against the kernel verdict
    std::chrono::nanoseconds realtime{0};
};

struct RestoreWatchSettings {
    std::string version;
    std::string kernel;
    KernelVerdict verdict;
    RestoreDetectorConfig detector;
};

class RestoreWatch {
public:
    RestoreWatch(xen::XenStore& xs, Clocks& clocks, Logger& log, SystemRoot root,
                 RestoreWatchSettings settings, xen::ReportPublisher& publisher, Timers& timers);

    // Baseline capture and the watches on the block protocol. The caller
    // then publishes its first report and calls watch_publication().
    [[nodiscard]] Status start();
    // Watches data/guardian/ itself (its vanishing is a restore signal),
    // after draining what our own first publication fired. After this the
    // caller polls xs.watch_fd() and calls on_xenstore_readable().
    [[nodiscard]] Status watch_publication();

    void on_xenstore_readable();
    void on_clock_set();
    // A restore is being settled (vbds still reconnecting): the settle timer
    // (TimerSlot::settle, armed here) finishes it if the vbds never connect.
    [[nodiscard]] bool settling() const noexcept { return m_pending.has_value(); }
    void on_settle_timeout();

    // The daemon (verification, actions) subscribes here.
    std::function<void(const RestoreEvent&)> on_restore;
    // Watch events with tokens this class did not register (the daemon's own
    // watches, e.g. the coordinated-freeze request), delivered after ours.
    std::function<void(const xen::WatchEvent&)> on_other_event;

    [[nodiscard]] const BlkfrontCapture& baseline() const noexcept { return m_baseline; }
    [[nodiscard]] const std::optional<RestoreEvent>& last_restore() const noexcept {
        return m_last;
    }

private:
    void handle_events(const std::vector<xen::WatchEvent>& events);
    void after_observations();
    void finish_restore(bool forced);
    // Watches the baseline's backend paths; with may_unwatch, also drops the
    // watches on paths no longer in it.
    [[nodiscard]] Status rewatch_backends(bool may_unwatch);
    [[nodiscard]] bool all_connected(const BlkfrontCapture& c) const;

    xen::XenStore& m_xs;
    Clocks& m_clocks;
    Logger& m_log;
    SystemRoot m_root;
    RestoreWatchSettings m_settings;
    RestoreDetector m_detector;
    xen::ReportPublisher& m_publisher;
    Timers& m_timers;
    BlkfrontCapture m_baseline;
    std::set<std::string> m_backend_watches;  // backend paths watched now (may include old ones)
    std::optional<RestoreDecision> m_pending; // restore decided, waiting for vbds to reconnect
    std::optional<RestoreEvent> m_last;
};

} // namespace guardian::daemon

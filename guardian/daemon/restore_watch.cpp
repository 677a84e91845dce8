#include "guardian/daemon/restore_watch.hpp"

#include "guardian/xen/blkfront_capture.hpp"

#include <algorithm>

namespace guardian::daemon {
namespace {

// Watch tokens. The backend token carries no path: every firing of any
// backend directory leads to one fresh capture.
constexpr const char* k_tok_vbd = "vbd";
constexpr const char* k_tok_domid = "domid";
constexpr const char* k_tok_backend = "backend";
constexpr const char* k_tok_shutdown = "shutdown";
constexpr const char* k_tok_data = "data";

constexpr const char* k_xenbus_connected = "4";

// How long a restore waits for its vbds to reconnect before it is judged
// with what was seen (a blkfront that died in its reconnect never does).
constexpr auto k_settle_timeout = std::chrono::seconds(10);

} // namespace

RestoreWatch::RestoreWatch(xen::XenStore& xs, Clocks& clocks, Logger& log, SystemRoot root,
                           RestoreWatchSettings settings, xen::ReportPublisher& publisher,
                           Timers& timers)
    : m_xs(xs), m_clocks(clocks), m_log(log), m_root(std::move(root)),
      m_settings(std::move(settings)), m_detector(m_settings.detector), m_publisher(publisher),
      m_timers(timers) {}

Status RestoreWatch::start() {
    GUARDIAN_TRY_ASSIGN(m_baseline, xen::capture_blkfront(m_xs, m_root));
    m_detector.observe_capture(m_baseline, m_clocks.now());
    m_detector.observe_clock(m_clocks.now());
    for (const auto& [path, token] :
         {std::pair{"device/vbd", k_tok_vbd}, std::pair{"domid", k_tok_domid},
          std::pair{"control/shutdown", k_tok_shutdown}})
        GUARDIAN_TRY(m_xs.watch(path, token));
    GUARDIAN_TRY(rewatch_backends(/*may_unwatch=*/true));
    return ok_status();
}

Status RestoreWatch::watch_publication() {
    // Our own first publication and every watch's registration firing are
    // not news: drain them before the data/ watch goes on.
    GUARDIAN_TRY(m_xs.read_watch_events());
    GUARDIAN_TRY(m_xs.watch(m_publisher.base(), k_tok_data));
    GUARDIAN_TRY(m_xs.read_watch_events());
    m_log.info("blkfront baseline: " + std::to_string(m_baseline.vbds.size()) + " vbd(s), domid " +
               m_baseline.domid.value_or("?"));
    return ok_status();
}

Status RestoreWatch::rewatch_backends(bool may_unwatch) {
    std::set<std::string> wanted;
    for (const auto& v : m_baseline.vbds)
        if (!v.backend_path.empty())
            wanted.insert(v.backend_path);
    for (const auto& path : wanted)
        if (!m_backend_watches.contains(path)) {
            GUARDIAN_TRY(m_xs.watch(path, k_tok_backend));
            m_backend_watches.insert(path);
        }
    if (!may_unwatch)
        return ok_status(); // the old paths stay watched until a restore proves it safe
    for (auto it = m_backend_watches.begin(); it != m_backend_watches.end();)
        if (wanted.contains(*it)) {
            ++it;
        } else {
            (void)m_xs.unwatch(*it, k_tok_backend); // gone with the old backend: nothing to undo
            it = m_backend_watches.erase(it);
        }
    return ok_status();
}

void RestoreWatch::on_xenstore_readable() {
    auto events = m_xs.read_watch_events();
    if (!events) {
        m_log.error("xenstore watch events: " + events.error().message);
        return;
    }
    if (!events->empty())
        handle_events(*events);
    if (settling())
        m_timers.set(TimerSlot::settle, k_settle_timeout, [this] { on_settle_timeout(); });
}

void RestoreWatch::handle_events(const std::vector<xen::WatchEvent>& events) {
    const ClockSample now = m_clocks.now();
    m_detector.observe_clock(now);
    bool recapture = false;
    std::string first_path;
    for (const auto& ev : events) {
        if (ev.token == k_tok_vbd || ev.token == k_tok_domid || ev.token == k_tok_backend) {
            if (!recapture)
                first_path = ev.path;
            recapture = true;
        } else if (ev.token == k_tok_shutdown) {
            // The kernel's own handler has already cleared the value: this is
            // only a hint that a suspend may follow (docs/design.md).
            m_detector.observe_suspend_hint(now);
        }
    }
    std::vector<xen::WatchEvent> others;
    for (const auto& ev : events)
        if (ev.token != k_tok_vbd && ev.token != k_tok_domid && ev.token != k_tok_backend &&
            ev.token != k_tok_shutdown && ev.token != k_tok_data)
            others.push_back(ev);
    if (std::any_of(events.begin(), events.end(),
                    [](const auto& e) { return e.token == k_tok_data; })) {
        auto gone = m_publisher.vanished();
        if (gone && *gone)
            m_detector.observe_data_vanished(now);
    }
    if (recapture) {
        auto cap = xen::capture_blkfront(m_xs, m_root);
        if (!cap) {
            m_log.warning("blkfront capture: " + cap.error().message);
        } else if (m_detector.last_capture() && *cap == *m_detector.last_capture()) {
            m_detector.observe_watch_refire(first_path, now);
        } else {
            m_detector.observe_capture(*cap, now);
        }
    }
    after_observations();
    if (on_other_event)
        for (const auto& ev : others)
            on_other_event(ev);
}

void RestoreWatch::on_clock_set() {
    m_detector.observe_clock(m_clocks.now());
    after_observations();
}

void RestoreWatch::after_observations() {
    RestoreDecision d = m_detector.decide(m_clocks.now());
    for (const auto& note : d.notes)
        m_log.info(note);
    if (d.restored) {
        m_log.notice("restore detected (" + d.signal_list() + ")");
        if (m_pending) {
            m_pending->signals.insert(m_pending->signals.end(), d.signals.begin(), d.signals.end());
            m_pending->evidence.insert(m_pending->evidence.end(), d.evidence.begin(),
                                       d.evidence.end());
        } else {
            m_pending = std::move(d);
        }
    }
    if (m_pending)
        finish_restore(/*forced=*/false);
}

bool RestoreWatch::all_connected(const BlkfrontCapture& c) const {
    return std::all_of(c.vbds.begin(), c.vbds.end(), [](const VbdCapture& v) {
        return v.frontend_state == k_xenbus_connected && v.backend_state == k_xenbus_connected;
    });
}

void RestoreWatch::on_settle_timeout() {
    if (m_pending)
        finish_restore(/*forced=*/true);
}

void RestoreWatch::finish_restore(bool forced) {
    auto cap = xen::capture_blkfront(m_xs, m_root);
    const bool seen_connected = cap && all_connected(*cap);
    if (!cap) {
        m_log.warning("blkfront capture after restore: " + cap.error().message);
        if (!forced)
            return;
        cap = m_baseline; // judged as "nothing seen changed"; the reason says why
    }
    if (!forced && !seen_connected)
        return; // the vbds are still reconnecting; their state changes fire our watches
    const ClockSample now = m_clocks.now();
    RestoreEvent ev;
    ev.decision = std::move(*m_pending);
    m_pending.reset();
    ev.changes = compare(m_baseline, *cap);
    ev.judgement = judge_feature_change(m_settings.verdict, changed_feature_keys(ev.changes));
    ev.judgement.writes_unsafe = ev.judgement.severity == FeatureChangeSeverity::critical &&
                                 persistent_grants_newly_offered(ev.changes);
    ev.realtime = now.realtime;
    for (const auto& c : ev.changes)
        m_log.notice("across the restore: " + c.describe());
    m_baseline = std::move(*cap);
    // The new normal; comparing it with the pre-restore capture would count
    // this same restore a second time.
    m_detector.rebase(m_baseline, now);
    m_last = ev;
    // The verdict and whatever it sets off come before the watches move on
    // to the new backend paths. Removing a watch is the one xenstore request
    // that waits for the kernel's xenwatch thread (unregister_xenbus_watch
    // takes xenwatch_mutex), and a blkfront that hits BUG() while handling
    // the reconnect kills that thread holding the mutex: the rig's
    // stale-feature frontend did so (xen-blkfront.c:1081, a late completion
    // having disabled the device first), and the unwatch then hung guardiand
    // in D state with the verdict not yet given. Only a restore after which every vbd
    // reached Connected (which that thread carried out) unwatches; a forced
    // finish leaves the old paths watched, which costs nothing.
    if (on_restore)
        on_restore(ev);
    if (auto st = rewatch_backends(/*may_unwatch=*/seen_connected); !st)
        m_log.warning("re-watching backends: " + st.error().message);
}

} // namespace guardian::daemon

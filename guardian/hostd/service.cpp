#include "guardian/hostd/service.hpp"

#include "guardian/core/guest_metrics.hpp"
#include "guardian/core/guest_text.hpp"
#include "guardian/hostd/report_changes.hpp"
#include "guardian/hostd/xl_log.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/xen/subtree.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>

namespace guardian::hostd {

namespace {

constexpr std::string_view introduce_token = "guardian-hostd:introduce";
constexpr std::string_view release_token = "guardian-hostd:release";
// Each followed domain's report watch: this prefix and the domid.
constexpr std::string_view report_token = "guardian-hostd:report:";

std::optional<std::int64_t> domid_of(std::string_view s) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v >= 0x7FF0) {
        return std::nullopt;
    }
    return v;
}

// The last `limit` bytes of a log file that may have grown without bound.
Result<std::string> file_tail(const std::string& path, std::size_t limit) {
    auto fd = open_fd(path, O_RDONLY);
    if (!fd) {
        return std::move(fd).error();
    }
    struct stat st {};
    if (fstat(fd->get(), &st) != 0) {
        return Error::from_errno("fstat " + path);
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::size_t n = size < limit ? static_cast<std::size_t>(size) : limit;
    std::string out(n, '\0');
    GUARDIAN_TRY(pread_full(fd->get(), std::as_writable_bytes(std::span(out.data(), out.size())),
                            size - n, path));
    return out;
}

// A name usable in a log file's name: the toolstack writes it, but it is
// still checked before it becomes part of a path.
bool safe_file_name(std::string_view name) {
    return !name.empty() && name.size() <= 128 && name.front() != '.' &&
           name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

} // namespace

Service::Service(xen::XenStore& xs, Hypervisor* hypervisor, ledger::Ledger& ledger, Logger& log,
                 ServiceOptions options, std::function<double()> now)
    : m_xs(xs), m_hypervisor(hypervisor), m_ledger(ledger), m_log(log),
      m_options(std::move(options)), m_now(std::move(now)) {}

Status Service::start() {
    // Pick up where the ledger stands: domains it records as running are
    // not new, and those gone meanwhile are released by the first scan.
    auto running = m_ledger.running_domains();
    if (!running) {
        return std::move(running).error();
    }
    m_known.clear();
    m_followed.clear();
    for (const auto& r : *running) {
        m_known[r.domid] = DomainEntry{r.domid, r.guest.uuid, r.guest.name};
    }
    for (const auto& [domid, d] : m_known) {
        GUARDIAN_TRY(follow(d, true)); // it ran before this service: its boot goes on
    }
    GUARDIAN_TRY(m_xs.watch("@introduceDomain", introduce_token));
    GUARDIAN_TRY(m_xs.watch("@releaseDomain", release_token));
    return ok_status();
}

Status Service::on_watch_events() {
    auto events = m_xs.read_watch_events();
    if (!events) {
        return std::move(events).error();
    }
    // However many fired, one look answers them all: the special watches
    // do not say which domain anyway. A report watch names its domain.
    bool look = false;
    std::set<std::int64_t> reports;
    for (const auto& e : *events) {
        if (e.token.starts_with(report_token)) {
            if (const auto id = domid_of(std::string_view(e.token).substr(report_token.size()))) {
                reports.insert(*id);
                if (const auto f = m_followed.find(*id); f != m_followed.end()) {
                    Followed& w = f->second;
                    const double now = m_now();
                    if (now - w.events_since >= 60) {
                        w.events_since = now;
                        w.events = 0;
                    }
                    ++w.events;
                }
            }
        } else {
            look = true;
        }
    }
    if (look) {
        GUARDIAN_TRY(rescan());
    }
    return read_reports(reports);
}

Status Service::tick() {
    std::set<std::int64_t> held;
    for (const auto& [domid, f] : m_followed) {
        if (f.held_back) {
            held.insert(domid);
        }
    }
    return read_reports(held);
}

Status Service::follow(const DomainEntry& d, bool resumed) {
    Followed f;
    // xl restore (and a migration onto this host that it saw leave) gives
    // the guest a new domain after its old one ended in a suspend: the same
    // boot goes on. Anything else begins a new one.
    auto last_end = m_ledger.last_domain_end(d.uuid);
    if (!last_end) {
        return std::move(last_end).error();
    }
    if ((last_end->has_value() && **last_end == "suspend") || resumed) {
        auto boot = m_ledger.latest_boot(d.uuid);
        if (!boot) {
            return std::move(boot).error();
        }
        if (boot->has_value()) {
            f.boot_key = **boot;
        }
    }
    if (f.boot_key.empty()) {
        f.boot_key = fmt::format("{}@{:.0f}", d.domid, m_now());
        f.boot_started = m_now();
    }
    m_followed[d.domid] = std::move(f);
    // The watch fires once at once: the report as it stands is read then.
    return m_xs.watch(contract::domain_base_path(std::to_string(d.domid)),
                      std::string(report_token) + std::to_string(d.domid));
}

void Service::unfollow(std::int64_t domid) {
    if (m_followed.erase(domid) > 0) {
        // Best effort: the domain's tree is gone and the watch with it.
        (void)m_xs.unwatch(contract::domain_base_path(std::to_string(domid)),
                           std::string(report_token) + std::to_string(domid));
    }
}

Status Service::read_reports(const std::set<std::int64_t>& domids) {
    if (domids.empty()) {
        return ok_status();
    }
    GUARDIAN_TRY(m_ledger.begin_batch());
    for (const std::int64_t domid : domids) {
        if (auto st = read_report(domid); !st) {
            m_ledger.abandon_batch();
            return st;
        }
    }
    return m_ledger.commit_batch();
}

Status Service::read_report(std::int64_t domid) {
    const auto f = m_followed.find(domid);
    const auto d = m_known.find(domid);
    if (f == m_followed.end() || d == m_known.end()) {
        return ok_status(); // gone meanwhile
    }
    Followed& w = f->second;
    const ledger::GuestKey guest{d->second.uuid, d->second.name};
    const double now = m_now();
    while (!w.reads.empty() && now - w.reads.front() >= 60) {
        w.reads.pop_front();
    }
    const bool event_flood =
        now - w.events_since < 60 && w.events > m_options.report_events_per_minute;
    if (w.reads.size() >= m_options.report_reads_per_minute || event_flood) {
        w.held_back = true;
        if (!w.flood_named) {
            w.flood_named = true;
            const std::string what =
                event_flood ? fmt::format("data/guardian/ changed more than {} times a minute; "
                                          "read at most {} times a minute",
                                          m_options.report_events_per_minute,
                                          m_options.report_reads_per_minute)
                            : fmt::format("data/guardian/ changed more than {} times a minute; "
                                          "read at most that often",
                                          m_options.report_reads_per_minute);
            GUARDIAN_TRY(
                m_ledger.record(guest, domid, ledger::EventKind::hostile, now, w.boot_key, what));
            m_log.warning(fmt::format("domain {} ({}) floods its report: {}", domid,
                                      for_terminal(guest.uuid, 64), what));
        }
        return ok_status();
    }
    w.reads.push_back(now);
    w.held_back = false;
    auto nodes = xen::read_summary_nodes(m_xs, std::to_string(domid), contract::ledger_nodes());
    if (!nodes) {
        if (xen::is_not_found(nodes.error())) {
            return ok_status();
        }
        return std::move(nodes).error();
    }
    const contract::DecodedReport now_report = contract::decode_report(*nodes);
    const ReportChanges changes = report_changes(w.last, now_report);
    if (changes.kernel) {
        w.kernel = *changes.kernel;
    }
    if (!w.kernel.empty()) {
        // The boot's kernel, and that it is alive now.
        GUARDIAN_TRY(m_ledger.boot_seen(
            guest, domid, {w.boot_key, w.kernel, "", "", w.boot_started > 0 ? w.boot_started : now},
            now));
    }
    for (const auto& [kind, text] : changes.events) {
        GUARDIAN_TRY(m_ledger.record(guest, domid, kind, now, w.boot_key, text));
    }
    w.last = now_report;
    return ok_status();
}

Result<DomainSet> Service::scan() {
    auto ids = m_xs.directory("/local/domain");
    if (!ids) {
        return std::move(ids).error();
    }
    DomainSet out;
    for (const std::string& id : *ids) {
        const auto domid = domid_of(id);
        if (!domid || *domid == 0) {
            continue; // dom0 is the provider itself
        }
        // Known domains are not read again: one listing per event, not one
        // read per domain (a host with thousands of domains).
        if (const auto k = m_known.find(*domid);
            k != m_known.end() && ready(k->second) && !m_released.contains(*domid)) {
            out[*domid] = k->second;
            continue;
        }
        DomainEntry d;
        d.domid = *domid;
        const std::string home = "/local/domain/" + id;
        if (auto vm = m_xs.read(home + "/vm"); vm) {
            d.uuid = uuid_from_vm_node(*vm);
        }
        if (auto name = m_xs.read(home + "/name"); name) {
            d.name = *name;
        }
        out[d.domid] = std::move(d);
    }
    return out;
}

Status Service::rescan() {
    std::map<std::int64_t, DomainState> states;
    bool have_states = false;
    if (m_hypervisor != nullptr) {
        if (auto s = m_hypervisor->domains(); s) {
            states = std::move(s).value();
            have_states = true;
        } else {
            m_log.warning("hypervisor: " + s.error().message + "; shutdown reasons from xl's log");
        }
    }
    auto after = scan();
    if (!after) {
        return std::move(after).error();
    }
    // Shut down (or dying) while xenstore still lists it: released now, with
    // the hypervisor's own reason.
    // One transaction for the whole look: one sync, however many domains
    // came and went (a service that synced each one fell behind a busy
    // toolstack and missed short-lived domains between two looks).
    GUARDIAN_TRY(m_ledger.begin_batch());
    auto recorded = record_changes(states, have_states, *after);
    if (!recorded) {
        m_ledger.abandon_batch();
        return std::move(recorded).error();
    }
    GUARDIAN_TRY(m_ledger.commit_batch());
    for (const std::string& line : *recorded) {
        m_log.info(line);
    }
    m_known = std::move(after).value();
    return ok_status();
}

Result<std::vector<std::string>>
Service::record_changes(const std::map<std::int64_t, DomainState>& states, bool have_states,
                        const DomainSet& after) {
    std::vector<std::string> said;
    for (const auto& [domid, d] : m_known) {
        if (!ready(d) || m_released.contains(domid)) {
            continue;
        }
        const auto st = states.find(domid);
        if (st != states.end() && st->second.shutdown) {
            const auto reason = ledger::shutdown_reason_from_xen(st->second.shutdown_reason);
            GUARDIAN_TRY(release(d, reason.value_or(ledger::ShutdownReason::destroyed), said));
        } else if (have_states && st == states.end()) {
            GUARDIAN_TRY(release(d, reason_from_xl_log(d), said)); // gone from the hypervisor
        }
    }
    const DomainChanges changes = compare_domains(m_known, after);
    for (const DomainEntry& d : changes.gone) {
        if (!m_released.contains(d.domid)) {
            GUARDIAN_TRY(release(d, reason_from_xl_log(d), said));
        }
        m_released.erase(d.domid);
        unfollow(d.domid);
    }
    for (const DomainEntry& d : changes.appeared) {
        m_released.erase(d.domid);
        GUARDIAN_TRY(m_ledger.domain_introduced({d.uuid, d.name}, d.domid, m_now()));
        GUARDIAN_TRY(follow(d, false));
        said.push_back(fmt::format("domain {} appeared: {}", d.domid, d.uuid));
    }
    return said;
}

Status Service::release(const DomainEntry& d, ledger::ShutdownReason reason,
                        std::vector<std::string>& said) {
    std::string excerpt;
    if (reason == ledger::ShutdownReason::crash || reason == ledger::ShutdownReason::watchdog) {
        excerpt = console_excerpt(d);
    }
    GUARDIAN_TRY(m_ledger.domain_released(d.domid, m_now(), reason, excerpt));
    m_released.insert(d.domid);
    said.push_back(
        fmt::format("domain {} ({}) ended: {}", d.domid, d.uuid, ledger::to_string(reason)));
    return ok_status();
}

ledger::ShutdownReason Service::reason_from_xl_log(const DomainEntry& d) const {
    if (!safe_file_name(d.name)) {
        return ledger::ShutdownReason::destroyed;
    }
    auto text = file_tail(m_options.xen_log_dir + "/xl-" + d.name + ".log", 64U << 10);
    if (!text) {
        return ledger::ShutdownReason::destroyed;
    }
    const auto code = shutdown_code_in_xl_log(*text, d.domid);
    if (!code) {
        return ledger::ShutdownReason::destroyed;
    }
    return ledger::shutdown_reason_from_xen(*code).value_or(ledger::ShutdownReason::destroyed);
}

std::string Service::console_excerpt(const DomainEntry& d) const {
    if (!safe_file_name(d.name)) {
        return {};
    }
    // xenconsoled --log=guest keeps the guest's console here; its end holds
    // the kernel's last words (a PV guest's panic reaches its console when
    // nothing inside it survives). Guest-written: stored as is, escaped by
    // each output.
    auto text = file_tail(m_options.xen_log_dir + "/console/guest-" + d.name + ".log",
                          m_options.console_excerpt_bytes);
    return text ? std::move(text).value() : std::string();
}

} // namespace guardian::hostd

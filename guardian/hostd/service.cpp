#include "guardian/hostd/service.hpp"

#include "guardian/core/console_banner.hpp"
#include "guardian/core/guest_metrics.hpp"
#include "guardian/core/guest_text.hpp"
#include "guardian/hostd/report_changes.hpp"
#include "guardian/hostd/xl_log.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/xen/subtree.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>

namespace guardian::hostd {

namespace {

constexpr std::string_view introduce_token = "guardian-hostd:introduce";
constexpr std::string_view release_token = "guardian-hostd:release";
// Each followed domain's report watch: this prefix and the domid.
constexpr std::string_view report_token = "guardian-hostd:report:";
// How often the boot of a running domain is marked alive in the ledger.
constexpr double alive_mark_seconds = 3600;

std::optional<std::int64_t> domid_of(std::string_view s) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v >= 0x7FF0) {
        return std::nullopt;
    }
    return v;
}

// Part of a log file that may have grown without bound: `limit` bytes from
// `from`, or the last `limit` bytes when `from` is not given.
struct FilePart {
    std::uint64_t size = 0; // the whole file's
    std::uint64_t base = 0; // where `bytes` begins
    std::string bytes;
};

Result<FilePart> read_file_part(const std::string& path, std::optional<std::uint64_t> from,
                                std::size_t limit) {
    auto fd = open_fd(path, O_RDONLY);
    if (!fd) {
        return std::move(fd).error();
    }
    struct stat st {};
    if (fstat(fd->get(), &st) != 0) {
        return Error::from_errno("fstat " + path);
    }
    FilePart out;
    out.size = static_cast<std::uint64_t>(st.st_size);
    out.base =
        from ? std::min(*from, out.size) : out.size - std::min<std::uint64_t>(out.size, limit);
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size - out.base, limit));
    out.bytes.assign(n, '\0');
    GUARDIAN_TRY(pread_full(fd->get(),
                            std::as_writable_bytes(std::span(out.bytes.data(), out.bytes.size())),
                            out.base, path));
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
    m_first_scan = true;
    for (const auto& r : *running) {
        m_known[r.domid] = DomainEntry{r.domid, r.guest.uuid, r.guest.name};
        // It ran before this service: its boot goes on, and so does the
        // search for its banner if that had not ended.
        GUARDIAN_TRY(follow(m_known[r.domid], Start{true, r.console_offset, r.console_searched}));
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
    m_log.debug(fmt::format("xenstore: {} watch event(s): {} domain look, reports of [{}]",
                            events->size(), look ? "a" : "no", fmt::join(reports, " ")));
    if (look) {
        GUARDIAN_TRY(rescan());
    }
    return read_reports(reports);
}

Status Service::tick() {
    std::set<std::int64_t> held;
    std::set<std::int64_t> banners;
    std::set<std::int64_t> alive;
    const double now = m_now();
    for (const auto& [domid, f] : m_followed) {
        if (f.held_back) {
            held.insert(domid);
        }
        if (f.banner_pending) {
            banners.insert(domid);
        }
        // The hypervisor runs it: its boot is alive (the guest-days of a
        // guest without guardian, which reports nothing, count from this).
        if (f.boot_recorded && now - f.alive_marked >= alive_mark_seconds) {
            alive.insert(domid);
        }
    }
    GUARDIAN_TRY(read_reports(held));
    if (banners.empty() && alive.empty()) {
        return ok_status();
    }
    GUARDIAN_TRY(m_ledger.begin_batch());
    Status st = ok_status();
    for (const std::int64_t domid : banners) {
        if (st = search_banner(domid, false); !st) {
            break;
        }
    }
    for (const std::int64_t domid : alive) {
        if (!st) {
            break;
        }
        const auto d = m_known.find(domid);
        if (d == m_known.end()) {
            continue; // gone meanwhile
        }
        Followed& w = m_followed[domid];
        st = m_ledger.boot_continues({d->second.uuid, d->second.name}, domid, w.boot_key, now);
        w.alive_marked = now;
    }
    if (!st) {
        m_ledger.abandon_batch();
        return st;
    }
    return m_ledger.commit_batch();
}

Status Service::follow(const DomainEntry& d, const Start& start) {
    Followed f;
    const double now = m_now();
    f.appeared = now;
    f.console_offset = start.console_offset;
    // xl restore (and a migration onto this host that it saw leave) gives
    // the guest a new domain after its old one ended in a suspend: the same
    // boot goes on. Anything else begins a new one.
    auto last_end = m_ledger.last_domain_end(d.uuid);
    if (!last_end) {
        return std::move(last_end).error();
    }
    const bool restored = last_end->has_value() && **last_end == "suspend";
    if (restored || start.resumed) {
        auto boot = m_ledger.latest_boot(d.uuid);
        if (!boot) {
            return std::move(boot).error();
        }
        if (boot->has_value()) {
            f.boot_key = **boot;
            f.boot_recorded = true;
        }
    }
    const ledger::GuestKey guest{d.uuid, d.name};
    if (f.boot_key.empty()) {
        f.boot_key = fmt::format("{}@{:.0f}", d.domid, now);
        f.boot_started = now;
    } else if (restored && !start.resumed) {
        // A restored kernel prints no banner: its boot, and the kernel the
        // boot was known to run, go on in this domain.
        GUARDIAN_TRY(m_ledger.boot_continues(guest, d.domid, f.boot_key, now));
        GUARDIAN_TRY(m_ledger.console_searched(
            d.domid, "restored: the boot goes on from the guest's previous domain, whose "
                     "kernel it runs (a restored kernel prints no banner)"));
        f.alive_marked = now;
        m_followed[d.domid] = std::move(f);
        return watch_report(d.domid);
    }
    f.banner_pending = f.console_offset.has_value() && !start.console_searched;
    if (!f.console_offset && !start.console_searched) {
        GUARDIAN_TRY(m_ledger.console_searched(
            d.domid, "guardian-hostd did not see this domain appear (it was running before the "
                     "service started or reconnected), so where its boot begins in the console "
                     "log is unknown"));
    }
    m_followed[d.domid] = std::move(f);
    return watch_report(d.domid);
}

Status Service::watch_report(std::int64_t domid) {
    // The watch fires once at once: the report as it stands is read then.
    return m_xs.watch(contract::domain_base_path(std::to_string(domid)),
                      std::string(report_token) + std::to_string(domid));
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
        m_log.debug(fmt::format("domain {}: report not read: {}", domid,
                                f == m_followed.end() ? "not followed" : "not known"));
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
    m_log.debug(fmt::format("domain {}: report read: {} node(s), {} new event(s), kernel '{}'",
                            domid, nodes->size(), changes.events.size(),
                            for_terminal(changes.kernel.value_or(w.kernel), 64)));
    if (changes.kernel) {
        w.kernel = *changes.kernel;
    }
    if (changes.distribution) {
        w.distribution = *changes.distribution;
    }
    if (!w.kernel.empty()) {
        // The boot's kernel and distribution, and that it is alive now.
        GUARDIAN_TRY(m_ledger.boot_seen(
            guest, domid,
            {w.boot_key, w.kernel, "", w.distribution, w.boot_started > 0 ? w.boot_started : now},
            now));
        w.boot_recorded = true;
        w.alive_marked = now;
    }
    for (const auto& [kind, text] : changes.events) {
        // Kernel trouble and the previous boot's end are the guest's
        // standing record of its boot, republished after every restore.
        const bool standing =
            kind == ledger::EventKind::trouble || kind == ledger::EventKind::previous_boot;
        GUARDIAN_TRY(standing ? m_ledger.record_once(guest, domid, kind, now, w.boot_key, text)
                              : m_ledger.record(guest, domid, kind, now, w.boot_key, text));
    }
    // A report without `version` is not guardian's yet (guardian-boot writes
    // the boot report before guardiand starts): what it holds is news once
    // guardiand speaks, so it does not become the report compared against.
    if (now_report.present) {
        w.last = now_report;
    }
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
    m_first_scan = false;
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
        // Seen appearing: nothing of its boot is on its console yet (xl
        // unpauses a domain after introducing it), so the log's size now is
        // where the boot's output will begin.
        const auto offset = m_first_scan ? std::nullopt : console_size(d);
        GUARDIAN_TRY(m_ledger.domain_introduced({d.uuid, d.name}, d.domid, m_now(), offset));
        GUARDIAN_TRY(follow(d, Start{false, offset, false}));
        said.push_back(fmt::format("domain {} appeared: {}", d.domid, d.uuid));
    }
    return said;
}

Status Service::release(const DomainEntry& d, ledger::ShutdownReason reason,
                        std::vector<std::string>& said) {
    // A domain that dies young has printed all it ever will: its banner
    // (if any) goes to its boot before the boot's end is recorded.
    GUARDIAN_TRY(search_banner(d.domid, true));
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
    auto text = read_file_part(m_options.xen_log_dir + "/xl-" + d.name + ".log", {}, 64U << 10);
    if (!text) {
        return ledger::ShutdownReason::destroyed;
    }
    const auto code = shutdown_code_in_xl_log(text->bytes, d.domid);
    if (!code) {
        return ledger::ShutdownReason::destroyed;
    }
    return ledger::shutdown_reason_from_xen(*code).value_or(ledger::ShutdownReason::destroyed);
}

std::string Service::console_log(const DomainEntry& d) const {
    if (!safe_file_name(d.name)) {
        return {};
    }
    const std::string dir =
        m_options.console_dir.empty() ? m_options.xen_log_dir + "/console" : m_options.console_dir;
    return dir + "/guest-" + d.name + ".log";
}

std::optional<std::int64_t> Service::console_size(const DomainEntry& d) const {
    const std::string path = console_log(d);
    if (path.empty()) {
        return std::nullopt;
    }
    struct stat st {};
    // No log yet: xenconsoled creates it when the guest first writes.
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : 0;
}

std::string Service::console_excerpt(const DomainEntry& d) const {
    // xenconsoled --log=guest keeps the guest's console; its end holds the
    // kernel's last words (a PV guest's panic reaches its console when
    // nothing inside it survives). Guest-written: stored as is, escaped by
    // each output.
    const std::string path = console_log(d);
    if (path.empty()) {
        return {};
    }
    auto text = read_file_part(path, {}, m_options.console_excerpt_bytes);
    return text ? std::move(text->bytes) : std::string();
}

Status Service::search_banner(std::int64_t domid, bool last) {
    const auto f = m_followed.find(domid);
    const auto d = m_known.find(domid);
    if (f == m_followed.end() || d == m_known.end() || !f->second.banner_pending ||
        !f->second.console_offset) {
        return ok_status();
    }
    Followed& w = f->second;
    const std::string path = console_log(d->second);
    if (path.empty()) {
        return end_banner_search(domid, "the domain's name cannot name a console log");
    }
    const double now = m_now();
    const auto since = static_cast<std::uint64_t>(*w.console_offset);
    // From the byte before the start: a start in mid-line is recognised.
    const std::uint64_t base = since > 0 ? since - 1 : 0;
    const std::size_t limit =
        m_options.banner_window_bytes + static_cast<std::size_t>(since - base);
    auto part = read_file_part(path, base, limit);
    const bool waited = last || now - w.appeared >= m_options.banner_wait_seconds;
    if (!part) {
        return waited ? end_banner_search(
                            domid, fmt::format("no console log ({}): xenconsoled does not log "
                                               "this guest (xenconsoled --log=guest)",
                                               part.error().message))
                      : ok_status();
    }
    const BannerSearch found = find_boot_banner(part->bytes, since, part->base);
    if (found.banner) {
        const ConsoleBanner& b = *found.banner;
        GUARDIAN_TRY(m_ledger.boot_seen({d->second.uuid, d->second.name}, domid,
                                        {w.boot_key, b.release, b.build, "",
                                         w.boot_started > 0 ? w.boot_started : now,
                                         ledger::KernelSource::console_banner},
                                        now));
        w.boot_recorded = true;
        w.alive_marked = now;
        m_log.info(fmt::format("domain {} ({}): kernel {} from its console's boot banner", domid,
                               d->second.uuid, b.release));
        return end_banner_search(domid, found.why);
    }
    const bool window_full = part->bytes.size() >= limit;
    if (found.conclusive || window_full || waited) {
        return end_banner_search(domid, window_full
                                            ? fmt::format("{} (within its first {} bytes)",
                                                          found.why, m_options.banner_window_bytes)
                                            : found.why);
    }
    return ok_status(); // the kernel may not have printed it yet
}

Status Service::end_banner_search(std::int64_t domid, std::string_view note) {
    if (const auto f = m_followed.find(domid); f != m_followed.end()) {
        f->second.banner_pending = false;
    }
    return m_ledger.console_searched(domid, note);
}

} // namespace guardian::hostd

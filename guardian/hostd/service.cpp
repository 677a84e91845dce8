#include "guardian/hostd/service.hpp"

#include "guardian/core/guest_metrics.hpp"
#include "guardian/hostd/xl_log.hpp"
#include "guardian/util/fd.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>

namespace guardian::hostd {

namespace {

constexpr std::string_view introduce_token = "guardian-hostd:introduce";
constexpr std::string_view release_token = "guardian-hostd:release";

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
    for (const auto& r : *running) {
        m_known[r.domid] = DomainEntry{r.domid, r.guest.uuid, r.guest.name};
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
    // However many fired, one look answers them all: the watches do not
    // say which domain anyway.
    if (events->empty()) {
        return ok_status();
    }
    return rescan();
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
    }
    for (const DomainEntry& d : changes.appeared) {
        m_released.erase(d.domid);
        GUARDIAN_TRY(m_ledger.domain_introduced({d.uuid, d.name}, d.domid, m_now()));
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

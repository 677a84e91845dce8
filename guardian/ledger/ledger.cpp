#include "guardian/ledger/ledger.hpp"

#include "guardian/ledger/schema.hpp"

#include <fmt/format.h>

#include <array>
#include <map>

namespace guardian::ledger {

namespace {

constexpr double seconds_per_day = 86400;

// The guest a name or a VM UUID means (bound as ?1): the UUID's, else the
// newest guest of that name (names may be reused; UUIDs are not).
constexpr std::string_view guest_by_key = "(SELECT id FROM guests WHERE uuid = ?1 OR name = ?1 "
                                          "ORDER BY (uuid = ?1) DESC, last_seen DESC LIMIT 1)";

// How a domain's end reads as a boot's end.
std::optional<std::string_view> boot_end_of(ShutdownReason reason) {
    switch (reason) {
    case ShutdownReason::poweroff:
    case ShutdownReason::reboot:
    case ShutdownReason::soft_reset:
        return "orderly";
    case ShutdownReason::crash:
        return "crash";
    case ShutdownReason::watchdog:
        return "watchdog";
    case ShutdownReason::destroyed:
        return "destroyed";
    case ShutdownReason::suspend:
        break;
    }
    return std::nullopt;
}

} // namespace

std::string_view to_string(ShutdownReason reason) noexcept {
    switch (reason) {
    case ShutdownReason::poweroff:
        return "poweroff";
    case ShutdownReason::reboot:
        return "reboot";
    case ShutdownReason::suspend:
        return "suspend";
    case ShutdownReason::crash:
        return "crash";
    case ShutdownReason::watchdog:
        return "watchdog";
    case ShutdownReason::soft_reset:
        return "soft_reset";
    case ShutdownReason::destroyed:
        break;
    }
    return "destroyed";
}

std::optional<ShutdownReason> shutdown_reason_from_xen(unsigned code) noexcept {
    // xen/include/public/sched.h: SHUTDOWN_poweroff 0 .. SHUTDOWN_soft_reset 5.
    constexpr std::array<ShutdownReason, 6> by_code = {
        ShutdownReason::poweroff, ShutdownReason::reboot,   ShutdownReason::suspend,
        ShutdownReason::crash,    ShutdownReason::watchdog, ShutdownReason::soft_reset};
    if (code >= by_code.size()) {
        return std::nullopt;
    }
    return by_code[code];
}

std::string_view to_string(EventKind kind) noexcept {
    switch (kind) {
    case EventKind::domain_start:
        return "domain-start";
    case EventKind::domain_end:
        return "domain-end";
    case EventKind::boot:
        return "boot";
    case EventKind::verdict:
        return "verdict";
    case EventKind::incident:
        return "incident";
    case EventKind::restore:
        return "restore";
    case EventKind::trouble:
        return "trouble";
    case EventKind::crash:
        return "crash";
    case EventKind::boot_report:
        return "boot-report";
    case EventKind::previous_boot:
        return "previous-boot";
    case EventKind::hostile:
        break;
    }
    return "hostile";
}

std::string_view to_string(KernelSource source) noexcept {
    return source == KernelSource::console_banner ? "console banner" : "guardian report";
}

bool is_unclean_end(std::string_view end_kind) noexcept {
    return end_kind == "crash" || end_kind == "watchdog" || end_kind == "destroyed" ||
           end_kind == "unclean";
}

Result<Ledger> Ledger::open(const std::string& path, Limits limits) {
    auto db = Database::open(path);
    if (!db) {
        return std::move(db).error();
    }
    // WAL: readers (guardian-host) never block the service; FULL: every
    // commit is synced, so what was acknowledged survives a power cut.
    GUARDIAN_TRY(db->exec("PRAGMA journal_mode = WAL"));
    GUARDIAN_TRY(db->exec("PRAGMA synchronous = FULL"));
    GUARDIAN_TRY(db->exec("PRAGMA foreign_keys = ON"));
    auto found = migrate(*db);
    if (!found) {
        return Error{fmt::format("ledger {}: {}", path, found.error().message), 0};
    }
    return Ledger(std::move(db).value(), limits);
}

Result<Ledger> Ledger::open_read_only(const std::string& path) {
    auto db = Database::open(path, true);
    if (!db) {
        return std::move(db).error();
    }
    auto version = schema_version(*db);
    if (!version) {
        return std::move(version).error();
    }
    if (*version != current_schema_version()) {
        return Error{fmt::format("ledger {}: schema version {}, this guardian-host reads {}", path,
                                 *version, current_schema_version()),
                     0};
    }
    return Ledger(std::move(db).value(), Limits{});
}

std::string Ledger::bounded(std::string_view text) const {
    if (text.size() <= m_limits.max_text_bytes) {
        return std::string(text);
    }
    return fmt::format("{}... [{} more bytes cut]", text.substr(0, m_limits.max_text_bytes),
                       text.size() - m_limits.max_text_bytes);
}

Result<std::int64_t> Ledger::guest_id(const GuestKey& guest, double at) {
    // The UUID is the toolstack's; the name may change (xl rename).
    GUARDIAN_TRY(m_db.run("INSERT INTO guests (uuid, name, first_seen, last_seen) "
                          "VALUES (?1, ?2, ?3, ?3) "
                          "ON CONFLICT (uuid) DO UPDATE SET name = ?2, "
                          "last_seen = max(last_seen, ?3)",
                          {guest.uuid, bounded(guest.name), at}));
    auto rows = m_db.query("SELECT id FROM guests WHERE uuid = ?1", {guest.uuid});
    if (!rows) {
        return std::move(rows).error();
    }
    return as_int(rows->front().front());
}

Status Ledger::insert_event(std::int64_t guest, std::optional<std::int64_t> domid, EventKind kind,
                            double at, std::string_view boot_id, std::string_view text) {
    GUARDIAN_TRY(
        m_db.run("INSERT INTO events (guest_id, domid, at, kind, boot_id, detail) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                 {guest, domid ? SqlValue(*domid) : SqlValue(), at, std::string(to_string(kind)),
                  boot_id.empty() ? SqlValue() : SqlValue(bounded(boot_id)), bounded(text)}));
    // The per-guest bound: the oldest events beyond it go, counted.
    GUARDIAN_TRY(m_db.run("DELETE FROM events WHERE guest_id = ?1 AND id <= ("
                          "SELECT id FROM events WHERE guest_id = ?1 "
                          "ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                          {guest, static_cast<std::int64_t>(m_limits.max_events_per_guest)}));
    if (const std::int64_t dropped = m_db.changes(); dropped > 0) {
        GUARDIAN_TRY(
            m_db.run("UPDATE guests SET dropped_events = dropped_events + ?2 WHERE id = ?1",
                     {guest, dropped}));
    }
    return ok_status();
}

Status Ledger::begin_batch() {
    if (m_batch) {
        return Error{"ledger: a batch is already open", 0};
    }
    auto tx = std::make_unique<Transaction>(m_db);
    GUARDIAN_TRY(tx->begin());
    m_batch = std::move(tx);
    return ok_status();
}

Status Ledger::commit_batch() {
    if (!m_batch) {
        return Error{"ledger: no batch is open", 0};
    }
    auto tx = std::move(m_batch);
    return tx->commit(); // on failure the Transaction rolls back as it goes
}

void Ledger::abandon_batch() {
    m_batch.reset(); // rolls back
}

Status Ledger::domain_introduced(const GuestKey& guest, std::int64_t domid, double at,
                                 std::optional<std::int64_t> console_offset) {
    Scope tx(*this);
    GUARDIAN_TRY(tx.begin());
    auto id = guest_id(guest, at);
    if (!id) {
        return std::move(id).error();
    }
    auto open =
        m_db.query("SELECT guest_id FROM domains WHERE domid = ?1 AND released IS NULL", {domid});
    if (!open) {
        return std::move(open).error();
    }
    if (!open->empty() && as_int(open->front().front()) == *id) {
        return tx.commit(); // already recorded (the service restarted)
    }
    // A domid still open for another guest belongs to a domain whose
    // release was missed: it is gone now, reason unknown.
    GUARDIAN_TRY(m_db.run("UPDATE domains SET released = ?2, shutdown_reason = 'unknown' "
                          "WHERE domid = ?1 AND released IS NULL",
                          {domid, at}));
    GUARDIAN_TRY(
        m_db.run("INSERT INTO domains (guest_id, domid, created, console_offset) "
                 "VALUES (?1, ?2, ?3, ?4)",
                 {*id, domid, at, console_offset ? SqlValue(*console_offset) : SqlValue()}));
    GUARDIAN_TRY(insert_event(*id, domid, EventKind::domain_start, at, {}, {}));
    return tx.commit();
}

Status Ledger::domain_released(std::int64_t domid, double at, ShutdownReason reason,
                               std::string_view console_excerpt) {
    Scope tx(*this);
    GUARDIAN_TRY(tx.begin());
    auto rows = m_db.query("SELECT id, guest_id FROM domains WHERE domid = ?1 AND released IS NULL",
                           {domid});
    if (!rows) {
        return std::move(rows).error();
    }
    if (rows->empty()) {
        return ok_status(); // never seen appearing (the service started later)
    }
    const std::int64_t domain = as_int(rows->front()[0]);
    const std::int64_t guest = as_int(rows->front()[1]);
    const std::string why(to_string(reason));
    GUARDIAN_TRY(m_db.run("UPDATE domains SET released = ?2, shutdown_reason = ?3 WHERE id = ?1",
                          {domain, at, why}));
    GUARDIAN_TRY(insert_event(guest, domid, EventKind::domain_end, at, {}, why));
    if (reason == ShutdownReason::crash || reason == ShutdownReason::watchdog) {
        GUARDIAN_TRY(insert_event(guest, domid, EventKind::crash, at, {},
                                  console_excerpt.empty() ? why : console_excerpt));
    }
    if (const auto end = boot_end_of(reason)) {
        // The guest's own word (boot_ended) wins where it already spoke.
        GUARDIAN_TRY(m_db.run("UPDATE boots SET end_kind = ?2, last_alive = max(last_alive, ?3) "
                              "WHERE domain_id = ?1 AND end_kind IS NULL",
                              {domain, std::string(*end), at}));
    }
    GUARDIAN_TRY(
        m_db.run("UPDATE guests SET last_seen = max(last_seen, ?2) WHERE id = ?1", {guest, at}));
    return tx.commit();
}

Status Ledger::console_searched(std::int64_t domid, std::string_view note) {
    return m_db.run("UPDATE domains SET console_note = ?2 WHERE domid = ?1 AND released IS NULL",
                    {domid, bounded(note)});
}

Status Ledger::boot_continues(const GuestKey& guest, std::int64_t domid, std::string_view boot_id,
                              double at) {
    return m_db.run("UPDATE boots SET last_alive = max(last_alive, ?4), domain_id = coalesce(("
                    "SELECT d.id FROM domains d WHERE d.domid = ?3 AND d.released IS NULL "
                    "AND d.guest_id = boots.guest_id), domain_id) "
                    "WHERE boot_id = ?2 AND guest_id = (SELECT id FROM guests WHERE uuid = ?1)",
                    {guest.uuid, bounded(boot_id), domid, at});
}

Status Ledger::boot_seen(const GuestKey& guest, std::int64_t domid, const BootSeen& boot,
                         double at) {
    Scope tx(*this);
    GUARDIAN_TRY(tx.begin());
    auto id = guest_id(guest, at);
    if (!id) {
        return std::move(id).error();
    }
    auto domain = m_db.query("SELECT id FROM domains WHERE domid = ?1 AND released IS NULL "
                             "AND guest_id = ?2",
                             {domid, *id});
    if (!domain) {
        return std::move(domain).error();
    }
    const SqlValue domain_id = domain->empty() ? SqlValue() : domain->front().front();
    auto known = m_db.query("SELECT id, kernel_source FROM boots WHERE guest_id = ?1 AND "
                            "boot_id = ?2",
                            {*id, bounded(boot.boot_id)});
    if (!known) {
        return std::move(known).error();
    }
    const std::string source(to_string(boot.source));
    if (!known->empty()) {
        GUARDIAN_TRY(m_db.run("UPDATE boots SET last_alive = max(last_alive, ?2), "
                              "domain_id = coalesce(?3, domain_id) WHERE id = ?1",
                              {known->front()[0], at, domain_id}));
        // The guest's own word outranks what its console showed.
        if (boot.source == KernelSource::guardian_report && !boot.kernel.empty() &&
            as_text(known->front()[1]) != source) {
            GUARDIAN_TRY(
                m_db.run("UPDATE boots SET kernel = ?2, kernel_version = ?3, "
                         "distribution = ?4, kernel_source = ?5 WHERE id = ?1",
                         {known->front()[0], bounded(boot.kernel), bounded(boot.kernel_version),
                          bounded(boot.distribution), source}));
        } else if (boot.source == KernelSource::guardian_report && !boot.distribution.empty()) {
            // A report read before its distribution node was written (or
            // from a release that had none) left it empty; filled once.
            GUARDIAN_TRY(m_db.run("UPDATE boots SET distribution = ?2 WHERE id = ?1 AND "
                                  "distribution = ''",
                                  {known->front()[0], bounded(boot.distribution)}));
        }
        return tx.commit();
    }
    GUARDIAN_TRY(m_db.run(
        "INSERT INTO boots (guest_id, domain_id, boot_id, kernel, kernel_version, distribution, "
        "started, last_alive, kernel_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        {*id, domain_id, bounded(boot.boot_id), bounded(boot.kernel), bounded(boot.kernel_version),
         bounded(boot.distribution), boot.started, std::max(at, boot.started), source}));
    GUARDIAN_TRY(insert_event(
        *id, domid, EventKind::boot, at, boot.boot_id,
        boot.source == KernelSource::console_banner
            ? fmt::format("{} (from the kernel's boot banner on the console)", boot.kernel)
            : fmt::format("{} {}", boot.kernel, boot.distribution)));
    // The per-guest bound on boots: the oldest ended ones go first.
    GUARDIAN_TRY(m_db.run("DELETE FROM boots WHERE guest_id = ?1 AND id <= ("
                          "SELECT id FROM boots WHERE guest_id = ?1 "
                          "ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                          {*id, static_cast<std::int64_t>(m_limits.max_boots_per_guest)}));
    return tx.commit();
}

Status Ledger::boot_ended(const GuestKey& guest, std::string_view boot_id,
                          std::string_view end_kind) {
    return m_db.run("UPDATE boots SET end_kind = ?3 WHERE boot_id = ?2 AND guest_id = "
                    "(SELECT id FROM guests WHERE uuid = ?1)",
                    {guest.uuid, bounded(boot_id), bounded(end_kind)});
}

Status Ledger::record(const GuestKey& guest, std::optional<std::int64_t> domid, EventKind kind,
                      double at, std::string_view boot_id, std::string_view text) {
    return record_event(guest, domid, kind, at, boot_id, text, false);
}

Status Ledger::record_once(const GuestKey& guest, std::optional<std::int64_t> domid, EventKind kind,
                           double at, std::string_view boot_id, std::string_view text) {
    return record_event(guest, domid, kind, at, boot_id, text, true);
}

Status Ledger::record_event(const GuestKey& guest, std::optional<std::int64_t> domid,
                            EventKind kind, double at, std::string_view boot_id,
                            std::string_view text, bool once) {
    Scope tx(*this);
    GUARDIAN_TRY(tx.begin());
    auto id = guest_id(guest, at);
    if (!id) {
        return std::move(id).error();
    }
    if (once) {
        auto seen =
            m_db.query("SELECT 1 FROM events WHERE guest_id = ?1 AND kind = ?2 AND "
                       "boot_id IS ?3 AND detail = ?4 LIMIT 1",
                       {*id, std::string(to_string(kind)),
                        boot_id.empty() ? SqlValue() : SqlValue(bounded(boot_id)), bounded(text)});
        if (!seen) {
            return std::move(seen).error();
        }
        if (!seen->empty()) {
            return tx.commit(); // already recorded for this boot
        }
    }
    GUARDIAN_TRY(insert_event(*id, domid, kind, at, boot_id, text));
    return tx.commit();
}

Result<std::vector<TimelineEntry>> Ledger::timeline(std::string_view name_or_uuid) {
    auto rows = m_db.query(fmt::format("SELECT e.at, e.kind, e.domid, e.boot_id, e.detail "
                                       "FROM events e WHERE e.guest_id = {} ORDER BY e.id",
                                       guest_by_key),
                           {std::string(name_or_uuid)});
    if (!rows) {
        return std::move(rows).error();
    }
    std::vector<TimelineEntry> out;
    for (const auto& r : *rows) {
        TimelineEntry e;
        e.at = as_real(r[0]);
        e.kind = as_text(r[1]);
        if (!is_null(r[2])) {
            e.domid = as_int(r[2]);
        }
        e.boot_id = as_text(r[3]);
        e.text = as_text(r[4]);
        out.push_back(std::move(e));
    }
    return out;
}

Result<std::vector<GuestSummary>> Ledger::guests() {
    return query_guests("", {});
}

Result<std::optional<GuestSummary>> Ledger::guest(std::string_view name_or_uuid) {
    auto found =
        query_guests(fmt::format("WHERE g.id = {}", guest_by_key), {std::string(name_or_uuid)});
    if (!found) {
        return std::move(found).error();
    }
    if (found->empty()) {
        return std::optional<GuestSummary>();
    }
    return std::optional<GuestSummary>(std::move(found->front()));
}

Result<std::vector<GuestSummary>> Ledger::query_guests(std::string_view where,
                                                       const std::vector<SqlValue>& params) {
    auto rows = m_db.query(
        fmt::format("SELECT g.uuid, g.name, g.first_seen, g.last_seen, g.dropped_events, "
                    "(SELECT d.domid FROM domains d WHERE d.guest_id = g.id AND d.released IS NULL "
                    "ORDER BY d.id DESC LIMIT 1) FROM guests g {} ORDER BY g.name, g.uuid",
                    where),
        params);
    if (!rows) {
        return std::move(rows).error();
    }
    std::vector<GuestSummary> out;
    for (const auto& r : *rows) {
        GuestSummary s;
        s.key = {as_text(r[0]), as_text(r[1])};
        s.first_seen = as_real(r[2]);
        s.last_seen = as_real(r[3]);
        s.dropped_events = as_int(r[4]);
        if (!is_null(r[5])) {
            s.running_domid = as_int(r[5]);
        }
        out.push_back(std::move(s));
    }
    return out;
}

Result<std::vector<Ledger::RunningDomain>> Ledger::running_domains() {
    auto rows = m_db.query("SELECT d.domid, g.uuid, g.name, d.console_offset, d.console_note "
                           "FROM domains d JOIN guests g ON g.id = d.guest_id "
                           "WHERE d.released IS NULL ORDER BY d.domid");
    if (!rows) {
        return std::move(rows).error();
    }
    std::vector<RunningDomain> out;
    for (const auto& r : *rows) {
        RunningDomain d{as_int(r[0]), {as_text(r[1]), as_text(r[2])}, {}, !is_null(r[4])};
        if (!is_null(r[3])) {
            d.console_offset = as_int(r[3]);
        }
        out.push_back(std::move(d));
    }
    return out;
}

Result<std::optional<Ledger::DomainKernel>> Ledger::domain_kernel(std::int64_t domid) {
    // The boot that runs in the domain: the newest one attached to it.
    auto rows = m_db.query(
        "SELECT g.uuid, g.name, d.created, d.console_offset, d.console_note, b.kernel, "
        "b.kernel_version, b.kernel_source FROM domains d JOIN guests g ON g.id = d.guest_id "
        "LEFT JOIN boots b ON b.id = (SELECT id FROM boots WHERE domain_id = d.id "
        "ORDER BY started DESC, id DESC LIMIT 1) "
        "WHERE d.domid = ?1 AND d.released IS NULL ORDER BY d.id DESC LIMIT 1",
        {domid});
    if (!rows) {
        return std::move(rows).error();
    }
    if (rows->empty()) {
        return std::optional<DomainKernel>();
    }
    const auto& r = rows->front();
    DomainKernel k;
    k.guest = {as_text(r[0]), as_text(r[1])};
    k.created = as_real(r[2]);
    if (!is_null(r[3])) {
        k.console_offset = as_int(r[3]);
    }
    if (!is_null(r[4])) {
        k.console_note = as_text(r[4]);
    }
    k.kernel = as_text(r[5]); // "" when no boot is attached
    k.kernel_version = as_text(r[6]);
    k.kernel_source = as_text(r[7]);
    return std::optional<DomainKernel>(std::move(k));
}

Result<std::optional<std::string>> Ledger::first_text(std::string_view sql,
                                                      const std::vector<SqlValue>& params) {
    auto rows = m_db.query(sql, params);
    if (!rows) {
        return std::move(rows).error();
    }
    if (rows->empty()) {
        return std::optional<std::string>();
    }
    return std::optional<std::string>(as_text(rows->front().front()));
}

Result<std::optional<std::string>> Ledger::last_domain_end(std::string_view uuid) {
    return first_text("SELECT d.shutdown_reason FROM domains d JOIN guests g "
                      "ON g.id = d.guest_id WHERE g.uuid = ?1 AND d.released IS NOT NULL "
                      "ORDER BY d.released DESC, d.id DESC LIMIT 1",
                      {std::string(uuid)});
}

Result<std::optional<std::string>> Ledger::latest_boot(std::string_view uuid) {
    return first_text("SELECT b.boot_id FROM boots b JOIN guests g ON g.id = b.guest_id "
                      "WHERE g.uuid = ?1 ORDER BY b.started DESC, b.id DESC LIMIT 1",
                      {std::string(uuid)});
}

Result<std::vector<fleet::Observation>> Ledger::kernel_observations() {
    auto rows = m_db.query("SELECT g.uuid, b.kernel, b.distribution, b.started, b.last_alive, "
                           "b.end_kind FROM boots b JOIN guests g ON g.id = b.guest_id "
                           "ORDER BY g.uuid, b.kernel");
    if (!rows) {
        return std::move(rows).error();
    }
    std::map<std::pair<std::string, std::string>, fleet::Observation> by_guest_kernel;
    for (const auto& r : *rows) {
        const std::string uuid = as_text(r[0]);
        const std::string kernel = as_text(r[1]);
        fleet::Observation& o = by_guest_kernel[{uuid, kernel}];
        o.guest = uuid;
        o.kernel = kernel;
        o.distribution = as_text(r[2]);
        const double span = as_real(r[4]) - as_real(r[3]);
        o.days += span > 0 ? span / seconds_per_day : 0;
        const std::string end = as_text(r[5]);
        o.unclean_ends += is_unclean_end(end) ? 1U : 0U;
        o.crashes += end == "crash" ? 1U : 0U;
    }
    std::vector<fleet::Observation> out;
    out.reserve(by_guest_kernel.size());
    for (auto& [key, o] : by_guest_kernel) {
        out.push_back(std::move(o));
    }
    return out;
}

Result<Ledger::Durability> Ledger::durability() {
    auto mode = m_db.query("PRAGMA journal_mode");
    if (!mode) {
        return std::move(mode).error();
    }
    auto sync = m_db.query("PRAGMA synchronous");
    if (!sync) {
        return std::move(sync).error();
    }
    Durability d;
    d.journal_mode = mode->empty() ? "" : as_text(mode->front().front());
    d.synchronous = sync->empty() ? -1 : as_int(sync->front().front());
    return d;
}

Result<std::int64_t> Ledger::prune(double now) {
    const double cutoff = now - m_limits.retention_days * seconds_per_day;
    Scope tx(*this);
    GUARDIAN_TRY(tx.begin());
    GUARDIAN_TRY(m_db.run("DELETE FROM events WHERE at < ?1", {cutoff}));
    std::int64_t removed = m_db.changes();
    GUARDIAN_TRY(
        m_db.run("DELETE FROM boots WHERE last_alive < ?1 AND end_kind IS NOT NULL", {cutoff}));
    removed += m_db.changes();
    GUARDIAN_TRY(m_db.run("UPDATE boots SET domain_id = NULL WHERE domain_id IN "
                          "(SELECT id FROM domains WHERE released < ?1)",
                          {cutoff}));
    GUARDIAN_TRY(m_db.run("DELETE FROM domains WHERE released < ?1", {cutoff}));
    removed += m_db.changes();
    GUARDIAN_TRY(tx.commit());
    return removed;
}

} // namespace guardian::ledger

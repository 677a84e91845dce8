// The provider's memory (dom0): what every guest reported and what the
// hypervisor saw, kept across the guests' reboots and the domains' deaths.
// A guest's xenstore tree dies with its domain (xl restarts a rebooted guest
// as a new one), so guardian-hostd writes here what must outlive it:
// guests by VM UUID, the domains they ran as and how each ended, the boots
// and kernels guests reported, verdicts, incidents, restores, kernel
// trouble and host-seen crashes.
//
// Durable: SQLite in WAL mode with synchronous=FULL, so a call that
// returned success survives SIGKILL and a power cut. Bounded: guest-written
// text is cut to a size, each guest keeps at most so many events and boots
// (the oldest go first, and the count of what went is kept), so one noisy
// guest cannot fill dom0's disk. Guest text is stored as given and escaped
// by each output, never here.
#pragma once

#include "guardian/fleet/kernel_rates.hpp"
#include "guardian/ledger/sqlite.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::ledger {

struct Limits {
    std::size_t max_events_per_guest = 5000;
    std::size_t max_boots_per_guest = 1000;
    std::size_t max_text_bytes = 2048;
    double retention_days = 730;
};

// Who a guest is: the toolstack's VM UUID (dom0-written, stable across
// reboots and restores) and its name at the time.
struct GuestKey {
    std::string uuid;
    std::string name;
};

// Why a domain went away, as the hypervisor says (SHUTDOWN_* codes), or
// `destroyed` when it was torn down without shutting down.
enum class ShutdownReason { poweroff, reboot, suspend, crash, watchdog, soft_reset, destroyed };
[[nodiscard]] std::string_view to_string(ShutdownReason reason) noexcept;
// Xen's public sched.h codes 0..5; nullopt for anything else.
[[nodiscard]] std::optional<ShutdownReason> shutdown_reason_from_xen(unsigned code) noexcept;

// What the events of a guest's timeline are.
enum class EventKind {
    domain_start,  // a domain of this guest appeared (host)
    domain_end,    // ... and went away, with its shutdown reason (host)
    boot,          // the guest reported a new boot (kernel, distribution)
    verdict,       // a verification verdict after a restore
    incident,      // guardian's incident record
    restore,       // the guest noticed a restore or migration
    trouble,       // kernel trouble the guest reported
    crash,         // a host-seen crash, with the console's text where logged
    hostile,       // the guest's subtree broke a bound or the contract
    boot_report,   // the guest's report on its previous boot (fsck, incident)
    previous_boot, // the guest's word on how its previous boot ended (and why)
};
[[nodiscard]] std::string_view to_string(EventKind kind) noexcept;

// Where a boot's kernel release came from: the guest's guardian reported
// it, or guardian-hostd found the kernel's boot banner on the guest's console
// (a guest without guardian; core/console_banner).
enum class KernelSource { guardian_report, console_banner };
[[nodiscard]] std::string_view to_string(KernelSource source) noexcept;

struct BootSeen {
    std::string boot_id;
    std::string kernel;         // uname -r
    std::string kernel_version; // uname -v (the banner's build string)
    std::string distribution;
    double started = 0; // the boot's start as the guest reported it
    KernelSource source = KernelSource::guardian_report;
};

struct TimelineEntry {
    double at = 0;
    std::string kind;
    std::optional<std::int64_t> domid;
    std::string boot_id;
    std::string text; // guest-written where kind says so: escape before printing
};

struct GuestSummary {
    GuestKey key;
    double first_seen = 0;
    double last_seen = 0;
    std::int64_t dropped_events = 0;
    std::optional<std::int64_t> running_domid; // nullopt when no domain runs
};

class Ledger {
public:
    [[nodiscard]] static Result<Ledger> open(const std::string& path, Limits limits = {});
    // For readers (guardian-host history): never creates or migrates.
    [[nodiscard]] static Result<Ledger> open_read_only(const std::string& path);

    // Several records in one transaction (one sync): what a caller records
    // between begin_batch() and commit_batch() is acknowledged by the
    // commit, all of it or none. Without a batch each call commits alone.
    [[nodiscard]] Status begin_batch();
    [[nodiscard]] Status commit_batch();
    void abandon_batch();

    // `console_offset`: the size of the guest's console log when the domain
    // appeared (where its boot's output begins), when it was seen appearing.
    [[nodiscard]] Status domain_introduced(const GuestKey& guest, std::int64_t domid, double at,
                                           std::optional<std::int64_t> console_offset = {});
    // How the search for the running domain's kernel banner ended (the
    // release itself goes to its boot, with boot_seen()).
    [[nodiscard]] Status console_searched(std::int64_t domid, std::string_view note);
    // The boot `boot_id` goes on in domain `domid` (xl restore): alive at `at`.
    [[nodiscard]] Status boot_continues(const GuestKey& guest, std::int64_t domid,
                                        std::string_view boot_id, double at);
    // Closes the domain's record; ends the boot that ran in it (a suspend
    // ends no boot: the guest resumes in its next domain).
    [[nodiscard]] Status domain_released(std::int64_t domid, double at, ShutdownReason reason,
                                         std::string_view console_excerpt = {});
    // A boot the guest reported (or its console showed), seen alive at `at`
    // in domain `domid`. A guardian report replaces a banner's kernel.
    [[nodiscard]] Status boot_seen(const GuestKey& guest, std::int64_t domid, const BootSeen& boot,
                                   double at);
    // The guest's own word on how a boot ended (its boot history).
    [[nodiscard]] Status boot_ended(const GuestKey& guest, std::string_view boot_id,
                                    std::string_view end_kind);
    [[nodiscard]] Status record(const GuestKey& guest, std::optional<std::int64_t> domid,
                                EventKind kind, double at, std::string_view boot_id,
                                std::string_view text);
    // The same, unless this guest's boot already has that event with that
    // text: what a guest republishes after a restore (a new domain, the same
    // boot: its kernel trouble, its previous boot's end) is not news.
    [[nodiscard]] Status record_once(const GuestKey& guest, std::optional<std::int64_t> domid,
                                     EventKind kind, double at, std::string_view boot_id,
                                     std::string_view text);

    // By name (the newest guest of that name) or UUID; oldest first.
    [[nodiscard]] Result<std::vector<TimelineEntry>> timeline(std::string_view name_or_uuid);
    [[nodiscard]] Result<std::vector<GuestSummary>> guests();
    // The guest a name or VM UUID means (as timeline() reads it), or nullopt.
    [[nodiscard]] Result<std::optional<GuestSummary>> guest(std::string_view name_or_uuid);
    struct RunningDomain {
        std::int64_t domid = 0;
        GuestKey guest;
        std::optional<std::int64_t> console_offset;
        bool console_searched = false; // the banner search has ended
    };
    // Domains recorded as running (no release yet): where a restarted
    // service picks up.
    [[nodiscard]] Result<std::vector<RunningDomain>> running_domains();
    // How the guest's last ended domain ended ("suspend", "reboot", ...), or
    // nullopt when none has ended: a domain that follows a suspend continues
    // the same boot (xl restore, a migration).
    [[nodiscard]] Result<std::optional<std::string>> last_domain_end(std::string_view uuid);
    // What the ledger knows of the kernel running in domain `domid`.
    struct DomainKernel {
        GuestKey guest;
        double created = 0;
        std::optional<std::int64_t> console_offset;
        std::optional<std::string> console_note; // how the banner search ended
        std::string kernel;                      // empty when no boot names one
        std::string kernel_version;
        std::string kernel_source; // to_string(KernelSource)
    };
    // nullopt when no running domain has this domid.
    [[nodiscard]] Result<std::optional<DomainKernel>> domain_kernel(std::int64_t domid);
    // The guest's newest boot id, or nullopt.
    [[nodiscard]] Result<std::optional<std::string>> latest_boot(std::string_view uuid);
    // One observation per (guest, kernel): guest-days, unclean ends, crashes.
    [[nodiscard]] Result<std::vector<fleet::Observation>> kernel_observations();
    // The settings the durability promise rests on, as SQLite reports them
    // for this connection: "wal" and 2 (FULL).
    struct Durability {
        std::string journal_mode;
        std::int64_t synchronous = -1;
    };
    [[nodiscard]] Result<Durability> durability();
    // Drops events and ended boots older than the retention; how many rows.
    [[nodiscard]] Result<std::int64_t> prune(double now);

private:
    Ledger(Database db, Limits limits) : m_db(std::move(db)), m_limits(limits) {}
    [[nodiscard]] Result<std::int64_t> guest_id(const GuestKey& guest, double at);
    [[nodiscard]] Status insert_event(std::int64_t guest, std::optional<std::int64_t> domid,
                                      EventKind kind, double at, std::string_view boot_id,
                                      std::string_view text);
    // record() and record_once() (once: unless this boot has it already).
    [[nodiscard]] Status record_event(const GuestKey& guest, std::optional<std::int64_t> domid,
                                      EventKind kind, double at, std::string_view boot_id,
                                      std::string_view text, bool once);
    [[nodiscard]] std::string bounded(std::string_view text) const;
    // guests() narrowed by `where` (guardian's own SQL; values are params).
    [[nodiscard]] Result<std::vector<GuestSummary>>
    query_guests(std::string_view where, const std::vector<SqlValue>& params);
    // The first column of the first row, or nullopt when there is none.
    [[nodiscard]] Result<std::optional<std::string>>
    first_text(std::string_view sql, const std::vector<SqlValue>& params);

    // One call's transaction, or nothing inside a batch.
    class Scope {
    public:
        explicit Scope(Ledger& l) : m_tx(l.m_db), m_own(!l.m_batch) {}
        [[nodiscard]] Status begin() { return m_own ? m_tx.begin() : ok_status(); }
        [[nodiscard]] Status commit() { return m_own ? m_tx.commit() : ok_status(); }

    private:
        Transaction m_tx;
        bool m_own;
    };

    Database m_db;
    Limits m_limits;
    std::unique_ptr<Transaction> m_batch;
};

// End kinds that count as unclean (guest's and host's words alike).
[[nodiscard]] bool is_unclean_end(std::string_view end_kind) noexcept;

} // namespace guardian::ledger

#include "guardian/ledger/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace guardian::ledger {

namespace {

// migrations[i] takes a ledger from version i to i + 1. Never edit one that
// has shipped: add the next.
constexpr std::array<std::string_view, 2> migrations = {
    // 1: guests (keyed by the toolstack's VM UUID, never the domid), the
    // domains each ran as, the boots guests reported and the events of both
    // sides. Times are seconds since the epoch (REAL).
    R"sql(
CREATE TABLE guests (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    dropped_events INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE domains (
    id INTEGER PRIMARY KEY,
    guest_id INTEGER NOT NULL REFERENCES guests(id),
    domid INTEGER NOT NULL,
    created REAL NOT NULL,
    released REAL,
    shutdown_reason TEXT
);
CREATE INDEX domains_running ON domains(domid) WHERE released IS NULL;
CREATE INDEX domains_guest ON domains(guest_id, id);
CREATE TABLE boots (
    id INTEGER PRIMARY KEY,
    guest_id INTEGER NOT NULL REFERENCES guests(id),
    domain_id INTEGER REFERENCES domains(id),
    boot_id TEXT NOT NULL,
    kernel TEXT NOT NULL,
    kernel_version TEXT NOT NULL,
    distribution TEXT NOT NULL,
    started REAL NOT NULL,
    last_alive REAL NOT NULL,
    end_kind TEXT,
    UNIQUE (guest_id, boot_id)
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    guest_id INTEGER NOT NULL REFERENCES guests(id),
    domid INTEGER,
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    boot_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX events_guest ON events(guest_id, id);
CREATE INDEX events_at ON events(at);
)sql",
    // 2: the kernels of guests without guardian. Where xenconsoled logs a
    // guest's console, guardian-hostd records the log's size when the domain
    // appeared (console_offset; NULL when it did not see the domain appear)
    // and how its search for the kernel's boot banner from there ended
    // (console_note; NULL while it still looks). A boot's kernel says where
    // it came from: the guest's guardian, or its console's banner.
    R"sql(
ALTER TABLE domains ADD COLUMN console_offset INTEGER;
ALTER TABLE domains ADD COLUMN console_note TEXT;
ALTER TABLE boots ADD COLUMN kernel_source TEXT NOT NULL DEFAULT 'guardian report';
)sql",
};

} // namespace

int current_schema_version() {
    return static_cast<int>(migrations.size());
}

Result<int> schema_version(Database& db) {
    auto rows = db.query("PRAGMA user_version");
    if (!rows) {
        return std::move(rows).error();
    }
    return rows->empty() ? 0 : static_cast<int>(as_int(rows->front().front()));
}

Result<int> migrate(Database& db, int target) {
    Transaction tx(db);
    GUARDIAN_TRY(tx.begin());
    auto found = schema_version(db);
    if (!found) {
        return std::move(found).error();
    }
    const int from = *found;
    if (from > current_schema_version()) {
        return Error{fmt::format("the ledger's schema is version {}, newer than this "
                                 "guardian-host knows ({}): use the newer guardian-host",
                                 from, current_schema_version()),
                     0};
    }
    target = std::min(target, current_schema_version());
    for (int v = from; v < target; ++v) {
        if (auto st = db.exec(migrations[static_cast<std::size_t>(v)]); !st) {
            return Error{
                fmt::format("ledger schema migration {} -> {}: {}", v, v + 1, st.error().message),
                0};
        }
    }
    // PRAGMA takes no parameters; the value is our own constant.
    GUARDIAN_TRY(db.exec(fmt::format("PRAGMA user_version = {}", std::max(from, target))));
    GUARDIAN_TRY(tx.commit());
    return from;
}

} // namespace guardian::ledger

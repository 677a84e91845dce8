// The ledger's schema, versioned by SQLite's `PRAGMA user_version`: one
// migration per version, applied in order inside one transaction, so a
// ledger is always at exactly one version. A ledger written by a newer
// guardian-host is refused, not guessed at.
#pragma once

#include "guardian/ledger/sqlite.hpp"

namespace guardian::ledger {

// The version this build writes.
[[nodiscard]] int current_schema_version();

// Brings `db` to current_schema_version() (or to `target`, for tests that
// need a ledger as an older guardian-host left it); returns the version it
// found.
[[nodiscard]] Result<int> migrate(Database& db, int target = current_schema_version());

// The version a ledger is at (0: empty).
[[nodiscard]] Result<int> schema_version(Database& db);

} // namespace guardian::ledger

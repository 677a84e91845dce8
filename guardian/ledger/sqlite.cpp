#include "guardian/ledger/sqlite.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <climits>

namespace guardian::ledger {

namespace {

Error sql_error(sqlite3* db, std::string_view what) {
    return Error{fmt::format("{}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"), 0};
}

std::string first_words(std::string_view sql) {
    const std::string_view head = sql.substr(0, 48);
    return std::string(head) + (sql.size() > head.size() ? "..." : "");
}

} // namespace

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        sqlite3_close_v2(m_db);
        m_db = std::exchange(other.m_db, nullptr);
    }
    return *this;
}

Database::~Database() {
    sqlite3_close_v2(m_db);
}

Result<Database> Database::open(const std::string& path, bool read_only) {
    sqlite3* db = nullptr;
    const int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
        SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    Database owner(db); // closes it on every path below
    if (rc != SQLITE_OK) {
        return sql_error(db, fmt::format("open ledger {}", path));
    }
    // A writer holding the lock (the service while a reader opens): wait a
    // little rather than fail at once.
    sqlite3_busy_timeout(db, 5000);
    return owner;
}

Status Database::exec(std::string_view sql) {
    const std::string text(sql);
    char* msg = nullptr;
    if (sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
        Error e{fmt::format("{}: {}", first_words(sql), msg ? msg : sqlite3_errmsg(m_db)), 0};
        sqlite3_free(msg);
        return e;
    }
    return ok_status();
}

Result<Statement> Database::prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sql.size() > INT_MAX || sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()),
                                                   &stmt, nullptr) != SQLITE_OK) {
        return sql_error(m_db, fmt::format("prepare {}", first_words(sql)));
    }
    return Statement(stmt, m_db);
}

Result<std::vector<std::vector<SqlValue>>> Database::query(std::string_view sql,
                                                           const std::vector<SqlValue>& params) {
    auto stmt = prepare(sql);
    if (!stmt) {
        return std::move(stmt).error();
    }
    GUARDIAN_TRY(stmt->bind(params));
    std::vector<std::vector<SqlValue>> rows;
    std::vector<SqlValue> row;
    for (;;) {
        auto more = stmt->step(row);
        if (!more) {
            return std::move(more).error();
        }
        if (!*more) {
            return rows;
        }
        rows.push_back(std::move(row));
    }
}

Status Database::run(std::string_view sql, const std::vector<SqlValue>& params) {
    auto rows = query(sql, params);
    if (!rows) {
        return std::move(rows).error();
    }
    return ok_status();
}

std::int64_t Database::last_insert_rowid() const {
    return sqlite3_last_insert_rowid(m_db);
}

std::int64_t Database::changes() const {
    return sqlite3_changes(m_db); // not changes64: that needs SQLite 3.37, Debian 11 has 3.34
}

Statement::~Statement() {
    sqlite3_finalize(m_stmt);
}

Status Statement::bind(const std::vector<SqlValue>& params) {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    int i = 1;
    for (const SqlValue& p : params) {
        int rc = SQLITE_OK;
        if (std::holds_alternative<std::monostate>(p)) {
            rc = sqlite3_bind_null(m_stmt, i);
        } else if (const auto* n = std::get_if<std::int64_t>(&p)) {
            rc = sqlite3_bind_int64(m_stmt, i, *n);
        } else if (const auto* d = std::get_if<double>(&p)) {
            rc = sqlite3_bind_double(m_stmt, i, *d);
        } else {
            const std::string& s = std::get<std::string>(p);
            // Bytes as given (guest text may not be UTF-8): SQLite stores
            // them unchanged; every output escapes on the way out.
            rc = sqlite3_bind_text64(m_stmt, i, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        }
        if (rc != SQLITE_OK) {
            return sql_error(m_db, fmt::format("bind parameter {}", i));
        }
        ++i;
    }
    return ok_status();
}

Result<bool> Statement::step(std::vector<SqlValue>& row) {
    row.clear();
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_DONE) {
        return false;
    }
    if (rc != SQLITE_ROW) {
        return sql_error(m_db, "step");
    }
    const int n = sqlite3_column_count(m_stmt);
    for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(m_stmt, c)) {
        case SQLITE_INTEGER:
            row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(m_stmt, c)));
            break;
        case SQLITE_FLOAT:
            row.emplace_back(sqlite3_column_double(m_stmt, c));
            break;
        case SQLITE_NULL:
            row.emplace_back(std::monostate{});
            break;
        default: {
            const auto* text = sqlite3_column_blob(m_stmt, c);
            const auto len = static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, c));
            row.emplace_back(text ? std::string(static_cast<const char*>(text), len)
                                  : std::string());
        }
        }
    }
    return true;
}

Transaction::~Transaction() {
    if (m_open) {
        (void)m_db.exec("ROLLBACK");
    }
}

Status Transaction::begin() {
    GUARDIAN_TRY(m_db.exec("BEGIN IMMEDIATE"));
    m_open = true;
    return ok_status();
}

Status Transaction::commit() {
    GUARDIAN_TRY(m_db.exec("COMMIT"));
    m_open = false;
    return ok_status();
}

std::int64_t as_int(const SqlValue& v, std::int64_t fallback) {
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
        return *n;
    }
    if (const auto* d = std::get_if<double>(&v)) {
        return static_cast<std::int64_t>(*d);
    }
    return fallback;
}

double as_real(const SqlValue& v, double fallback) {
    if (const auto* d = std::get_if<double>(&v)) {
        return *d;
    }
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
        return static_cast<double>(*n);
    }
    return fallback;
}

std::string as_text(const SqlValue& v) {
    if (const auto* s = std::get_if<std::string>(&v)) {
        return *s;
    }
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
        return std::to_string(*n);
    }
    return {};
}

bool is_null(const SqlValue& v) {
    return std::holds_alternative<std::monostate>(v);
}

} // namespace guardian::ledger

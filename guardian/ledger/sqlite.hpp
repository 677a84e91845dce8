// The SQLite adapter: RAII owners of the connection and of prepared
// statements, parameter binding, and the only place SQLite's result codes
// exist (they become Errors carrying sqlite3_errmsg and what was attempted).
// Every value reaches SQL as a bound parameter, never spliced into the text:
// guest-written strings go in here (docs/design.md, the provider's view).
#pragma once

#include "guardian/util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace guardian::ledger {

// A value bound to or read from a statement.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;

class Statement;

class Database {
public:
    Database() = default;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    Database(Database&& other) noexcept : m_db(std::exchange(other.m_db, nullptr)) {}
    Database& operator=(Database&& other) noexcept;
    ~Database();

    // Opens (creating) the file; `read_only` opens an existing one only.
    [[nodiscard]] static Result<Database> open(const std::string& path, bool read_only = false);

    // Statements without parameters or results (PRAGMAs, DDL, BEGIN/COMMIT).
    [[nodiscard]] Status exec(std::string_view sql);
    [[nodiscard]] Result<Statement> prepare(std::string_view sql);
    // One statement run with these parameters; its rows, each a vector of
    // columns.
    [[nodiscard]] Result<std::vector<std::vector<SqlValue>>>
    query(std::string_view sql, const std::vector<SqlValue>& params = {});
    [[nodiscard]] Status run(std::string_view sql, const std::vector<SqlValue>& params = {});
    [[nodiscard]] std::int64_t last_insert_rowid() const;
    [[nodiscard]] std::int64_t changes() const;

    [[nodiscard]] sqlite3* get() const noexcept { return m_db; }

private:
    explicit Database(sqlite3* db) : m_db(db) {}
    sqlite3* m_db = nullptr;
};

class Statement {
public:
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement(Statement&& other) noexcept
        : m_stmt(std::exchange(other.m_stmt, nullptr)), m_db(other.m_db) {}
    Statement& operator=(Statement&&) = delete;
    ~Statement();

    [[nodiscard]] Status bind(const std::vector<SqlValue>& params);
    // One row: true with the row's columns in `row`, false when done.
    [[nodiscard]] Result<bool> step(std::vector<SqlValue>& row);

private:
    friend class Database;
    Statement(sqlite3_stmt* stmt, sqlite3* db) : m_stmt(stmt), m_db(db) {}
    sqlite3_stmt* m_stmt = nullptr;
    sqlite3* m_db = nullptr;
};

// A transaction that rolls back unless committed.
class Transaction {
public:
    explicit Transaction(Database& db) : m_db(db) {}
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    // BEGIN IMMEDIATE: takes the write lock now, so a busy ledger fails here
    // and not half-way through.
    [[nodiscard]] Status begin();
    [[nodiscard]] Status commit();

private:
    Database& m_db;
    bool m_open = false;
};

// Column helpers for rows read with Database::query.
[[nodiscard]] std::int64_t as_int(const SqlValue& v, std::int64_t fallback = 0);
[[nodiscard]] double as_real(const SqlValue& v, double fallback = 0);
[[nodiscard]] std::string as_text(const SqlValue& v);
[[nodiscard]] bool is_null(const SqlValue& v);

} // namespace guardian::ledger

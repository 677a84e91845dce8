// One logging interface. Backends: stderr with sd-daemon "<N>" priority
// prefixes (foreground runs, and what journald parses from a service's
// stderr), journald with structured fields (guardian/journal), and a
// capturing one for tests.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace guardian {

enum class Priority { emerg = 0, alert, crit, err, warning, notice, info, debug };

// Structured fields such as {"MESSAGE_ID", "..."}, {"GUARDIAN_DEVICE", "/dev/xvda1"}.
using LogFields = std::vector<std::pair<std::string, std::string>>;

class Logger {
public:
    virtual ~Logger() = default;
    virtual void log(Priority priority, const std::string& message, const LogFields& fields) = 0;

    void error(const std::string& m, const LogFields& f = {}) { log(Priority::err, m, f); }
    void warning(const std::string& m, const LogFields& f = {}) { log(Priority::warning, m, f); }
    void notice(const std::string& m, const LogFields& f = {}) { log(Priority::notice, m, f); }
    void info(const std::string& m, const LogFields& f = {}) { log(Priority::info, m, f); }
    void debug(const std::string& m, const LogFields& f = {}) { log(Priority::debug, m, f); }
};

class StderrLogger final : public Logger {
public:
    explicit StderrLogger(Priority max_priority = Priority::info, bool prefixes = true)
        : m_max(max_priority), m_prefixes(prefixes) {}
    void log(Priority priority, const std::string& message, const LogFields& fields) override;

private:
    Priority m_max;
    bool m_prefixes;
    std::mutex m_mutex;
};

class CapturingLogger final : public Logger {
public:
    struct Entry {
        Priority priority;
        std::string message;
        LogFields fields;
    };
    void log(Priority priority, const std::string& message, const LogFields& fields) override;
    [[nodiscard]] std::vector<Entry> entries() const;
    [[nodiscard]] bool contains(const std::string& needle) const;

private:
    mutable std::mutex m_mutex;
    std::vector<Entry> m_entries;
};

} // namespace guardian

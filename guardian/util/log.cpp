#include "guardian/util/log.hpp"

#include <cstdio>

namespace guardian {

void StderrLogger::log(Priority priority, const std::string& message, const LogFields& fields) {
    if (priority > m_max)
        return;
    std::string line;
    if (m_prefixes)
        line += "<" + std::to_string(static_cast<int>(priority)) + ">";
    line += message;
    for (const auto& [key, value] : fields)
        if (key != "MESSAGE_ID")
            line += " " + key + "=" + value;
    line += '\n';
    const std::lock_guard lock(m_mutex);
    std::fputs(line.c_str(), stderr);
}

void CapturingLogger::log(Priority priority, const std::string& message, const LogFields& fields) {
    const std::lock_guard lock(m_mutex);
    m_entries.push_back({priority, message, fields});
}

std::vector<CapturingLogger::Entry> CapturingLogger::entries() const {
    const std::lock_guard lock(m_mutex);
    return m_entries;
}

bool CapturingLogger::contains(const std::string& needle) const {
    const std::lock_guard lock(m_mutex);
    for (const auto& e : m_entries)
        if (e.message.find(needle) != std::string::npos)
            return true;
    return false;
}

} // namespace guardian

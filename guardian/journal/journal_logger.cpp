#include "guardian/journal/journal_logger.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace guardian::journal {
namespace {

bool is_reserved(std::string_view key) {
    // Set by log() itself; a caller's copy would make a second, confusing value.
    return key == "MESSAGE" || key == "PRIORITY" || key == "SYSLOG_IDENTIFIER";
}

} // namespace

JournalLogger::JournalLogger(Priority max_priority, std::string identifier)
    : m_max(max_priority), m_identifier(std::move(identifier)), m_fallback(max_priority, true) {}

void JournalLogger::log(Priority priority, const std::string& message, const LogFields& fields) {
    if (priority > m_max)
        return;
    std::vector<std::string> items;
    items.reserve(fields.size() + 3);
    items.push_back("MESSAGE=" + message);
    items.push_back("PRIORITY=" + std::to_string(static_cast<int>(priority)));
    items.push_back("SYSLOG_IDENTIFIER=" + m_identifier);
    for (const auto& [key, value] : fields) {
        std::string name = journal_field_name(key);
        if (!is_reserved(name))
            items.push_back(std::move(name) + "=" + value);
    }
    std::vector<iovec> iov;
    iov.reserve(items.size());
    for (auto& item : items)
        iov.push_back(iovec{item.data(), item.size()});
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0)
        m_fallback.log(priority, message, fields);
}

std::string journal_field_name(std::string_view name) {
    std::string out;
    for (const char c : name) {
        if (c >= 'a' && c <= 'z')
            out += static_cast<char>(c - 'a' + 'A');
        else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
            out += c;
        else
            out += '_';
    }
    if (out.empty() || out.front() == '_' || (out.front() >= '0' && out.front() <= '9'))
        out.insert(0, "GUARDIAN");
    if (out.size() > 64)
        out.resize(64);
    return out;
}

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr)
        return false;
    unsigned long long dev = 0;
    unsigned long long ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st {};
    if (::fstat(2, &st) != 0)
        return false;
    return static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

} // namespace guardian::journal

#include "guardian/journal/journal_logger.hpp"

#include "guardian/journal/wire_format.hpp"
#include "guardian/util/fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace guardian::journal {
namespace {

constexpr std::string_view k_journal_socket = "/run/systemd/journal/socket";
constexpr std::string_view k_syslog_socket = "/dev/log";
constexpr std::string_view k_kmsg = "/dev/kmsg";

bool is_reserved(std::string_view key) {
    // Set by log() itself; a caller's copy would make a second, confusing value.
    return key == "MESSAGE" || key == "PRIORITY" || key == "SYSLOG_IDENTIFIER";
}

std::tm local_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    if (::localtime_r(&now, &tm) == nullptr)
        ::gmtime_r(&now, &tm);
    return tm;
}

} // namespace

JournalLogger::JournalLogger(Priority max_priority, std::string identifier, SystemRoot root)
    : m_max(max_priority), m_identifier(std::move(identifier)), m_root(std::move(root)),
      m_fallback(max_priority, true) {}

bool JournalLogger::send_journald(Priority priority, const std::string& message,
                                  const LogFields& fields) {
    std::string datagram;
    append_native_field(datagram, "MESSAGE", message);
    append_native_field(datagram, "PRIORITY", std::to_string(static_cast<int>(priority)));
    append_native_field(datagram, "SYSLOG_IDENTIFIER", m_identifier);
    for (const auto& [name, value] : fields)
        append_native_field(datagram, name, value);
    // Entries stay far below the socket's datagram limit (~200 KiB): hook
    // output is bounded at 16 KiB, so the memfd form is not needed.
    return m_journald.send(m_root.path(k_journal_socket), datagram).ok();
}

bool JournalLogger::send_syslog(Priority priority, const std::string& message,
                                const LogFields& fields) {
    const std::string socket = m_root.path(k_syslog_socket);
    const std::string line =
        syslog_line(priority, m_identifier, ::getpid(), local_now(), message, fields);
    const Status sent = m_syslog.send(socket, line);
    if (sent.ok())
        return true;
    // Some syslog daemons listen on a stream socket: one line, newline-ended.
    return sent.error().code == EPROTOTYPE && systemd::send_unix_stream(socket, line + "\n").ok();
}

bool JournalLogger::send_kmsg(Priority priority, const std::string& message,
                              const LogFields& fields) {
    auto fd = open_fd(m_root.path(k_kmsg), O_WRONLY | O_NOCTTY | O_APPEND);
    if (!fd)
        return false;
    const std::string line = kmsg_line(priority, m_identifier, ::getpid(), message, fields);
    return ::write(fd->get(), line.data(), line.size()) == static_cast<ssize_t>(line.size());
}

void JournalLogger::log(Priority priority, const std::string& message, const LogFields& fields) {
    if (priority > m_max)
        return;
    // Valid names, and none of the fields log() sets itself, on every transport.
    LogFields clean;
    clean.reserve(fields.size());
    for (const auto& [key, value] : fields)
        if (std::string name = journal_field_name(key); !is_reserved(name))
            clean.emplace_back(std::move(name), value);
    const std::lock_guard lock(m_mutex);
    if (send_journald(priority, message, clean)) {
        m_last = Transport::journald;
    } else if (send_syslog(priority, message, clean)) {
        m_last = Transport::syslog;
    } else if (send_kmsg(priority, message, clean)) {
        m_last = Transport::kmsg;
    } else {
        m_last = Transport::stderr_text;
        m_fallback.log(priority, message, fields);
    }
}

Transport JournalLogger::last_transport() const {
    const std::lock_guard lock(m_mutex);
    return m_last;
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

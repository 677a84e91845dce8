// The system-log backend of Logger. Each message becomes one journal entry
// with MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER= and the caller's structured
// fields (MESSAGE_ID=, GUARDIAN_DEVICE=, GUARDIAN_FS_UUID=, ...), sent over
// journald's native protocol (/run/systemd/journal/socket) so values may
// hold newlines (hook output) and the provider's log pipeline can select on
// fields instead of parsing text. No libsystemd: the protocol is spoken
// directly, so the static guest build runs without it.
//
// Guests without journald (SysV init, Debian 7-era) still get the lines:
// when the journal socket takes nothing, the message goes to syslog
// (/dev/log), then to the kernel log (/dev/kmsg, which also reaches the Xen
// console), and last to stderr. All paths are under the SystemRoot.
#pragma once

#include "guardian/systemd/unix_datagram.hpp"
#include "guardian/util/log.hpp"
#include "guardian/util/paths.hpp"

#include <mutex>
#include <string>
#include <string_view>

namespace guardian::journal {

// Where a message went: the first transport that took it.
enum class Transport { none, journald, syslog, kmsg, stderr_text };

class JournalLogger final : public Logger {
public:
    explicit JournalLogger(Priority max_priority = Priority::info,
                           std::string identifier = "guardiand", SystemRoot root = {});
    void log(Priority priority, const std::string& message, const LogFields& fields) override;

    // The transport of the last message logged (tests, and --foreground
    // diagnostics).
    [[nodiscard]] Transport last_transport() const;

private:
    [[nodiscard]] bool send_journald(Priority priority, const std::string& message,
                                     const LogFields& fields);
    [[nodiscard]] bool send_syslog(Priority priority, const std::string& message,
                                   const LogFields& fields);
    [[nodiscard]] bool send_kmsg(Priority priority, const std::string& message,
                                 const LogFields& fields);

    Priority m_max;
    std::string m_identifier;
    SystemRoot m_root;
    mutable std::mutex m_mutex; // threads of the ext4 engine log too
    systemd::UnixDatagramSender m_journald;
    systemd::UnixDatagramSender m_syslog;
    Transport m_last = Transport::none;
    // The last resort: systemd also hands a service's stderr to the journal.
    StderrLogger m_fallback;
};

// A journal field name made valid: upper-case letters, digits and '_', not
// starting with '_' (those are trusted fields journald sets itself) or a
// digit, at most 64 characters. "guardian-device" -> "GUARDIAN_DEVICE".
[[nodiscard]] std::string journal_field_name(std::string_view name);

// True when our stderr is a stream connected to journald (systemd >= 231
// sets JOURNAL_STREAM=<dev>:<inode> for it): then the daemon should log
// natively through JournalLogger rather than as text on stderr.
[[nodiscard]] bool stderr_is_journal();

} // namespace guardian::journal

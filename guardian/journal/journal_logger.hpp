// The journald backend of Logger: each message becomes one journal entry with
// MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER= and the caller's structured fields
// (MESSAGE_ID=, GUARDIAN_DEVICE=, GUARDIAN_FS_UUID=, GUARDIAN_VERDICT=, ...),
// sent with sd_journal_sendv over the native protocol so values may hold
// newlines (hook output) and the provider's log pipeline can select on
// fields instead of parsing text.
#pragma once

#include "guardian/util/log.hpp"

#include <string>
#include <string_view>

namespace guardian::journal {

class JournalLogger final : public Logger {
public:
    explicit JournalLogger(Priority max_priority = Priority::info,
                           std::string identifier = "guardiand");
    void log(Priority priority, const std::string& message, const LogFields& fields) override;

private:
    Priority m_max;
    std::string m_identifier;
    // Used when journald refuses a message (not running, socket gone): the
    // line still reaches stderr, which systemd also hands to the journal.
    StderrLogger m_fallback;
};

// A journal field name made valid: upper-case letters, digits and '_', not
// starting with '_' (those are trusted fields journald sets itself) or a
// digit, at most 64 characters. "guardian-device" -> "GUARDIAN_DEVICE".
[[nodiscard]] std::string journal_field_name(std::string_view name);

// True when our stderr is a stream connected to journald (systemd sets
// JOURNAL_STREAM=<dev>:<inode> for it): then the daemon should log natively
// through JournalLogger rather than as text on stderr.
[[nodiscard]] bool stderr_is_journal();

} // namespace guardian::journal

// What JournalLogger puts on each of its transports, as bytes (no I/O here):
// journald's native protocol, a syslog line for /dev/log and a line for
// /dev/kmsg. Kept apart so tests check the framing without a socket.
#pragma once

#include "guardian/util/log.hpp"

#include <ctime>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace guardian::journal {

// journald's native protocol (systemd.journal-fields(7), "Native Journal
// Protocol"): one datagram, each field either "NAME=value\n" or, for a value
// holding a newline, "NAME\n" + the value's length as 64-bit little-endian
// + the value + "\n". Names must already be valid (journal_field_name).
void append_native_field(std::string& out, std::string_view name, std::string_view value);

// "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE KEY=value..." (RFC 3164 with
// facility daemon; `local` is the local time to stamp). The structured
// fields that fit on one line follow the message, so a syslog-only guest
// still shows MESSAGE_ID and the device; newlines become spaces.
[[nodiscard]] std::string syslog_line(Priority priority, std::string_view identifier, pid_t pid,
                                      const std::tm& local, std::string_view message,
                                      const LogFields& fields);

// "<SEVERITY>IDENT[PID]: MESSAGE KEY=value...\n" for /dev/kmsg: one record,
// bounded to what the kernel keeps of a line (it truncates at ~1 KiB).
[[nodiscard]] std::string kmsg_line(Priority priority, std::string_view identifier, pid_t pid,
                                    std::string_view message, const LogFields& fields);

} // namespace guardian::journal

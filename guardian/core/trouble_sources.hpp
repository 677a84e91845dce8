// What the previous boot left, as kernel log records the trouble assembler
// can read again (core/kernel_trouble.hpp): a pstore dmesg dump
// (/sys/fs/pstore/dmesg-*, /var/lib/systemd/pstore/), a line of
// `journalctl -k -b -1 --output=json`. And the facts about the guest that
// known bugs are conditional on. Pure: text in, records out; the adapters
// read the files and run journalctl.
#pragma once

#include "guardian/core/boot_history.hpp"
#include "guardian/core/kmsg_signatures.hpp"
#include "guardian/core/mountinfo.hpp"
#include "guardian/core/risk_table.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// One pstore dmesg record: "Panic#1 Part1" (or Oops, Emergency, ...) then
// the tail of the kernel log as syslog(2) lines. Part1 is the newest part;
// a dump split over several files is read highest part first.
struct PstoreDump {
    std::string reason; // "Panic", "Oops", "Emergency", "Restart", "Halt", "Poweroff", "Unknown"
    unsigned count = 0; // the N of "Panic#N"
    unsigned part = 0;
    std::vector<KmsgRecord> records;
};
// nullopt when the text has no pstore header; lines that are not syslog(2)
// lines (a part starts in the middle of one) are skipped.
[[nodiscard]] std::optional<PstoreDump> parse_pstore_dmesg(std::string_view text);

// One `journalctl --output=json` entry as a kernel record: MESSAGE (a string
// or journald's byte array), PRIORITY, SYSLOG_FACILITY, the source or
// journal monotonic timestamp, the kernel's sequence number where present.
// A line without SYSLOG_FACILITY counts as the kernel's only if its
// _TRANSPORT is "kernel"; nullopt for lines that are not JSON objects with a
// MESSAGE.
[[nodiscard]] std::optional<KmsgRecord> kmsg_record_from_journal_json(std::string_view line);

// The trouble events in a list of kernel records (one boot's, in order) as
// the boot history's TroubleSeen, timestamped with the records' own clock
// (at_us: the kernel's monotonic time), each with the first known bug of
// `table` it matches (null: none). Run through the same assembler as the
// live log, without its rate limit: every report counts here.
[[nodiscard]] std::vector<TroubleSeen> trouble_seen(const std::vector<KmsgRecord>& records,
                                                    const RiskTable* table);

// The known-bug conditions (data/kernel-risk.json "conditions") that hold:
// "fs:<type>" for each mounted filesystem type, plus what the caller knows
// of the Xen frontends ("xen:blkfront", "xen:netfront") and "xen:pv".
struct GuestShape {
    bool xen_pv = false;
    bool blkfront = false; // a vbd frontend exists
    bool netfront = false; // a vif frontend exists
};
[[nodiscard]] std::vector<std::string> guest_conditions(const std::vector<MountEntry>& mounts,
                                                        const GuestShape& shape);

} // namespace guardian

// Kernel log lines that mean trouble: the block path or a filesystem went
// wrong after a restore (KmsgSignature), and the kernel's own reports (oops,
// BUG, WARNING, panic, stalls, lockups, ...: TroubleKind). This file is the
// one list of what a kernel line can mean; core/kernel_trouble.* assembles the
// multi-line reports that start with these heads. Pure: text in,
// classification out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace guardian {

enum class KmsgSignature {
    grant_not_unmapped, // xen-blkfront: "backed has not unmapped grant" (stale feature-persistent)
    ext4_error,         // "EXT4-fs error (device xvda1): ..."
    jbd2_error,         // "JBD2: ..." errors, "Aborting journal on device ..."
    io_error_xvd,       // "I/O error, dev xvda, sector ..." / "Buffer I/O error on dev xvda1"
};

[[nodiscard]] std::string_view to_string(KmsgSignature s) noexcept;

struct KmsgRecord {
    int priority = 6; // syslog priority (facility stripped)
    // syslog facility: 0 = the kernel itself. A process writing /dev/kmsg
    // gets 1 (user) unless it asks for another non-zero one: only facility 0
    // may count as kernel trouble.
    int facility = 0;
    unsigned long long sequence = 0;
    unsigned long long timestamp_us = 0; // CLOCK_MONOTONIC at printk time
    std::string message;                 // the text after ';', without the trailing newline
};

// One /dev/kmsg record: "<prefix: pri,seq,ts,flags[,...]>;<message>\n[ continuation lines]".
[[nodiscard]] std::optional<KmsgRecord> parse_kmsg_record(std::string_view raw);

// One line as syslog(2) (SYSLOG_ACTION_READ_ALL, `dmesg -r`) prints it:
// "<N>[ 1234.567890] message", the timestamp absent with printk.time=0. N
// carries the facility as in /dev/kmsg; there is no sequence number (0).
[[nodiscard]] std::optional<KmsgRecord> parse_syslog_line(std::string_view line);

// What a kernel report's first line says it is.
enum class TroubleKind {
    oops,        // "BUG: unable to handle ...", "BUG: kernel NULL pointer dereference", "Oops:"
    kernel_bug,  // "kernel BUG at <file>:<line>!" (BUG()/BUG_ON())
    bug,         // any other "BUG: ..." (scheduling while atomic, KASAN, ...)
    warning,     // "WARNING: ..." (WARN_ON())
    panic,       // "Kernel panic - not syncing: ..."
    rcu_stall,   // "rcu: INFO: rcu_preempt self-detected stall on CPU", "... detected stalls"
    soft_lockup, // "watchdog: BUG: soft lockup - CPU#3 stuck for 26s!"
    hard_lockup, // "Watchdog detected hard LOCKUP on cpu 2"
    hung_task,   // "INFO: task kworker/0:1:12 blocked for more than 120 seconds."
    bad_page,    // "BUG: Bad page state in process ...", "BUG: Bad page map ..."
    page_alloc_failure, // "<comm>: page allocation failure: order:4, mode:..."
    oom_kill,           // "... invoked oom-killer: ...", "Out of memory: Killed process ..."
    machine_check,      // "mce: [Hardware Error]: ...", "Machine check events logged"
    filesystem,         // classify_kmsg: ext4_error, jbd2_error
    block_io,           // classify_kmsg: grant_not_unmapped, io_error_xvd; blkfront disabled
};
inline constexpr std::size_t trouble_kind_count = 15;
[[nodiscard]] std::string_view to_string(TroubleKind k) noexcept;
[[nodiscard]] std::optional<TroubleKind> trouble_kind_from_string(std::string_view name) noexcept;

struct TroubleHead {
    TroubleKind kind;
    // A head that a call trace and register dump follow (assembled into one
    // event); single-line troubles (OOM kill line, MCE, filesystem) are not.
    bool multi_line = false;
    std::optional<KmsgSignature> fs; // with filesystem / block_io from classify_kmsg
    std::string device;              // "xvda1" where the line names one
};

// The kind of trouble a kernel line starts, or nullopt for any other line
// (including the continuation lines of a report: "Oops: 0000 [#1] SMP" after
// "BUG: unable to handle", "invalid opcode" after "kernel BUG at").
[[nodiscard]] std::optional<TroubleHead> classify_trouble_head(std::string_view message);

struct KmsgMatch {
    KmsgSignature signature;
    std::string device; // "xvda1" where the line names one, else empty
};

[[nodiscard]] std::optional<KmsgMatch> classify_kmsg(std::string_view message);

} // namespace guardian

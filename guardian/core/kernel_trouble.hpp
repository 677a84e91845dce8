// The kernel trouble assembler: kernel log records in, one event per kernel
// report out. A report (oops, BUG, WARNING, panic, stall, lockup, hung task,
// ...) spans many records: its head (core/kmsg_signatures.hpp), the task
// line, RIP, registers, "Call Trace:" and its frames, "Modules linked in:",
// "---[ end trace ... ]---". The assembler keeps only what the event needs
// (never the lines themselves), so an unterminated report costs bounded
// memory; it closes a report at its end marker, at the next head, after a
// quiet gap in the records' own timestamps, at a size bound, or on flush().
//
// Only the kernel's own records (facility 0) count: a process writing
// /dev/kmsg gets another facility, and its lines are counted as forged and
// otherwise ignored (they neither start nor extend a report).
//
// Floods are rate-limited per kind with a token bucket on the records'
// timestamps; suppressed events are counted (per kind, per signature, and on
// the next event of that kind that gets through), never dropped silently.
// Pure: no clock, no I/O.
#pragma once

#include "guardian/core/kmsg_signatures.hpp"
#include "guardian/core/trouble_signature.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace guardian {

struct TroubleEvent {
    TroubleKind kind = TroubleKind::oops;
    std::string signature;           // 16 hex digits: signature_id(parts)
    std::string signature_text;      // what was hashed
    std::string head;                // the report's first line (up to 200 characters)
    std::string function;            // faulting function, may be empty
    std::vector<std::string> frames; // reliable frames, reporting machinery skipped (up to 32)
    std::string location; // "drivers/block/xen-blkfront.c:762" (BUG / WARNING), may be empty
    std::optional<KmsgSignature> fs;  // filesystem / block_io lines
    std::string device;               // "xvda1" where the line names one
    TaskLine task;                    // cpu, pid, comm, taint, release, version: attributes
    std::vector<std::string> modules; // "Modules linked in:": an attribute
    unsigned long long first_sequence = 0;
    unsigned long long last_sequence = 0;
    unsigned long long timestamp_us = 0; // of the head
    std::size_t lines = 0;
    bool truncated = false; // closed at the size bound, not at its end
    // Events of this kind held back by the rate limit since the previous one
    // of this kind that got through.
    std::uint64_t suppressed_before = 0;
};

// One line for logs and status: "rcu_stall in xas_descend < xas_load <
// filemap_get_read_batch (signature 0123456789abcdef)"; with a location for
// BUG/WARNING ("kernel_bug at drivers/block/xen-blkfront.c:762 in
// blkif_queue_rq ..."), the device for filesystem/block lines, and how many
// were held back before it.
[[nodiscard]] std::string summary_line(const TroubleEvent& e);

struct TroubleAssemblerOptions {
    std::size_t max_lines = 400; // a report longer than this is closed, truncated
    std::size_t max_bytes = 48 * 1024;
    std::size_t signature_frames = 5;            // top frames in the signature
    std::size_t kept_frames = 32;                // frames kept for matching known bugs
    unsigned long long quiet_gap_us = 2'000'000; // a pause this long ends a report
    unsigned burst = 10;                         // events per kind let through at once
    unsigned long long refill_us = 60'000'000;   // one more every minute
    std::size_t max_signatures = 32;             // distinct signatures counted by name
};

struct SignatureCount {
    TroubleKind kind;
    std::string signature;
    std::string function;
    std::uint64_t count = 0;
};

struct TroubleCounts {
    std::array<std::uint64_t, trouble_kind_count> seen{};       // every event
    std::array<std::uint64_t, trouble_kind_count> suppressed{}; // held back by the rate limit
    std::vector<SignatureCount> by_signature; // first max_signatures distinct ones
    std::uint64_t other_signatures = 0;       // events whose signature did not fit
    std::uint64_t forged = 0;    // trouble-looking lines from a facility other than the kernel
    std::uint64_t truncated = 0; // reports closed at the size bound
};

class TroubleAssembler {
public:
    explicit TroubleAssembler(TroubleAssemblerOptions options = {});

    // One record; returns the events it completed and the rate limit let
    // through (usually none while a report is being assembled).
    [[nodiscard]] std::vector<TroubleEvent> feed(const KmsgRecord& record);
    // Ends the open report (the reader found no more records for a while).
    [[nodiscard]] std::vector<TroubleEvent> flush();

    [[nodiscard]] bool report_open() const noexcept { return m_open.has_value(); }
    [[nodiscard]] const TroubleCounts& counts() const noexcept { return m_counts; }

private:
    struct Open {
        TroubleEvent event;
        std::size_t bytes = 0;
        bool in_trace = false;   // inside the first "Call Trace:" block
        bool trace_done = false; // a second block begins: the first one decides
        bool in_irq = false;     // between <IRQ>/<NMI> and </IRQ>/<EOI>/<TASK>
        bool saw_oops_line = false;
        std::vector<TraceFrame> irq_frames;
        std::vector<TraceFrame> task_frames;
        std::string rip; // the first kernel RIP/IP/pc
        std::string detail;
    };
    struct Bucket {
        double tokens = 0;
        unsigned long long last_us = 0;
        bool started = false;
        std::uint64_t pending = 0;
    };

    void start(const KmsgRecord& r, const TroubleHead& head, std::vector<TroubleEvent>& out);
    // Takes one record into the open report; true when it ends the report.
    bool absorb(const KmsgRecord& r);
    void close(std::vector<TroubleEvent>& out);
    void finish(TroubleEvent event, std::vector<TroubleEvent>& out);
    void count_signature(const TroubleEvent& e);

    TroubleAssemblerOptions m_options;
    std::optional<Open> m_open;
    std::array<Bucket, trouble_kind_count> m_buckets{};
    TroubleCounts m_counts;
    unsigned long long m_last_us = 0;
};

} // namespace guardian

#include "guardian/core/kernel_trouble.hpp"

#include <algorithm>

namespace guardian {
namespace {

std::size_t index_of(TroubleKind k) {
    return static_cast<std::size_t>(k);
}

bool is_stall_kind(TroubleKind k) {
    return k == TroubleKind::rcu_stall || k == TroubleKind::soft_lockup ||
           k == TroubleKind::hard_lockup;
}

// A hung task's trace starts in the scheduler, whatever it waits for.
bool is_wait_frame(std::string_view f) {
    return f == "__schedule" || f == "schedule" || f == "schedule_timeout" || f == "io_schedule" ||
           f == "schedule_preempt_disabled" || f == "io_schedule_timeout" ||
           f == "__wait_for_common" || f == "wait_for_completion";
}

// "kernel BUG at drivers/block/xen-blkfront.c:762!" -> the file and line;
// "WARNING: CPU: 0 PID: 1 at net/core/dev.c:123 fn+0x1/0x2" -> "net/core/dev.c:123".
std::string location_in(std::string_view head) {
    std::size_t at = std::string_view::npos;
    if (head.starts_with("kernel BUG at "))
        at = 14;
    else if (const auto a = head.find(" at "); a != std::string_view::npos)
        at = a + 4;
    if (at == std::string_view::npos || at >= head.size())
        return {};
    std::string_view rest = head.substr(at);
    rest = rest.substr(0, rest.find_first_of(" !"));
    if (rest.find(':') == std::string_view::npos || rest.find('/') == std::string_view::npos)
        return {};
    return std::string(rest.substr(0, 128));
}

// What the head says beyond its kind, where the kind alone is too coarse.
std::string head_detail(TroubleKind kind, std::string_view head, const TroubleHead& h) {
    switch (kind) {
    case TroubleKind::bug: {
        // "BUG: scheduling while atomic: comm/123/0x0": the sentence, not the task.
        const auto colon = head.find(':', 5);
        return normalise_text(head.substr(0, colon));
    }
    case TroubleKind::panic: {
        const auto colon = head.find("syncing");
        return normalise_text(
            colon == std::string_view::npos ? head : trim_blanks(head.substr(colon + 8)));
    }
    case TroubleKind::page_alloc_failure: {
        const auto at = head.find("order:");
        return normalise_text(head.substr(at, head.find(',', at) - at));
    }
    case TroubleKind::machine_check:
        return normalise_text(head.substr(head.find("[Hardware Error]") == std::string_view::npos
                                              ? 0
                                              : head.find("[Hardware Error]")));
    case TroubleKind::filesystem:
    case TroubleKind::block_io:
        return h.fs ? std::string(to_string(*h.fs)) : std::string("disabled for further use");
    case TroubleKind::oom_kill:
        return head.starts_with("Memory cgroup") || head.find("memcg") != std::string_view::npos
                   ? "memcg"
                   : "";
    default:
        return {};
    }
}

} // namespace

std::string summary_line(const TroubleEvent& e) {
    std::string s(to_string(e.kind));
    if (!e.location.empty())
        s += " at " + e.location;
    if (!e.function.empty())
        s += " in " + e.function;
    for (std::size_t i = 0; i < e.frames.size() && i < 2; ++i)
        s += " < " + e.frames[i];
    if (!e.device.empty())
        s += " on " + e.device;
    if (e.function.empty() && e.frames.empty() && e.location.empty())
        s += ": " + e.head.substr(0, 120);
    s += " (signature " + e.signature + ")";
    if (e.suppressed_before > 0)
        s += "; " + std::to_string(e.suppressed_before) + " more held back before it";
    return s;
}

TroubleAssembler::TroubleAssembler(TroubleAssemblerOptions options) : m_options(options) {}

std::vector<TroubleEvent> TroubleAssembler::feed(const KmsgRecord& r) {
    std::vector<TroubleEvent> out;
    const auto head = classify_trouble_head(r.message);
    if (r.facility != 0) {
        if (head)
            ++m_counts.forged;
        return out;
    }
    if (m_open && r.timestamp_us > m_last_us + m_options.quiet_gap_us && m_last_us != 0)
        close(out);
    if (r.timestamp_us != 0)
        m_last_us = r.timestamp_us;
    if (head && m_open) {
        // Lines that name the report already open rather than a new one.
        const TroubleKind open_kind = m_open->event.kind;
        const bool oops_line =
            head->kind == TroubleKind::oops &&
            (r.message.starts_with("Oops:") || r.message.starts_with("Internal error: Oops"));
        const bool oom_line =
            head->kind == TroubleKind::oom_kill && open_kind == TroubleKind::oom_kill;
        if ((oops_line && !m_open->saw_oops_line &&
             (open_kind == TroubleKind::oops || open_kind == TroubleKind::kernel_bug ||
              open_kind == TroubleKind::bug || open_kind == TroubleKind::bad_page)) ||
            oom_line) {
            m_open->saw_oops_line = m_open->saw_oops_line || oops_line;
            (void)absorb(r);
            return out;
        }
    }
    if (head) {
        start(r, *head, out);
        return out;
    }
    if (m_open) {
        const bool ended = absorb(r);
        if (ended) {
            close(out);
        } else if (m_open->event.lines >= m_options.max_lines ||
                   m_open->bytes >= m_options.max_bytes) {
            m_open->event.truncated = true;
            close(out);
        }
    }
    return out;
}

std::vector<TroubleEvent> TroubleAssembler::flush() {
    std::vector<TroubleEvent> out;
    close(out);
    return out;
}

void TroubleAssembler::start(const KmsgRecord& r, const TroubleHead& head,
                             std::vector<TroubleEvent>& out) {
    close(out);
    Open o;
    TroubleEvent& e = o.event;
    e.kind = head.kind;
    e.head = r.message.substr(0, 200);
    e.fs = head.fs;
    e.device = head.device;
    e.first_sequence = e.last_sequence = r.sequence;
    e.timestamp_us = r.timestamp_us;
    e.lines = 1;
    e.location = location_in(r.message);
    if (head.kind == TroubleKind::warning) {
        // The function is on the head: "... at file:line fn+0x1/0x2 [mod]".
        const auto at = r.message.find(e.location);
        if (!e.location.empty() && at != std::string::npos) {
            std::string_view rest =
                trim_blanks(std::string_view(r.message).substr(at + e.location.size()));
            e.function = symbol_function(rest.substr(0, rest.find(' ')));
        }
    }
    o.detail = head_detail(head.kind, r.message, head);
    o.bytes = r.message.size();
    m_open = std::move(o);
    if (!head.multi_line)
        close(out);
}

bool TroubleAssembler::absorb(const KmsgRecord& r) {
    Open& o = *m_open;
    TroubleEvent& e = o.event;
    ++e.lines;
    o.bytes += r.message.size();
    e.last_sequence = r.sequence;
    const std::string_view line = trim_blanks(r.message);

    if (line.starts_with("---[ end "))
        return true;
    if (line == "Call Trace:" || line == "Call trace:" || line.starts_with("Backtrace:")) {
        if (o.in_trace || !o.task_frames.empty() || !o.irq_frames.empty())
            o.trace_done = true; // a second task's trace (stall reports dump several)
        o.in_trace = !o.trace_done;
        return false;
    }
    if (line == "<IRQ>" || line == "<NMI>") {
        o.in_irq = true;
        return false;
    }
    if (line == "</IRQ>" || line == "</NMI>" || line == "<EOI>" || line == "<<EOE>>" ||
        line == "<TASK>" || line == "</TASK>") {
        o.in_irq = false;
        return false;
    }
    if (!o.trace_done) {
        if (auto f = parse_trace_frame(line)) {
            // A bare "fn+0x1/0x2" before any "Call Trace:" is a frame too
            // (arm's "Backtrace:" style, truncated logs).
            if (f->reliable &&
                (o.in_irq ? o.irq_frames.size() : o.task_frames.size()) < m_options.kept_frames)
                (o.in_irq ? o.irq_frames : o.task_frames).push_back(std::move(*f));
            return false;
        }
    }
    if (auto ip = parse_fault_ip(line)) {
        if (o.rip.empty())
            o.rip = std::move(*ip);
        return false;
    }
    if (e.task.pid < 0 && e.task.comm.empty()) {
        if (auto t = parse_task_line(line)) {
            e.task = std::move(*t);
            return false;
        }
    }
    if (e.modules.empty()) {
        if (auto m = parse_modules_line(line)) {
            e.modules = std::move(*m);
            return false;
        }
    }
    // "      Not tainted 5.10.0-8-amd64 #1 Debian 5.10.46-4" (hung task reports).
    if (e.task.release.empty() &&
        (line.starts_with("Not tainted ") || line.starts_with("Tainted: "))) {
        if (auto parsed = parse_task_line("CPU: 0 PID: 0 Comm: - " + std::string(line))) {
            e.task.taint = std::move(parsed->taint);
            e.task.release = std::move(parsed->release);
            e.task.version = std::move(parsed->version);
        }
    }
    return false;
}

void TroubleAssembler::close(std::vector<TroubleEvent>& out) {
    if (!m_open)
        return;
    Open o = std::move(*m_open);
    m_open.reset();
    TroubleEvent& e = o.event;

    // Stall and lockup reports are printed by the detector from an
    // interrupt: its own frames are the <IRQ> part, the stuck code is the
    // task part. Any other report in interrupt context is about the
    // interrupt, so both parts count, in order.
    std::vector<TraceFrame> frames;
    if (is_stall_kind(e.kind) && !o.task_frames.empty()) {
        frames = std::move(o.task_frames);
    } else {
        frames = std::move(o.irq_frames);
        frames.insert(frames.end(), o.task_frames.begin(), o.task_frames.end());
    }
    std::vector<std::string> names;
    for (auto& f : frames)
        if (!is_reporting_frame(f.function))
            names.push_back(std::move(f.function));
    if (e.kind == TroubleKind::hung_task)
        while (!names.empty() && is_wait_frame(names.front()))
            names.erase(names.begin());
    if (e.function.empty() && !o.rip.empty() && !is_reporting_frame(o.rip))
        e.function = o.rip;
    if (e.function.empty() && is_stall_kind(e.kind) && !names.empty())
        e.function = names.front();
    // The faulting function heads the trace too (or is an unreliable "?"
    // frame there): once is enough.
    if (!names.empty() && names.front() == e.function)
        names.erase(names.begin());
    if (names.size() > m_options.kept_frames)
        names.resize(m_options.kept_frames);
    e.frames = std::move(names);

    SignatureParts parts;
    parts.kind = std::string(to_string(e.kind));
    parts.function = e.function;
    parts.frames.assign(e.frames.begin(),
                        e.frames.begin() + static_cast<std::ptrdiff_t>(std::min(
                                               e.frames.size(), m_options.signature_frames)));
    parts.location = source_file(e.location);
    parts.detail = o.detail;
    e.signature_text = signature_text(parts);
    e.signature = signature_id(parts);
    finish(std::move(e), out);
}

void TroubleAssembler::finish(TroubleEvent e, std::vector<TroubleEvent>& out) {
    const std::size_t k = index_of(e.kind);
    ++m_counts.seen[k];
    if (e.truncated)
        ++m_counts.truncated;
    count_signature(e);
    Bucket& b = m_buckets[k];
    if (!b.started) {
        b.started = true;
        b.tokens = m_options.burst;
        b.last_us = e.timestamp_us;
    } else if (e.timestamp_us > b.last_us) {
        b.tokens = std::min<double>(m_options.burst,
                                    b.tokens + static_cast<double>(e.timestamp_us - b.last_us) /
                                                   static_cast<double>(m_options.refill_us));
        b.last_us = e.timestamp_us;
    }
    if (b.tokens < 1.0) {
        ++m_counts.suppressed[k];
        ++b.pending;
        return;
    }
    b.tokens -= 1.0;
    e.suppressed_before = b.pending;
    b.pending = 0;
    out.push_back(std::move(e));
}

void TroubleAssembler::count_signature(const TroubleEvent& e) {
    for (auto& s : m_counts.by_signature)
        if (s.signature == e.signature) {
            ++s.count;
            return;
        }
    if (m_counts.by_signature.size() < m_options.max_signatures) {
        m_counts.by_signature.push_back({e.kind, e.signature, e.function, 1});
        return;
    }
    ++m_counts.other_signatures;
}

} // namespace guardian

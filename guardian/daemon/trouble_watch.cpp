#include "guardian/daemon/trouble_watch.hpp"

#include "guardian/boot/boot_report_run.hpp"
#include "guardian/boot/previous_boot.hpp"
#include "guardian/core/message_ids.hpp"
#include "guardian/core/risk_table.hpp"
#include "guardian/sys/kernel_info.hpp"
#include "guardian/util/fd.hpp"

#include <fmt/format.h>

#include <chrono>

namespace guardian::daemon {
namespace {

std::int64_t us(std::chrono::nanoseconds t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t).count();
}

std::string_view family_id(TroubleKind k) {
    switch (k) {
    case TroubleKind::warning:
        return message_id::kernel_warning;
    case TroubleKind::rcu_stall:
    case TroubleKind::soft_lockup:
    case TroubleKind::hard_lockup:
    case TroubleKind::hung_task:
        return message_id::kernel_hang;
    case TroubleKind::page_alloc_failure:
    case TroubleKind::oom_kill:
        return message_id::kernel_memory;
    case TroubleKind::filesystem:
    case TroubleKind::block_io:
        return message_id::kernel_storage;
    default:
        return message_id::kernel_crash;
    }
}

Priority priority_of(TroubleKind k) {
    if (family_id(k) == message_id::kernel_crash || family_id(k) == message_id::kernel_hang)
        return Priority::err;
    return Priority::warning;
}

std::string first_line(const Result<std::string>& text) {
    if (!text)
        return "";
    const std::string& t = *text;
    return t.substr(0, t.find('\n'));
}

} // namespace

TroubleWatch::TroubleWatch(Logger& log, Clocks& clocks, SystemRoot root,
                           TroubleWatchSettings settings)
    : m_log(log), m_clocks(clocks), m_root(std::move(root)), m_settings(std::move(settings)),
      m_file(boot::BootHistoryFile::under(m_root)) {}

void TroubleWatch::start(const std::vector<std::string>& conditions) {
    const auto now = m_clocks.now();
    if (auto text = read_text_file(m_settings.risk_table, 4u << 20); !text)
        m_table_error = text.error().message;
    else if (auto table = parse_risk_table(*text); !table)
        m_table_error = m_settings.risk_table + ": " + table.error().message;
    else
        m_table = std::move(table).value();

    // This boot's identity.
    if (auto id = boot::read_boot_id(m_root); id)
        m_boot.boot_id = *id;
    else
        m_history_error = "boot id: " + id.error().message;
    m_boot.kernel_release = m_settings.kernel_release;
    m_boot.kernel_version = first_line(read_text_file(m_root.path("/proc/sys/kernel/version")));
    m_boot.distribution = m_settings.distribution;
    m_boot.start_us = us(now.realtime) - (us(now.boottime));
    m_boot.last_alive_us = us(now.realtime);
    m_boot.uptime_us = us(now.boottime);

    // Known bugs before any trouble: "this kernel is affected by ...".
    if (m_table) {
        KernelFacts facts;
        facts.release = m_boot.kernel_release;
        facts.version = m_boot.kernel_version;
        facts.conditions = conditions;
        m_bugs = judge_known_bugs(*m_table, facts);
        for (const auto& b : m_bugs)
            if (b.exposure == BugExposure::affected)
                m_log.log(Priority::warning,
                          fmt::format("kernel {} is affected by known bug {}, fixed in {}: {}",
                                      m_boot.kernel_release, b.bug_id,
                                      b.fixed_in.empty() ? "?" : b.fixed_in, b.reason),
                          {{"MESSAGE_ID", std::string(message_id::known_kernel_bug)},
                           {"GUARDIAN_KNOWN_BUG", b.bug_id},
                           {"GUARDIAN_FIXED_IN", b.fixed_in}});
    } else {
        m_log.warning("known kernel bugs: " + m_table_error);
    }

    if (!m_history_error.empty()) {
        m_log.warning("boot history: " + m_history_error);
        return;
    }
    auto loaded = m_file.load();
    if (!loaded) {
        m_history_error = loaded.error().message;
        m_log.warning("boot history: " + m_history_error);
        return;
    }
    if (loaded->rejected > 0 || loaded->torn_tail)
        m_log.notice(fmt::format("boot history {}: {} damaged record(s) dropped{}", m_file.path(),
                                 loaded->rejected, loaded->torn_tail ? ", a torn last line" : ""));
    // guardiand restarted within this boot: keep what the boot recorded.
    for (const auto& b : m_file.boots())
        if (b.boot_id == m_boot.boot_id) {
            m_first_start = false;
            m_boot.trouble_kind = b.trouble_kind;
            m_boot.trouble_signature = b.trouble_signature;
            m_boot.trouble_function = b.trouble_function;
            m_boot.known_bug = b.known_bug;
            m_boot.trouble_count = b.trouble_count;
        }
    // The newest other boot is the previous one.
    for (auto it = m_file.boots().rbegin(); it != m_file.boots().rend(); ++it) {
        if (it->boot_id == m_boot.boot_id)
            continue;
        BootEntry prev = *it;
        if (prev.end == BootEnd::running) {
            boot::PreviousBootOptions po;
            po.root = m_root;
            po.table = m_table ? &*m_table : nullptr;
            po.journal = m_settings.previous_journal;
            po.journal_dir = m_settings.journal_dir;
            const auto found = boot::gather_previous_boot(prev, po);
            for (const auto& note : found.notes)
                m_log.debug("previous boot: " + note);
            prev = with_attribution(prev, attribute_end(prev, found.evidence));
            m_previous_source = found.source.empty() ? "none" : found.source;
            if (auto st = m_file.save(prev); !st)
                m_log.warning("boot history: " + st.error().message);
        } else {
            m_previous_source = "recorded";
        }
        m_previous = prev;
        m_log.log(unclean(prev.end) ? Priority::warning : Priority::info,
                  "previous boot " + prev.boot_id + " (" + prev.kernel_release +
                      ") ended: " + describe_end(prev),
                  {{"MESSAGE_ID", std::string(message_id::previous_boot)},
                   {"GUARDIAN_BOOT_ID", prev.boot_id},
                   {"GUARDIAN_BOOT_END", std::string(to_string(prev.end))},
                   {"GUARDIAN_EVIDENCE_SOURCE", m_previous_source},
                   {"GUARDIAN_TROUBLE_SIGNATURE", prev.trouble_signature},
                   {"GUARDIAN_KNOWN_BUG", prev.known_bug}});
        break;
    }
    (void)save("start");
}

bool TroubleWatch::save(const char* why) {
    // A history that could not be read is never overwritten.
    if (!m_history_error.empty())
        return false;
    if (auto st = m_file.save(m_boot); !st) {
        m_log.warning(std::string("boot history (") + why + "): " + st.error().message);
        return false;
    }
    m_last_written_us = m_boot.last_alive_us;
    return true;
}

void TroubleWatch::stamp_alive() {
    const auto now = m_clocks.now();
    m_boot.last_alive_us = us(now.realtime);
    m_boot.uptime_us = us(now.boottime);
}

std::vector<TroubleEvent> TroubleWatch::feed(const std::vector<KmsgRecord>& records,
                                             bool may_write) {
    std::vector<TroubleEvent> events;
    for (const auto& r : records)
        for (auto& e : m_assembler.feed(r))
            events.push_back(std::move(e));
    handle(events, may_write);
    return events;
}

std::vector<TroubleEvent> TroubleWatch::flush(bool may_write) {
    auto events = m_assembler.flush();
    handle(events, may_write);
    return events;
}

void TroubleWatch::handle(std::vector<TroubleEvent>& events, bool may_write) {
    bool fatal_seen = false;
    for (const auto& e : events) {
        std::string bug;
        if (m_table)
            if (const auto ids = match_known_bugs(*m_table, e); !ids.empty())
                bug = ids.front();
        log_event(e, bug);
        const std::string kind(to_string(e.kind));
        m_last.push_back(
            {us(m_clocks.now().realtime) / 1'000'000, kind, e.signature, e.function, bug});
        if (m_last.size() > k_trouble_notes_kept)
            m_last.erase(m_last.begin());
        ++m_boot.trouble_count;
        // The record keeps what would explain an unclean end: the last
        // fatal report, else the last one.
        const bool fatal = trouble_is_fatal(kind);
        if (fatal || !trouble_is_fatal(m_boot.trouble_kind)) {
            m_boot.trouble_kind = kind;
            m_boot.trouble_signature = e.signature;
            m_boot.trouble_function = e.function;
            m_boot.known_bug = bug;
        }
        fatal_seen = fatal_seen || fatal;
    }
    // Fatal trouble may end the boot any moment: record it now (one small
    // fsync'd append; rate-limited with the events themselves).
    if (fatal_seen && may_write) {
        stamp_alive();
        (void)save("kernel trouble");
    }
}

void TroubleWatch::log_event(const TroubleEvent& e, const std::string& known_bug) {
    std::string frames;
    for (std::size_t i = 0; i < e.frames.size() && i < 8; ++i)
        frames += (i ? " < " : "") + e.frames[i];
    std::string message = "kernel trouble: " + summary_line(e);
    if (!known_bug.empty())
        message += "; matches known bug " + known_bug;
    m_log.log(priority_of(e.kind), message,
              {{"MESSAGE_ID", std::string(family_id(e.kind))},
               {"GUARDIAN_TROUBLE_KIND", std::string(to_string(e.kind))},
               {"GUARDIAN_TROUBLE_SIGNATURE", e.signature},
               {"GUARDIAN_TROUBLE_FUNCTION", e.function},
               {"GUARDIAN_TROUBLE_FRAMES", frames},
               {"GUARDIAN_TROUBLE_LOCATION", e.location},
               {"GUARDIAN_TAINT", e.task.taint},
               {"GUARDIAN_DEVICE", e.device},
               {"GUARDIAN_KNOWN_BUG", known_bug},
               {"GUARDIAN_SUPPRESSED_BEFORE", std::to_string(e.suppressed_before)}});
}

bool TroubleWatch::heartbeat(std::chrono::milliseconds interval, bool frozen, bool critical) {
    const std::int64_t now = us(m_clocks.now().realtime);
    const auto interval_us =
        std::chrono::duration_cast<std::chrono::microseconds>(interval).count();
    // A little early is due: the timer and the clock need not agree to the µs.
    if (!heartbeat_due(now + 1'000'000, m_last_written_us, interval_us, frozen, critical))
        return false;
    stamp_alive();
    return save("heartbeat");
}

bool TroubleWatch::record_alive() {
    stamp_alive();
    return save("stop");
}

void TroubleWatch::end_boot(BootEnd end) {
    stamp_alive();
    m_boot.end = end;
    (void)save(end == BootEnd::orderly ? "shutdown" : "emergency reboot");
}

TroubleSnapshot TroubleWatch::snapshot() const {
    TroubleSnapshot s;
    s.counts = m_assembler.counts();
    s.last = m_last;
    s.known_bugs = m_bugs;
    s.previous_boot = m_previous;
    return s;
}

TroubleReport TroubleWatch::report() const {
    TroubleReport r;
    r.counts = counts_node(m_assembler.counts());
    r.last = m_last;
    r.previous = previous_boot_node(m_previous);
    r.known_bugs = known_bug_notes(m_bugs);
    return r;
}

std::vector<PartStatus> TroubleWatch::parts() const {
    std::vector<PartStatus> out;
    if (m_history_error.empty())
        out.push_back({"boot history", true,
                       fmt::format("{} ({} boots)", m_file.path(), m_file.boots().size())});
    else
        out.push_back({"boot history", false, m_history_error});
    if (m_previous)
        out.push_back({"previous boot", true,
                       describe_end(*m_previous) + " (evidence: " + m_previous_source + ")"});
    else
        out.push_back({"previous boot", false, "no earlier boot in the history"});
    if (m_table)
        out.push_back(
            {"known kernel bugs", true,
             fmt::format("{} known bug(s) judged for {}", m_bugs.size(), m_boot.kernel_release)});
    else
        out.push_back({"known kernel bugs", false, m_table_error});
    return out;
}

} // namespace guardian::daemon

#include "guardian/boot/boot_report_run.hpp"

#include "guardian/boot/boot_record.hpp"
#include "guardian/boot/journal_reader.hpp"
#include "guardian/core/guard_selection.hpp"
#include "guardian/core/message_ids.hpp"
#include "guardian/ext4/fs_handle.hpp"
#include "guardian/hooks/hook_runner.hpp"
#include "guardian/sys/mounts.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/time_format.hpp"
#include "guardian/xen/publisher.hpp"
#include "guardian/xen/xenstore.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace guardian::boot {
namespace {

// This boot's fsck output, and the incident it follows from: walking back
// over boots in which guardian-boot never reported (systemd-fsck repairs a
// root filesystem and reboots before local-fs.target) to the incident's
// boot; their fsck output is part of this report.
void collect_journal(const BootReportOptions& o, const std::string& boot_id, BootReport& report) {
    auto reader = o.journal_dir.empty() ? JournalReader::open_system()
                                        : JournalReader::open_directory(o.journal_dir);
    if (!reader) {
        report.notes.push_back("journal: " + reader.error().message);
        return;
    }
    std::vector<JournalLine> fsck;
    if (auto lines = reader->fsck_lines(boot_id); lines)
        fsck = std::move(lines).value();
    else
        report.notes.push_back("fsck journal: " + lines.error().message);

    std::string boot = boot_id;
    for (int back = 1; back <= k_max_boots_back; ++back) {
        auto previous = reader->previous_boot(boot);
        if (!previous) {
            report.notes.push_back("previous boot: " + previous.error().message);
            break;
        }
        if (previous->empty()) {
            if (back == 1)
                report.notes.push_back("the journal holds no previous boot");
            break;
        }
        if (back == 1) {
            if (auto last = reader->last_entry_realtime_us(*previous); last)
                report.previous_boot_last_us = *last;
        }
        auto entries = reader->entries_with_ids(*previous, {message_id::protective_action,
                                                            message_id::verification_critical,
                                                            message_id::boot_report});
        if (!entries) {
            report.notes.push_back("previous boot's incident: " + entries.error().message);
            break;
        }
        const EarlierBoot kind = classify_earlier_boot(*entries);
        if (kind == EarlierBoot::incident)
            report.incident = pick_incident(*entries);
        if (kind != EarlierBoot::unreported)
            break;
        // Only a boot whose fsck did work and that never got to report is
        // the repair-and-reboot boot after an incident; any other unreported
        // boot (guardian not installed yet, a crash) ends the walk.
        auto older = reader->fsck_lines(*previous);
        if (!older)
            break;
        const auto work = summarize_fsck(*older);
        if (std::none_of(work.begin(), work.end(), [](const FsckResult& f) { return eventful(f); }))
            break;
        report.notes.push_back(fmt::format(
            "fsck output of an earlier boot that rebooted before reporting ({} back) included",
            back));
        older->insert(older->end(), fsck.begin(), fsck.end());
        fsck = std::move(older).value();
        boot = *previous;
    }
    report.fsck = summarize_fsck(fsck);
}

void collect_superblocks(const BootReportOptions& o, std::int64_t boot_time, BootReport& report) {
    auto mounts = sys::read_mounts(o.root);
    if (!mounts) {
        report.notes.push_back("mounts: " + mounts.error().message);
        return;
    }
    const auto guarded = select_guarded(sys::mounted_ext_filesystems(*mounts), o.config.guard,
                                        o.config.skip, o.xs != nullptr);
    for (const auto& m : guarded) {
        FsHealth h;
        h.device = m.source;
        h.mount_point = m.mount_point;
        auto opened = ext4::FsHandle::open(m.source);
        if (!opened) {
            h.error = opened.error().message;
        } else if (!opened->fs) {
            h.error = opened->rejected;
        } else {
            const ext4::SuperblockHealth s = opened->fs->health();
            h.error_flag = s.error_flag;
            h.error_count = s.error_count;
            h.lastcheck = s.lastcheck;
            h.checked_this_boot = boot_time > 0 && s.lastcheck >= boot_time;
            const std::int64_t bound = previous_boot_bound_us(report);
            h.checked_between_boots = bound > 0 && boot_time > 0 &&
                                      h.lastcheck * 1'000'000 > bound && h.lastcheck < boot_time;
        }
        report.filesystems.push_back(std::move(h));
    }
}

} // namespace

Result<std::string> read_boot_id(const SystemRoot& root) {
    GUARDIAN_TRY_ASSIGN(std::string text,
                        read_text_file(root.path("/proc/sys/kernel/random/boot_id"), 4096));
    std::string id;
    for (char c : text)
        if (std::isxdigit(static_cast<unsigned char>(c)) != 0)
            id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (id.size() != 32)
        return Error{"boot id: expected 32 hex digits, got \"" + text + "\"", 0};
    return id;
}

Result<std::int64_t> read_boot_time(const SystemRoot& root) {
    GUARDIAN_TRY_ASSIGN(std::string text, read_text_file(root.path("/proc/stat"), 1u << 20));
    const std::string_view key = "\nbtime ";
    const auto pos = ("\n" + text).find(key);
    if (pos == std::string::npos)
        return Error{"/proc/stat: no btime line", 0};
    const char* begin = text.data() + pos + key.size() - 1;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(begin, text.data() + text.size(), value);
    if (ec != std::errc() || end == begin)
        return Error{"/proc/stat: bad btime line", 0};
    return value;
}

// guardian's own record of the previous boot's start, for when the journal
// lost that boot (see core/boot_report.hpp).
void collect_boot_record(const BootReportOptions& o, const std::string& boot_id,
                         BootReport& report) {
    auto record = read_boot_record(o.root);
    if (!record) {
        report.notes.push_back("boot record: " + record.error().message);
        return;
    }
    if (auto start = previous_boot_start_us(*record, boot_id)) {
        report.previous_boot_start_us = *start;
        if (report.previous_boot_last_us == 0)
            report.notes.push_back("guardian's boot record: the previous boot it ran in started " +
                                   iso8601_utc(std::chrono::microseconds(*start)));
    }
}

BootReport collect_boot_report(const BootReportOptions& o) {
    BootReport report;
    auto boot_id = read_boot_id(o.root);
    if (!boot_id) {
        report.notes.push_back(boot_id.error().message);
    } else {
        collect_journal(o, *boot_id, report);
        collect_boot_record(o, *boot_id, report);
    }
    auto boot_time = read_boot_time(o.root);
    if (!boot_time)
        report.notes.push_back(boot_time.error().message);
    collect_superblocks(o, boot_time ? *boot_time : 0, report);
    return report;
}

int run_boot_report(const BootReportOptions& o, Logger& log) {
    if (auto id = read_boot_id(o.root); !id) {
        log.error("boot report: " + id.error().message);
        return 1;
    }
    const BootReport report = collect_boot_report(o);
    // What could not be read stays visible also when the rest is calm.
    for (const auto& note : report.notes)
        log.notice("boot report: " + note);
    const bool calm = uneventful(report);
    const std::string line = summary_line(report);
    log.log(calm ? Priority::info : Priority::warning,
            calm ? line : "boot report: " + line + "\n" + details(report), journal_fields(report));

    if (o.xs != nullptr) {
        // One bounded line: it must fit a xenstore message with its path.
        const std::string value = summary_line(report, 1024);
        xen::ReportPublisher publisher(*o.xs);
        if (auto st = publisher.publish_boot_report(value); !st)
            log.warning("xenstore " + contract::node_path(contract::node::boot_report) + ": " +
                        st.error().message);
    }
    if (report.incident) {
        hooks::HookOptions ho;
        ho.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(o.config.hook_timeout);
        ho.environment.emplace_back("GUARDIAN_BOOT_REPORT", line);
        ho.environment.emplace_back("GUARDIAN_INCIDENT", report.incident->message);
        (void)hooks::run_hooks(o.config.hook_dir, hooks::HookEvent::incident, ho, log);
    }
    return 0;
}

} // namespace guardian::boot

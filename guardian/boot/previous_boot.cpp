#include "guardian/boot/previous_boot.hpp"

#include "guardian/boot/journal_reader.hpp"
#include "guardian/core/message_ids.hpp"
#include "guardian/core/trouble_sources.hpp"
#include "guardian/util/fd.hpp"

#include <algorithm>
#include <filesystem>
#include <sys/stat.h>

namespace guardian::boot {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_max_dump = 1u << 20; // kmsg_dump records are a few KiB each

bool is_dmesg_file(const fs::path& p) {
    const std::string name = p.filename().string();
    return name.starts_with("dmesg-") || name == "dmesg.txt";
}

std::int64_t mtime_us(const fs::directory_entry& e) {
    struct stat st {};
    if (::stat(e.path().c_str(), &st) != 0)
        return 0;
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
}

// The records of one dump file: a kmsg_dump part ("Panic#1 Part1" and
// syslog(2) lines) or systemd-pstore's reassembled dmesg.txt (lines only).
std::vector<KmsgRecord> dump_records(const std::string& text) {
    if (auto dump = parse_pstore_dmesg(text))
        return std::move(dump->records);
    std::vector<KmsgRecord> out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string::npos)
            nl = text.size();
        if (auto r = parse_syslog_line(std::string_view(text).substr(start, nl - start)))
            out.push_back(std::move(*r));
        start = nl + 1;
    }
    return out;
}

// Dumps written since the previous boot began, oldest first (by name within
// one directory: dmesg-<backend>-<id> parts).
std::vector<KmsgRecord> pstore_records(const SystemRoot& root, std::int64_t since_us,
                                       std::vector<std::string>& notes) {
    std::vector<std::pair<std::string, std::string>> files; // path, text
    for (const char* dir : {"/sys/fs/pstore", "/var/lib/systemd/pstore"}) {
        std::error_code ec;
        fs::recursive_directory_iterator it(root.path(dir), ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            if (!it->is_regular_file(ec) || !is_dmesg_file(it->path()))
                continue;
            if (since_us > 0 && mtime_us(*it) < since_us)
                continue;
            auto text = read_text_file(it->path().string(), k_max_dump);
            if (!text) {
                notes.push_back("pstore: " + text.error().message);
                continue;
            }
            files.emplace_back(it->path().string(), std::move(text).value());
        }
    }
    // kmsg_dump numbers parts from the newest (Part1): read the highest first.
    std::sort(files.begin(), files.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<KmsgRecord> out;
    for (const auto& [path, text] : files)
        for (auto& r : dump_records(text))
            out.push_back(std::move(r));
    return out;
}

std::vector<KmsgRecord> journal_records(const BootEntry& previous, const PreviousBootOptions& o,
                                        std::vector<std::string>& notes) {
    auto reader = o.journal_dir.empty() ? JournalReader::open_system()
                                        : JournalReader::open_directory(o.journal_dir);
    if (!reader) {
        notes.push_back("journal: " + reader.error().message);
        return {};
    }
    auto lines = reader->kernel_json_lines(previous.boot_id);
    if (!lines) {
        notes.push_back("journal: " + lines.error().message);
        return {};
    }
    std::vector<KmsgRecord> out;
    for (const auto& line : *lines)
        if (auto r = kmsg_record_from_journal_json(line))
            out.push_back(std::move(*r));
    return out;
}

// guardian's own journal entries of that boot: a critical verdict under
// policy protect ends the boot with guardian's emergency reboot, which the
// boot history cannot record when /var/lib/guardian is on the suspect disk
// (daemon/trouble.cpp). journald syncs on the verdict's crit entry, before
// the writes stop. Under policy observe the verdict is followed by the
// "policy observe: reporting only" entry (daemon/emergency.cpp), and the
// boot goes on.
bool emergency_in_journal(const BootEntry& previous, const PreviousBootOptions& o,
                          std::vector<std::string>& notes) {
    auto reader = o.journal_dir.empty() ? JournalReader::open_system()
                                        : JournalReader::open_directory(o.journal_dir);
    if (!reader)
        return false;
    auto lines = reader->entries_with_ids(
        previous.boot_id, {message_id::verification_critical, message_id::protective_action}, 50);
    if (!lines) {
        notes.push_back("journal: " + lines.error().message);
        return false;
    }
    bool critical = false;
    for (const auto& l : *lines) {
        if (l.message_id == message_id::protective_action)
            return true;
        if (l.message.starts_with("policy observe"))
            return false;
        critical = true;
    }
    return critical;
}

} // namespace

PreviousBootEvidence gather_previous_boot(const BootEntry& previous, const PreviousBootOptions& o) {
    PreviousBootEvidence out;
    out.evidence.orderly_shutdown = previous.end == BootEnd::orderly;
    out.evidence.emergency_reboot = previous.end == BootEnd::emergency_reboot;
    if (previous.end != BootEnd::running)
        return out; // the boot recorded its own end: nothing to look for
    if (o.journal && !previous.boot_id.empty() && emergency_in_journal(previous, o, out.notes)) {
        out.evidence.emergency_reboot = true;
        out.source = "journal";
        return out;
    }

    // pstore and the journal may hold trouble guardiand never saw (a panic
    // it could not record); their copy of a report guardiand did record may
    // be cut short by the crash, so its own signature wins for that one.
    const auto found = [&](std::vector<TroubleSeen> seen, const char* source) {
        if (complete_from_own_record(seen, previous))
            out.notes.push_back(std::string(source) + ": its copy of the " + previous.trouble_kind +
                                " report differs from the one guardiand recorded whole; "
                                "guardiand's signature is used");
        out.source = source;
        out.evidence.trouble = std::move(seen);
    };
    auto seen = trouble_seen(pstore_records(o.root, previous.start_us, out.notes), o.table);
    if (!seen.empty()) {
        found(std::move(seen), "pstore");
        return out;
    }
    if (o.journal && !previous.boot_id.empty()) {
        seen = trouble_seen(journal_records(previous, o, out.notes), o.table);
        if (!seen.empty()) {
            found(std::move(seen), "journal");
            return out;
        }
    }
    // What guardiand itself recorded while the boot was alive.
    if (!previous.trouble_kind.empty()) {
        out.source = "guardian";
        out.evidence.trouble.push_back(
            TroubleSeen{previous.trouble_kind, previous.trouble_signature,
                        previous.trouble_function, previous.known_bug, previous.last_alive_us});
    }
    return out;
}

} // namespace guardian::boot

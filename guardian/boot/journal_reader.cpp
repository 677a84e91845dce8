#include "guardian/boot/journal_reader.hpp"

#include <systemd/sd-journal.h>

#include <algorithm>
#include <cstdint>

namespace guardian::boot {
namespace {

constexpr std::string_view k_fsck_root = "systemd-fsck-root.service";
constexpr std::string_view k_fsck_prefix = "systemd-fsck@";

Error journal_error(const std::string& what, int r) {
    return Error::from_errno(what, -r);
}

// The value of FIELD in the current entry, or "" when absent.
std::string field(sd_journal* j, std::string_view name) {
    const void* data = nullptr;
    std::size_t len = 0;
    const std::string key(name);
    if (sd_journal_get_data(j, key.c_str(), &data, &len) < 0)
        return "";
    std::string_view v(static_cast<const char*>(data), len);
    if (v.size() > name.size() && v[name.size()] == '=')
        v.remove_prefix(name.size() + 1);
    return std::string(v);
}

JournalLine current_line(sd_journal* j) {
    JournalLine line;
    line.unit = field(j, "_SYSTEMD_UNIT");
    line.message = field(j, "MESSAGE");
    line.message_id = field(j, "MESSAGE_ID");
    std::uint64_t us = 0;
    if (sd_journal_get_realtime_usec(j, &us) >= 0)
        line.realtime_us = static_cast<std::int64_t>(us);
    return line;
}

Status add_match(sd_journal* j, const std::string& match) {
    if (int r = sd_journal_add_match(j, match.data(), match.size()); r < 0)
        return journal_error("journal match " + match, r);
    return ok_status();
}

// Walks the entries matching the current matches from the head, oldest first.
Result<std::vector<JournalLine>> collect(sd_journal* j, std::size_t limit) {
    std::vector<JournalLine> out;
    if (int r = sd_journal_seek_head(j); r < 0)
        return journal_error("journal seek", r);
    for (;;) {
        const int r = sd_journal_next(j);
        if (r < 0)
            return journal_error("journal read", r);
        if (r == 0 || out.size() >= limit)
            break;
        out.push_back(current_line(j));
    }
    return out;
}

} // namespace

void JournalReader::Closer::operator()(sd_journal* j) const noexcept {
    sd_journal_close(j);
}

Result<JournalReader> JournalReader::open_system() {
    sd_journal* j = nullptr;
    if (int r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM); r < 0)
        return journal_error("open the system journal", r);
    return JournalReader(j);
}

Result<JournalReader> JournalReader::open_directory(const std::string& dir) {
    sd_journal* j = nullptr;
    if (int r = sd_journal_open_directory(&j, dir.c_str(), 0); r < 0)
        return journal_error("open the journal in " + dir, r);
    return JournalReader(j);
}

Result<std::vector<JournalLine>> JournalReader::fsck_lines(std::string_view boot_id,
                                                           std::size_t limit) {
    sd_journal* j = m_j.get();
    sd_journal_flush_matches(j);
    // systemd-fsck@ is a template: matches are exact, so enumerate the unit
    // names the journal knows and keep the fsck instances.
    std::vector<std::string> units{std::string(k_fsck_root)};
    if (int r = sd_journal_query_unique(j, "_SYSTEMD_UNIT"); r < 0)
        return journal_error("journal unique _SYSTEMD_UNIT", r);
    const void* data = nullptr;
    std::size_t len = 0;
    SD_JOURNAL_FOREACH_UNIQUE(j, data, len) {
        std::string_view v(static_cast<const char*>(data), len);
        v.remove_prefix(std::min(v.size(), std::string_view("_SYSTEMD_UNIT=").size()));
        if (v.starts_with(k_fsck_prefix))
            units.emplace_back(v);
    }
    sd_journal_restart_unique(j);
    // Matches on one field are ORed, on different fields ANDed.
    for (const auto& u : units)
        GUARDIAN_TRY(add_match(j, "_SYSTEMD_UNIT=" + u));
    GUARDIAN_TRY(add_match(j, "_BOOT_ID=" + std::string(boot_id)));
    auto lines = collect(j, limit);
    sd_journal_flush_matches(j);
    return lines;
}

namespace {

// The realtime (us) of boot `boot_id`'s oldest or newest entry, 0 when it
// has none; the boot match is dropped again.
Result<std::uint64_t> boot_edge_us(sd_journal* j, std::string_view boot_id, bool newest) {
    sd_journal_flush_matches(j);
    GUARDIAN_TRY(add_match(j, "_BOOT_ID=" + std::string(boot_id)));
    if (int r = newest ? sd_journal_seek_tail(j) : sd_journal_seek_head(j); r < 0)
        return journal_error("journal seek", r);
    int r = newest ? sd_journal_previous(j) : sd_journal_next(j);
    if (r < 0)
        return journal_error("journal read", r);
    std::uint64_t us = 0;
    // Read before flushing: dropping the matches invalidates the position.
    if (r > 0 && (r = sd_journal_get_realtime_usec(j, &us)) < 0)
        return journal_error("journal timestamp", r);
    sd_journal_flush_matches(j);
    return us;
}

} // namespace

Result<std::string> JournalReader::previous_boot(std::string_view boot_id) {
    sd_journal* j = m_j.get();
    GUARDIAN_TRY_ASSIGN(const std::uint64_t first_us, boot_edge_us(j, boot_id, /*newest=*/false));
    // Without entries of this boot (it has logged nothing yet, or not to
    // this journal) the previous boot is the newest one in it.
    int r = first_us != 0 ? sd_journal_seek_realtime_usec(j, first_us) : sd_journal_seek_tail(j);
    if (r < 0)
        return journal_error("journal seek", r);
    // Step back to the newest entry of another boot.
    for (int steps = 0; steps < 100000; ++steps) {
        r = sd_journal_previous(j);
        if (r < 0)
            return journal_error("journal read", r);
        if (r == 0)
            return std::string();
        std::string b = field(j, "_BOOT_ID");
        if (!b.empty() && b != boot_id)
            return b;
    }
    return std::string();
}

Result<std::int64_t> JournalReader::last_entry_realtime_us(std::string_view boot_id) {
    GUARDIAN_TRY_ASSIGN(const std::uint64_t us, boot_edge_us(m_j.get(), boot_id, /*newest=*/true));
    return static_cast<std::int64_t>(us);
}

Result<std::vector<JournalLine>> JournalReader::entries_with_ids(
    std::string_view boot_id, const std::vector<std::string_view>& message_ids, std::size_t limit) {
    sd_journal* j = m_j.get();
    sd_journal_flush_matches(j);
    for (auto id : message_ids)
        GUARDIAN_TRY(add_match(j, "MESSAGE_ID=" + std::string(id)));
    GUARDIAN_TRY(add_match(j, "_BOOT_ID=" + std::string(boot_id)));
    auto lines = collect(j, limit);
    sd_journal_flush_matches(j);
    return lines;
}

} // namespace guardian::boot

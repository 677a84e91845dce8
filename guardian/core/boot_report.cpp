#include "guardian/core/boot_report.hpp"

#include "guardian/core/message_ids.hpp"
#include "guardian/util/time_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

namespace guardian {
namespace {

constexpr std::string_view k_fsck_root_unit = "systemd-fsck-root.service";
constexpr std::string_view k_fsck_prefix = "systemd-fsck@";
constexpr std::string_view k_service_suffix = ".service";

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// systemd-escape --unescape --path: '-' is '/', "\xNN" a literal byte.
std::string unescape_path(std::string_view s) {
    std::string out = "/";
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '-') {
            out += '/';
        } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' &&
                   hex_value(s[i + 2]) >= 0 && hex_value(s[i + 3]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 2]) * 16 + hex_value(s[i + 3]));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

void classify(FsckResult& r, std::string_view m) {
    // Texts of e2fsck 1.46/1.47 (its -p "preen" output, which systemd-fsck
    // passes on to the journal) and of systemd-fsck itself.
    if (contains(m, "recovering journal"))
        r.journal_recovered = true;
    if (contains(m, "check forced"))
        r.check_forced = true;
    if (contains(m, "FILE SYSTEM WAS MODIFIED"))
        r.modified = true;
    if (contains(m, ": clean,"))
        r.clean = true;
    if (contains(m, "UNEXPECTED INCONSISTENCY") || contains(m, "RUN fsck MANUALLY") ||
        contains(m, "fsck failed") || contains(m, "errors left uncorrected") ||
        contains(m, "ERRORS LEFT"))
        r.errors_left = true;
}

std::string iso_from_us(std::int64_t us) {
    return iso8601_utc(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::microseconds(us))));
}

std::string iso_from_s(std::int64_t s) {
    return iso8601_utc(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(s))));
}

std::string first_line(std::string_view text) {
    return std::string(text.substr(0, text.find('\n')));
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (const auto& p : parts) {
        if (!out.empty())
            out += sep;
        out += p;
    }
    return out;
}

} // namespace

std::string fsck_unit_device(std::string_view unit) {
    if (unit == k_fsck_root_unit)
        return "/";
    if (!unit.starts_with(k_fsck_prefix) || !unit.ends_with(k_service_suffix))
        return "";
    unit.remove_prefix(k_fsck_prefix.size());
    unit.remove_suffix(k_service_suffix.size());
    return unescape_path(unit);
}

std::vector<FsckResult> summarize_fsck(const std::vector<JournalLine>& lines) {
    std::vector<FsckResult> out;
    for (const auto& line : lines) {
        const std::string device = fsck_unit_device(line.unit);
        if (device.empty())
            continue;
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const FsckResult& r) { return r.unit == line.unit; });
        if (it == out.end()) {
            out.push_back(FsckResult{});
            it = std::prev(out.end());
            it->unit = line.unit;
            it->device = device;
        }
        classify(*it, line.message);
        if (it->messages.size() < k_fsck_messages_kept)
            it->messages.push_back(line.message);
    }
    return out;
}

bool eventful(const FsckResult& r) noexcept {
    return r.journal_recovered || r.check_forced || r.modified || r.errors_left;
}

std::string describe(const FsckResult& r) {
    std::vector<std::string> parts;
    if (r.journal_recovered)
        parts.emplace_back("recovered journal");
    if (r.check_forced)
        parts.emplace_back("check forced");
    if (r.modified)
        parts.emplace_back("modified");
    if (r.errors_left)
        parts.emplace_back("ERRORS LEFT");
    if (parts.empty())
        parts.emplace_back(r.clean ? "clean" : (r.messages.empty() ? "no output" : "ran"));
    return join(parts, ", ");
}

std::optional<PreviousIncident> pick_incident(const std::vector<JournalLine>& entries) {
    std::optional<PreviousIncident> best;
    int best_rank = 0;
    for (const auto& e : entries) {
        const int rank = e.message_id == message_id::protective_action       ? 2
                         : e.message_id == message_id::verification_critical ? 1
                                                                             : 0;
        if (rank == 0)
            continue;
        if (!best || rank > best_rank ||
            (rank == best_rank && e.realtime_us >= best->realtime_us)) {
            best = PreviousIncident{e.realtime_us, e.message_id, e.message};
            best_rank = rank;
        }
    }
    return best;
}

EarlierBoot classify_earlier_boot(const std::vector<JournalLine>& entries) {
    bool reported = false;
    for (const auto& e : entries) {
        if (e.message_id == message_id::protective_action ||
            e.message_id == message_id::verification_critical)
            return EarlierBoot::incident; // also when reported earlier in that boot
        reported = reported || e.message_id == message_id::boot_report;
    }
    return reported ? EarlierBoot::reported : EarlierBoot::unreported;
}

namespace {

struct BootLine {
    std::string_view id;
    std::int64_t start_us = 0;
};

// "BOOT_ID START_US": 32 hex digits, a space, a positive decimal.
std::optional<BootLine> parse_boot_line(std::string_view line) {
    const auto space = line.find(' ');
    if (space != 32)
        return std::nullopt;
    const std::string_view id = line.substr(0, space);
    if (!std::all_of(id.begin(), id.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
        return std::nullopt;
    const std::string_view number = line.substr(space + 1);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size() || value <= 0)
        return std::nullopt;
    return BootLine{id, value};
}

std::vector<BootLine> parse_boot_record(std::string_view record) {
    std::vector<BootLine> out;
    while (!record.empty()) {
        const auto nl = record.find('\n');
        if (auto line = parse_boot_line(record.substr(0, nl)))
            out.push_back(*line);
        record = nl == std::string_view::npos ? std::string_view() : record.substr(nl + 1);
    }
    return out;
}

} // namespace

bool boot_recorded(std::string_view record, std::string_view boot_id) {
    const auto lines = parse_boot_record(record);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const BootLine& l) { return l.id == boot_id; });
}

std::string add_boot(std::string_view record, std::string_view boot_id, std::int64_t start_us) {
    auto lines = parse_boot_record(record);
    std::erase_if(lines, [&](const BootLine& l) { return l.id == boot_id; });
    lines.push_back(BootLine{boot_id, start_us});
    const std::size_t skip =
        lines.size() > k_boot_record_kept ? lines.size() - k_boot_record_kept : 0;
    std::string out;
    for (std::size_t i = skip; i < lines.size(); ++i)
        out += fmt::format("{} {}\n", lines[i].id, lines[i].start_us);
    return out;
}

std::optional<std::int64_t> previous_boot_start_us(std::string_view record,
                                                   std::string_view boot_id) {
    const auto lines = parse_boot_record(record);
    // Newest last: the order in which guardiand wrote them, not the times,
    // which a clock step can reorder.
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
        if (it->id != boot_id)
            return it->start_us;
    return std::nullopt;
}

std::int64_t previous_boot_bound_us(const BootReport& r) noexcept {
    return std::max(r.previous_boot_last_us, r.previous_boot_start_us);
}

bool uneventful(const BootReport& r) noexcept {
    if (r.incident)
        return false;
    if (std::any_of(r.fsck.begin(), r.fsck.end(), [](const auto& f) { return eventful(f); }))
        return false;
    return std::none_of(r.filesystems.begin(), r.filesystems.end(), [](const auto& f) {
        return f.error_flag || f.error_count > 0 || f.checked_between_boots;
    });
}

std::string summary_line(const BootReport& r, std::size_t max_len) {
    std::string line;
    if (uneventful(r)) {
        line = fmt::format("no incident at the previous boot; fsck uneventful ({} unit(s) ran)",
                           r.fsck.size());
    } else {
        line = r.incident ? fmt::format("incident at the previous boot ({}): {}",
                                        iso_from_us(r.incident->realtime_us),
                                        first_line(r.incident->message))
                          : std::string("no incident record in the journal");
        std::vector<std::string> fsck;
        for (const auto& f : r.fsck)
            fsck.push_back(f.device + " " + describe(f));
        line += "; fsck: " + (fsck.empty() ? std::string("none ran") : join(fsck, "; "));
        std::vector<std::string> bad;
        for (const auto& f : r.filesystems)
            if (f.error_flag || f.error_count > 0)
                bad.push_back(fmt::format("{} error state (count {})", f.device, f.error_count));
        for (const auto& f : r.filesystems)
            if (f.checked_between_boots)
                bad.push_back(fmt::format("{} fully checked at {} by a boot that rebooted before "
                                          "logging (fsck repaired it)",
                                          f.device, iso_from_us(f.lastcheck * 1'000'000)));
        if (!bad.empty())
            line += "; superblock: " + join(bad, "; ");
    }
    for (char& c : line)
        if (c == '\n' || c == '\r')
            c = ' ';
    if (line.size() > max_len) {
        line.resize(max_len >= 3 ? max_len - 3 : 0);
        line += "...";
        line.resize(std::min(line.size(), max_len));
    }
    return line;
}

std::string details(const BootReport& r) {
    std::string out;
    if (r.incident)
        out += fmt::format("previous boot's incident ({}):\n{}\n",
                           iso_from_us(r.incident->realtime_us), r.incident->message);
    else
        out += "no incident recorded at the previous boot\n";
    if (r.fsck.empty())
        out += "no fsck unit logged at this boot\n";
    for (const auto& f : r.fsck) {
        out += fmt::format("fsck {} ({}): {}\n", f.device, f.unit, describe(f));
        for (const auto& m : f.messages)
            out += "  " + m + "\n";
    }
    for (const auto& f : r.filesystems) {
        if (!f.error.empty()) {
            out += fmt::format("superblock {} ({}): unreadable: {}\n", f.device, f.mount_point,
                               f.error);
            continue;
        }
        out += fmt::format("superblock {} ({}): {}, error count {}, last check {}{}\n", f.device,
                           f.mount_point, f.error_flag ? "ERROR state" : "no error state",
                           f.error_count, f.lastcheck > 0 ? iso_from_s(f.lastcheck) : "never",
                           f.checked_this_boot ? " (this boot)" : "");
    }
    for (const auto& n : r.notes)
        out += "note: " + n + "\n";
    return out;
}

LogFields journal_fields(const BootReport& r) {
    std::vector<std::string> units;
    std::vector<std::string> eventful_devices;
    for (const auto& f : r.fsck) {
        units.push_back(f.unit);
        if (eventful(f))
            eventful_devices.push_back(f.device + ": " + describe(f));
    }
    std::vector<std::string> fs_errors;
    std::vector<std::string> checked;
    for (const auto& f : r.filesystems) {
        if (f.error_flag || f.error_count > 0)
            fs_errors.push_back(f.device);
        if (f.checked_this_boot)
            checked.push_back(f.device);
    }
    LogFields fields{{"MESSAGE_ID", std::string(message_id::boot_report)},
                     {"GUARDIAN_INCIDENT", r.incident ? "yes" : "no"},
                     {"GUARDIAN_FSCK_UNITS", join(units, " ")},
                     {"GUARDIAN_FSCK_EVENTFUL", join(eventful_devices, "; ")},
                     {"GUARDIAN_FS_ERRORS", join(fs_errors, " ")},
                     {"GUARDIAN_FS_CHECKED_THIS_BOOT", join(checked, " ")},
                     {"GUARDIAN_BOOT_REPORT", summary_line(r)}};
    if (r.incident)
        fields.emplace_back("GUARDIAN_INCIDENT_TEXT", r.incident->message);
    return fields;
}

} // namespace guardian

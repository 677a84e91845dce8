// The journal adapter of the boot report: reads systemd-fsck's lines of this
// boot and the previous boot's incident entries through `journalctl
// --output=json` (spawned with the hook runner), not libsystemd: the static
// guest build has no libsystemd, and the guest's own journalctl reads its
// own journal format, whatever systemd version wrote it. Only options that
// journalctl has had since systemd 215 (Debian 8) are used. A guest without
// journalctl (no systemd) has no journal to read: opening says so.
#pragma once

#include "guardian/core/boot_report.hpp"
#include "guardian/util/result.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::boot {

class JournalReader {
public:
    // The local system journal (what `journalctl --system` reads as root).
    [[nodiscard]] static Result<JournalReader> open_system();
    // Journal files in one directory (tests, or a copied journal).
    [[nodiscard]] static Result<JournalReader> open_directory(const std::string& dir);

    // MESSAGE lines of systemd-fsck-root.service and every systemd-fsck@
    // unit logged in boot `boot_id` (32 hex digits), oldest first, at most
    // `limit`.
    [[nodiscard]] Result<std::vector<JournalLine>> fsck_lines(std::string_view boot_id,
                                                              std::size_t limit = 2000);

    // The boot before `boot_id` in the journal's list of boots (ordered by
    // their first entries). When `boot_id` has no entries yet, the newest
    // boot there is. Empty when the journal holds no earlier boot.
    [[nodiscard]] Result<std::string> previous_boot(std::string_view boot_id);

    // The realtime (us) of the last entry of boot `boot_id`; 0 when it has none.
    [[nodiscard]] Result<std::int64_t> last_entry_realtime_us(std::string_view boot_id);

    // Entries of boot `boot_id` with one of `message_ids`, oldest first, at
    // most `limit`.
    [[nodiscard]] Result<std::vector<JournalLine>>
    entries_with_ids(std::string_view boot_id, const std::vector<std::string_view>& message_ids,
                     std::size_t limit = 200);

    // The last `limit` kernel-transport entries of boot `boot_id` as
    // journalctl's JSON lines (core/trouble_sources' reader decodes them;
    // SYSLOG_FACILITY tells the kernel's own lines from a process's write to
    // /dev/kmsg).
    [[nodiscard]] Result<std::vector<std::string>> kernel_json_lines(std::string_view boot_id,
                                                                     std::size_t limit = 4000);

private:
    JournalReader(std::string journalctl, std::string source)
        : m_journalctl(std::move(journalctl)), m_source(std::move(source)) {}
    // journalctl's stdout for `args` (after the source option), checked.
    [[nodiscard]] Result<std::string> run(const std::vector<std::string>& args) const;
    // Entries as JSON lines, oldest first, at most `limit`.
    [[nodiscard]] Result<std::vector<JournalLine>> entries(std::vector<std::string> matches,
                                                           std::size_t limit) const;

    std::string m_journalctl;
    std::string m_source;                            // "--system" or "--directory=DIR"
    std::optional<std::vector<std::string>> m_boots; // --list-boots, read once
};

// One line of `journalctl --output=json` as a JournalLine; nullopt when the
// line is not a JSON object (journalctl's own notes in the same stream).
// Binary values (JSON arrays of byte values) are decoded. Pure; for tests.
[[nodiscard]] std::optional<JournalLine> parse_json_entry(std::string_view line);

// The boot ids of `journalctl --list-boots` output, oldest first (its text
// format differs between systemd versions; the id is the 32-hex-digit word).
[[nodiscard]] std::vector<std::string> parse_boot_list(std::string_view text);

} // namespace guardian::boot

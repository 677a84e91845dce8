// The sd-journal adapter of the boot report: reads systemd-fsck's lines of
// this boot and the previous boot's incident entries. sd_journal lives in an
// RAII owner; its negative-errno returns never leave journal_reader.cpp.
#pragma once

#include "guardian/core/boot_report.hpp"
#include "guardian/util/result.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct sd_journal;

namespace guardian::boot {

class JournalReader {
public:
    // The local system journal (what journalctl -b reads as root).
    [[nodiscard]] static Result<JournalReader> open_system();
    // Journal files in one directory (tests, or a copied journal).
    [[nodiscard]] static Result<JournalReader> open_directory(const std::string& dir);

    // MESSAGE lines of systemd-fsck-root.service and every systemd-fsck@
    // unit logged in boot `boot_id` (32 hex digits), oldest first, at most
    // `limit`.
    [[nodiscard]] Result<std::vector<JournalLine>> fsck_lines(std::string_view boot_id,
                                                              std::size_t limit = 2000);

    // The boot before `boot_id`: the boot of the newest entry older than
    // this boot's first one. Empty when the journal holds no earlier boot.
    [[nodiscard]] Result<std::string> previous_boot(std::string_view boot_id);

    // The realtime (us) of the last entry of boot `boot_id`; 0 when it has none.
    [[nodiscard]] Result<std::int64_t> last_entry_realtime_us(std::string_view boot_id);

    // Entries of boot `boot_id` with one of `message_ids`, oldest first, at
    // most `limit`.
    [[nodiscard]] Result<std::vector<JournalLine>>
    entries_with_ids(std::string_view boot_id, const std::vector<std::string_view>& message_ids,
                     std::size_t limit = 200);

private:
    struct Closer {
        void operator()(sd_journal* j) const noexcept;
    };
    explicit JournalReader(sd_journal* j) : m_j(j) {}
    std::unique_ptr<sd_journal, Closer> m_j;
};

} // namespace guardian::boot

// The boot history file, /var/lib/guardian/boot-history (the model and its
// checksummed one-line-per-record codec: core/boot_history.hpp). Crash-safe
// by construction: a snapshot is one line appended with O_APPEND and made
// durable with fsync before the call returns; a power cut mid-append leaves
// at worst a last line that fails its checksum, which the decoder drops (the
// boot's previous snapshot stands). A file with such a line, or with many
// superseded snapshots, is rewritten whole - to a temporary file, fsync'd,
// renamed over the old one, the directory fsync'd - before the next append,
// so a new record is never glued onto a torn one. Bounded: the newest
// k_boot_history_kept boots.
#pragma once

#include "guardian/core/boot_history.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <string>
#include <vector>

namespace guardian::boot {

// The file as it is now; an absent file is an empty history.
[[nodiscard]] Result<DecodedHistory> read_boot_history(const std::string& path);

class BootHistoryFile {
public:
    explicit BootHistoryFile(std::string path) : m_path(std::move(path)) {}
    [[nodiscard]] static BootHistoryFile under(const SystemRoot& root) {
        return BootHistoryFile(root.path(k_boot_history_path));
    }

    // Reads the file; the boots are kept for upserts and compaction.
    [[nodiscard]] Result<DecodedHistory> load();
    // One snapshot of one boot, durable on return (compacts first when due).
    [[nodiscard]] Status save(const BootEntry& e);
    // Rewrites the whole file from the boots held (write-temp + rename).
    [[nodiscard]] Status compact();

    [[nodiscard]] const std::vector<BootEntry>& boots() const noexcept { return m_boots; }
    [[nodiscard]] const std::string& path() const noexcept { return m_path; }
    // Writes made (appends and rewrites): for the cost figures and tests.
    [[nodiscard]] std::size_t writes() const noexcept { return m_writes; }

private:
    std::string m_path;
    std::vector<BootEntry> m_boots;
    std::size_t m_records = 0; // lines in the file, superseded ones included
    bool m_dirty = false;      // a torn or rejected line: rewrite before appending
    std::size_t m_writes = 0;
};

} // namespace guardian::boot

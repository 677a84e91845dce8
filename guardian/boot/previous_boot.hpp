// What the previous boot left about its end, gathered at guardiand's start
// (docs/kernel-trouble.md "The previous boot's trouble"): pstore dmesg dumps
// (/sys/fs/pstore, /var/lib/systemd/pstore, both under the system root)
// written since that boot began, its kernel lines in the persistent journal
// (journalctl, spawned), and guardian's own boot record. Each source is run
// through the same trouble assembler as the live kernel log, so an oops has
// one signature whether it was seen live, in pstore or in the journal. The
// sources are not mixed: their timestamps are each boot's own monotonic
// clock, so the first source with trouble decides (pstore, then journal,
// then guardian's record).
#pragma once

#include "guardian/core/boot_history.hpp"
#include "guardian/core/risk_table.hpp"
#include "guardian/util/paths.hpp"

#include <string>
#include <vector>

namespace guardian::boot {

struct PreviousBootOptions {
    SystemRoot root;
    const RiskTable* table = nullptr; // known bugs to name; null: none
    bool journal = true;              // run journalctl (off in tests without a journal)
    std::string journal_dir;          // journal files to read instead of the system's
};

struct PreviousBootEvidence {
    EndEvidence evidence;
    std::string source;             // "pstore", "journal", "guardian", or "" (nothing)
    std::vector<std::string> notes; // what could not be read, one line each
};

// `previous`: the boot as guardian's history has it (its id, its start, the
// trouble it recorded while alive).
[[nodiscard]] PreviousBootEvidence gather_previous_boot(const BootEntry& previous,
                                                        const PreviousBootOptions& options);

} // namespace guardian::boot

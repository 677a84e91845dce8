// Turning suspects into findings. A live (mounted, journaled) filesystem's
// on-disk image is not one consistent snapshot: a block whose newest version
// is committed in the journal but not yet checkpointed can be stale at its
// home location, and a block can change between two reads. So, as jbd2
// recovery would see it:
//  - a mismatch in a block that has a committed newer version in the log, or
//    one reached only through such a block (its inode, its parent extent
//    block), is not damage: it is counted in not_verified instead. The log is
//    walked again after the reads, from the first walk's start, and the sets
//    are united, so transactions committed during the scan count too;
//  - live mode re-reads every remaining suspect (and what referenced it) with
//    O_DIRECT twice, 75 ms apart, walking the log again each time, and reports
//    it only if the bytes are unchanged: real damage persists, a race does not.
// Stable mode (unmounted or frozen: nothing writes) applies only the first
// rule; a frozen filesystem's log is empty, an unclean image's log is what
// recovery would replay.
#pragma once

#include "guardian/ext4/jbd2.hpp"
#include "guardian/ext4/scan_context.hpp"

namespace guardian::ext4 {

class Confirmer {
public:
    Confirmer(ScanContext& ctx, CheckMode mode, Journal* journal, const JournalSuperblock& jsb,
              const LogScan& first)
        : m_ctx(ctx), m_mode(mode), m_journal(journal), m_jsb(jsb), m_first(first) {}

    [[nodiscard]] Status run(CheckReport& report);

private:
    [[nodiscard]] Status rewalk();
    [[nodiscard]] bool pending(const Suspect& s) const;
    [[nodiscard]] Result<bool> unchanged(const Suspect& s);

    ScanContext& m_ctx;
    CheckMode m_mode;
    Journal* m_journal;
    const JournalSuperblock& m_jsb;
    const LogScan& m_first;
    std::unordered_set<std::uint64_t> m_pending;
    std::vector<JournalFinding> m_last_journal_findings;
};

} // namespace guardian::ext4

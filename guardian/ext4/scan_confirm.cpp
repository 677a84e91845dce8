#include "guardian/ext4/scan_confirm.hpp"

#include <chrono>
#include <thread>

namespace guardian::ext4 {
namespace {

constexpr int k_confirm_rounds = 2;
constexpr std::chrono::milliseconds k_confirm_delay{75};

} // namespace

Status Confirmer::rewalk() {
    if (!m_journal || m_jsb.start == 0)
        return ok_status();
    GUARDIAN_TRY_ASSIGN(LogScan again, m_journal->walk(m_jsb, m_jsb.start, m_jsb.sequence, false));
    m_pending.insert(again.pending_home.begin(), again.pending_home.end());
    // A bad block at the log's start only means damage while the journal
    // superblock still names it: the kernel may have moved the tail since the
    // first read and reused that space. The superblock is read *after* the
    // log: jbd2 writes a new s_start (FUA) before it reuses log space, and
    // (start, sequence) never repeats, so an unchanged superblock now proves
    // it was unchanged when the block was read.
    std::vector<Finding> ignored;
    GUARDIAN_TRY_ASSIGN(const JournalSuperblock now, m_journal->read_superblock(ignored));
    if (now.start != m_jsb.start || now.sequence != m_jsb.sequence)
        std::erase_if(again.findings, [](const JournalFinding& f) { return f.log_start; });
    m_last_journal_findings = std::move(again.findings);
    return ok_status();
}

bool Confirmer::pending(const Suspect& s) const {
    if (s.journal)
        return false;
    return m_pending.count(s.at.block) || (s.via && m_pending.count(s.via->block));
}

Result<bool> Confirmer::unchanged(const Suspect& s) {
    if (s.journal) {
        for (const auto& f : m_last_journal_findings)
            if (f.block == s.at.block && f.finding.detail == s.finding.detail)
                return true;
        return false;
    }
    std::vector<std::uint64_t> blocks{s.at.block};
    if (s.via)
        blocks.push_back(s.via->block);
    GUARDIAN_TRY_ASSIGN(auto batch, m_ctx.reader->read(blocks));
    auto same = [&](const Span& sp) {
        const Bytes d = batch->data(sp.block);
        if (sp.offset + std::size_t{sp.size} > d.size())
            return false;
        return block_hash(sp.size == 0 ? d.subspan(sp.offset) : d.subspan(sp.offset, sp.size)) ==
               sp.hash;
    };
    return same(s.at) && (!s.via || same(*s.via));
}

Status Confirmer::run(CheckReport& report) {
    m_pending = m_first.pending_home;
    for (const auto& f : m_first.findings) {
        Suspect s;
        s.finding = f.finding;
        s.at.block = f.block;
        s.journal = true;
        m_ctx.suspects.push_back(std::move(s));
    }
    const bool live = m_mode == CheckMode::live;
    if (live)
        GUARDIAN_TRY(rewalk());
    std::uint64_t in_journal = 0;
    std::uint64_t changed = 0;
    std::vector<Suspect> left;
    for (auto& s : m_ctx.suspects) {
        if (pending(s))
            ++in_journal;
        else
            left.push_back(std::move(s));
    }
    for (int round = 0; live && round < k_confirm_rounds && !left.empty(); ++round) {
        std::this_thread::sleep_for(k_confirm_delay);
        GUARDIAN_TRY(rewalk());
        std::vector<Suspect> still;
        for (auto& s : left) {
            if (pending(s)) {
                ++in_journal;
                continue;
            }
            GUARDIAN_TRY_ASSIGN(const bool same, unchanged(s));
            if (same)
                still.push_back(std::move(s));
            else
                ++changed;
        }
        left.swap(still);
    }
    for (auto& s : left)
        report.findings.push_back(std::move(s.finding));
    m_ctx.suspects.clear();
    if (in_journal > 0)
        report.not_verified.push_back(
            std::to_string(in_journal) +
            " object(s) with a newer version committed in the journal but not yet written home: "
            "home copy not verified");
    if (changed > 0)
        report.not_verified.push_back(std::to_string(changed) +
                                      " object(s) changed while being checked (concurrent "
                                      "writes): not verified");
    return ok_status();
}

} // namespace guardian::ext4

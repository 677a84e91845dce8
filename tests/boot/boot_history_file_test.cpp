// The boot history file (boot/boot_history_file.*) on a real file system: a
// power cut at any byte of an append never yields a wrong record, and the
// next save after one leaves a file whose every record is right; the
// previous boot's evidence from pstore files (boot/previous_boot.*).
#include "guardian/boot/boot_history_file.hpp"
#include "guardian/boot/previous_boot.hpp"
#include "guardian/util/fd.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace guardian::boot {
namespace {

namespace fs = std::filesystem;

class TempDir {
public:
    TempDir() {
        std::string t = (fs::temp_directory_path() / "guardian-boots-XXXXXX").string();
        if (::mkdtemp(t.data()) == nullptr)
            throw std::runtime_error("mkdtemp");
        m_path = t;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    [[nodiscard]] const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

BootEntry boot(int i, BootEnd end = BootEnd::running) {
    BootEntry e;
    e.boot_id = std::string(30, '0') + std::to_string(10 + i);
    e.kernel_release = "6.1.0-26-amd64";
    e.kernel_version = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)";
    e.distribution = "Debian GNU/Linux 12 (bookworm)";
    e.start_us = 1'700'000'000'000'000 + i * 1'000'000'000LL;
    e.last_alive_us = e.start_us + 600'000'000;
    e.uptime_us = 600'000'000;
    e.end = end;
    return e;
}

TEST(BootHistoryFile, AbsentFileIsEmptyAndFirstSaveCreatesIt) {
    TempDir dir;
    BootHistoryFile f(dir.path() + "/sub/boot-history");
    auto h = f.load();
    ASSERT_TRUE(h.ok()) << h.error().message;
    EXPECT_TRUE(h->boots.empty());
    ASSERT_TRUE(f.save(boot(1)).ok());
    auto again = read_boot_history(f.path());
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->boots.size(), 1u);
    EXPECT_EQ(again->boots[0], boot(1));
}

// Every byte count of the last append that a power cut could leave (the
// appended line cut anywhere, or its tail zero-filled where the size grew
// before the data landed): the file reads as the state before the append
// or after it, never anything else; the next save repairs the file first.
TEST(BootHistoryFile, APowerCutAtEveryOffsetOfAnAppendNeverYieldsAWrongRecord) {
    TempDir dir;
    const std::string path = dir.path() + "/boot-history";
    BootHistoryFile f(path);
    ASSERT_TRUE(f.load().ok());
    ASSERT_TRUE(f.save(boot(1, BootEnd::orderly)).ok());
    ASSERT_TRUE(f.save(boot(2)).ok());
    const std::string before = slurp(path);
    BootEntry beat = boot(2);
    beat.last_alive_us += 600'000'000;
    beat.uptime_us += 600'000'000;
    beat.trouble_kind = "rcu_stall";
    beat.trouble_signature = "e9365ca189a16277";
    ASSERT_TRUE(f.save(beat).ok());
    const std::string after = slurp(path);
    ASSERT_GT(after.size(), before.size());
    ASSERT_EQ(after.substr(0, before.size()), before) << "an append, not a rewrite";

    const std::vector<BootEntry> old_state{boot(1, BootEnd::orderly), boot(2)};
    const std::vector<BootEntry> new_state{boot(1, BootEnd::orderly), beat};
    for (std::size_t cut = before.size(); cut <= after.size(); ++cut) {
        for (bool zeros : {false, true}) {
            std::string torn = after.substr(0, cut);
            if (zeros)
                torn.resize(after.size(), '\0');
            spit(path, torn);
            BootHistoryFile g(path);
            auto h = g.load();
            ASSERT_TRUE(h.ok());
            const bool complete = cut == after.size(); // with or without zeros: whole
            EXPECT_EQ(h->boots, complete ? new_state : old_state) << "cut at " << cut;
            // The next snapshot lands intact, with everything before it.
            BootEntry next = boot(3);
            ASSERT_TRUE(g.save(next).ok());
            auto reread = read_boot_history(path);
            ASSERT_TRUE(reread.ok());
            EXPECT_EQ(reread->rejected, 0u) << "cut at " << cut;
            EXPECT_FALSE(reread->torn_tail) << "cut at " << cut;
            auto expected = complete ? new_state : old_state;
            expected.push_back(next);
            EXPECT_EQ(reread->boots, expected) << "cut at " << cut;
        }
    }
}

TEST(BootHistoryFile, BoundedAndCompactedWhileHeartbeatsPileUp) {
    TempDir dir;
    const std::string path = dir.path() + "/boot-history";
    BootHistoryFile f(path);
    ASSERT_TRUE(f.load().ok());
    for (int i = 0; i < 300; ++i)
        ASSERT_TRUE(f.save(boot(i)).ok());
    BootEntry last = boot(299);
    for (int beat = 0; beat < 1000; ++beat) {
        last.last_alive_us += 600'000'000;
        ASSERT_TRUE(f.save(last).ok());
    }
    auto h = read_boot_history(path);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->boots.size(), k_boot_history_kept);
    EXPECT_EQ(h->boots.front(), boot(300 - static_cast<int>(k_boot_history_kept)));
    EXPECT_EQ(h->boots.back(), last);
    // Superseded snapshots are compacted away: a bounded file.
    EXPECT_LE(h->records, 2 * k_boot_history_kept + 64);
    EXPECT_LT(slurp(path).size(), 400u * 1024);
}

TEST(PreviousBoot, PstoreDumpAttributesAPanicAndNoEvidenceIsNoTrace) {
    TempDir dir;
    const SystemRoot root(dir.path());
    fs::create_directories(dir.path() + "/sys/fs/pstore");
    BootEntry prev = boot(1);
    prev.start_us = 0; // every dump is newer
    PreviousBootOptions o;
    o.root = root;
    o.journal = false;
    auto none = gather_previous_boot(prev, o);
    EXPECT_EQ(none.source, "");
    EXPECT_TRUE(none.evidence.trouble.empty());
    EXPECT_EQ(attribute_end(prev, none.evidence).end, BootEnd::no_trace);

    spit(dir.path() + "/sys/fs/pstore/dmesg-efi-170000000001001",
         "Panic#1 Part1\n"
         "<4>[  100.000001] sysrq: Trigger a crash\n"
         "<0>[  100.000002] Kernel panic - not syncing: sysrq triggered crash\n"
         "<4>[  100.000003] CPU: 0 PID: 1 Comm: bash Not tainted 6.1.0-26-amd64 #1 Debian "
         "6.1.112-1\n"
         "<4>[  100.000004] Call Trace:\n"
         "<4>[  100.000005]  <TASK>\n"
         "<4>[  100.000006]  dump_stack_lvl+0x44/0x5c\n"
         "<4>[  100.000007]  panic+0x118/0x2ed\n"
         "<4>[  100.000008]  sysrq_handle_crash+0x16/0x20\n"
         "<4>[  100.000009]  __handle_sysrq.cold+0x43/0x11b\n"
         "<4>[  100.000010]  write_sysrq_trigger+0x24/0x40\n"
         "<4>[  100.000011]  </TASK>\n");
    auto found = gather_previous_boot(prev, o);
    EXPECT_EQ(found.source, "pstore");
    ASSERT_FALSE(found.evidence.trouble.empty());
    const auto a = attribute_end(prev, found.evidence);
    EXPECT_EQ(a.end, BootEnd::panic);
    ASSERT_TRUE(a.trouble);
    EXPECT_EQ(a.trouble->kind, "panic");

    // A boot that recorded its own end is not searched.
    auto orderly = gather_previous_boot(boot(1, BootEnd::orderly), o);
    EXPECT_TRUE(orderly.evidence.orderly_shutdown);
    EXPECT_EQ(orderly.source, "");
}

TEST(PreviousBoot, GuardiansOwnRecordWhenNothingElseIsLeft) {
    TempDir dir;
    PreviousBootOptions o;
    o.root = SystemRoot(dir.path());
    o.journal = false;
    BootEntry prev = boot(1);
    prev.trouble_kind = "soft_lockup";
    prev.trouble_signature = "0123456789abcdef";
    prev.trouble_function = "xas_descend";
    auto found = gather_previous_boot(prev, o);
    EXPECT_EQ(found.source, "guardian");
    const auto a = attribute_end(prev, found.evidence);
    EXPECT_EQ(a.end, BootEnd::watchdog);
    ASSERT_TRUE(a.trouble);
    EXPECT_EQ(a.trouble->signature, "0123456789abcdef");
}

} // namespace
} // namespace guardian::boot

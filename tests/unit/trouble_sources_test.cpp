// The previous boot's kernel log as pstore and the journal keep it, read back
// into records the trouble assembler takes; the conditions known bugs need.
#include "guardian/core/kernel_trouble.hpp"
#include "guardian/core/trouble_sources.hpp"
#include "tests/unit/kmsg_corpus.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

TEST(TroubleSources, PstoreDumpOfAPanicReassembles) {
    // A ramoops/efi dmesg record: kmsg_dump's header, then syslog(2) lines
    // (the netfront oops of tests/unit/data/kmsg/, as the dump would hold it).
    std::string dump = "Panic#2 Part1\n";
    for (const auto& l : read_lines("linux-4.x-netfront-null-sring-cve-2022-48969.log"))
        dump += l + "\n";
    dump += "<0>Kernel panic - not syncing: Fatal exception in interrupt\n";
    const auto d = parse_pstore_dmesg(dump);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->reason, "Panic");
    EXPECT_EQ(d->count, 2u);
    EXPECT_EQ(d->part, 1u);
    ASSERT_EQ(d->records.size(), 32u);
    TroubleAssembler a;
    std::vector<TroubleEvent> events;
    for (const auto& r : d->records)
        for (auto& e : a.feed(r))
            events.push_back(std::move(e));
    for (auto& e : a.flush())
        events.push_back(std::move(e));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].function, "xennet_poll");
    EXPECT_EQ(events[1].kind, TroubleKind::panic);
    EXPECT_NE(events[1].signature_text.find("Fatal exception in interrupt"), std::string::npos);

    EXPECT_FALSE(parse_pstore_dmesg("<4>[ 1.0] no header\n"));
    EXPECT_FALSE(parse_pstore_dmesg("Bogus#1 Part1\n"));
    // A part that starts inside a line skips the fragment.
    const auto cut = parse_pstore_dmesg("Oops#1 Part3\n0000 ffff\n<4>[ 2.5] Call Trace:\n");
    ASSERT_TRUE(cut);
    EXPECT_EQ(cut->part, 3u);
    ASSERT_EQ(cut->records.size(), 1u);
    EXPECT_EQ(cut->records[0].timestamp_us, 2500000u);
}

TEST(TroubleSources, JournalKernelEntries) {
    const auto k = kmsg_record_from_journal_json(
        R"({"__REALTIME_TIMESTAMP":"1718500000000000","__MONOTONIC_TIMESTAMP":"331277900000",)"
        R"("_SOURCE_MONOTONIC_TIMESTAMP":"331277846966","_TRANSPORT":"kernel","PRIORITY":"3",)"
        R"("SYSLOG_FACILITY":"0","_KERNEL_SEQNUM":"812345",)"
        R"("MESSAGE":"rcu: INFO: rcu_preempt self-detected stall on CPU"})");
    ASSERT_TRUE(k);
    EXPECT_EQ(k->facility, 0);
    EXPECT_EQ(k->priority, 3);
    EXPECT_EQ(k->timestamp_us, 331277846966u);
    EXPECT_EQ(k->sequence, 812345u);
    EXPECT_EQ(classify_trouble_head(k->message)->kind, TroubleKind::rcu_stall);
    // A user-space line written to /dev/kmsg keeps its facility (1): no trouble.
    const auto forged = kmsg_record_from_journal_json(
        R"({"_TRANSPORT":"kernel","PRIORITY":"2","SYSLOG_FACILITY":"1","MESSAGE":"Kernel panic - not syncing: x"})");
    ASSERT_TRUE(forged);
    EXPECT_EQ(forged->facility, 1);
    // Without SYSLOG_FACILITY only the kernel transport counts as kernel.
    EXPECT_EQ(
        kmsg_record_from_journal_json(R"({"_TRANSPORT":"syslog","MESSAGE":"Oops: x"})")->facility,
        1);
    EXPECT_EQ(
        kmsg_record_from_journal_json(R"({"_TRANSPORT":"kernel","MESSAGE":"Oops: x"})")->facility,
        0);
    // journald's byte-array form of a message that is not UTF-8.
    const auto bytes = kmsg_record_from_journal_json(
        R"({"_TRANSPORT":"kernel","MESSAGE":[79,111,112,115,58,32,255]})");
    ASSERT_TRUE(bytes);
    EXPECT_EQ(bytes->message, std::string("Oops: \xff"));
    EXPECT_FALSE(kmsg_record_from_journal_json("not json"));
    EXPECT_FALSE(kmsg_record_from_journal_json(R"({"PRIORITY":"3"})"));
}

TEST(TroubleSources, GuestConditions) {
    std::vector<MountEntry> mounts(3);
    mounts[0].fs_type = "ext4";
    mounts[1].fs_type = "xfs";
    mounts[2].fs_type = "xfs";
    const auto c = guest_conditions(mounts, GuestShape{true, true, false});
    EXPECT_EQ(c, (std::vector<std::string>{"fs:ext4", "fs:xfs", "xen:pv", "xen:blkfront"}));
}

} // namespace
} // namespace guardian

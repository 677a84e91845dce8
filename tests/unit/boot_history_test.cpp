// Boot history: the record codec (torn at every byte offset, corrupted,
// zero-filled), the bound, the attribution of unclean ends, the heartbeat.
#include "guardian/core/boot_history.hpp"

#include <gtest/gtest.h>

namespace guardian {
namespace {

BootEntry boot(std::string id, std::int64_t start) {
    BootEntry e;
    e.boot_id = std::move(id);
    e.kernel_release = "6.1.0-26-amd64";
    e.kernel_version = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)";
    e.distribution = "Debian GNU/Linux 12 (bookworm)";
    e.start_us = start;
    e.last_alive_us = start;
    return e;
}

TEST(BootHistory, RoundTripWithAwkwardText) {
    BootEntry e = boot("0b1f6d1c7e9a4a5f9a3e2b7d1c0f9e8d", 1'700'000'000'000'000);
    e.distribution = "Tab\there, newline\nthere, 100% odd\r\x01";
    e.end = BootEnd::watchdog;
    e.trouble_kind = "rcu_stall";
    e.trouble_signature = "0123456789abcdef";
    e.trouble_function = "xas_descend";
    e.known_bug = "mm-large-folio-pagecache-livelock";
    e.trouble_count = 3;
    e.uptime_us = -1; // nonsense survives too: the codec does not judge
    const std::string line = encode_boot_record(e);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
    const auto h = decode_boot_history(line);
    ASSERT_EQ(h.boots.size(), 1u);
    EXPECT_EQ(h.boots[0], e);
    EXPECT_EQ(h.records, 1u);
    EXPECT_FALSE(h.torn_tail);
}

TEST(BootHistory, LaterSnapshotReplacesEarlier) {
    BootEntry a = boot("a", 100);
    BootEntry b = boot("b", 200);
    std::string file = encode_boot_record(a) + encode_boot_record(b);
    a.end = BootEnd::orderly;
    file += encode_boot_record(a);
    const auto h = decode_boot_history(file);
    ASSERT_EQ(h.boots.size(), 2u);
    EXPECT_EQ(h.boots[0].boot_id, "a");
    EXPECT_EQ(h.boots[0].end, BootEnd::orderly);
    EXPECT_EQ(h.records, 3u);
}

// Every prefix of a file (a power cut during any append) decodes to the
// state after some number of whole records: never a wrong record.
TEST(BootHistory, TornAtEveryByteOffset) {
    std::vector<std::string> records;
    std::vector<std::vector<BootEntry>> states; // after each whole record
    std::vector<BootEntry> boots;
    BootEntry cur = boot("5d41402abc4b2a76b9719d911017c592", 1'700'000'000'000'000);
    for (int i = 0; i < 6; ++i) {
        if (i == 3)
            cur = boot("7d793037a0760186574b0282f2f435e7", 1'700'000'100'000'000);
        cur.last_alive_us += 600'000'000;
        cur.uptime_us += 600'000'000;
        cur.trouble_count = static_cast<std::uint32_t>(i);
        records.push_back(encode_boot_record(cur));
        upsert_boot(boots, cur);
        states.push_back(boots);
    }
    std::string file;
    std::vector<std::size_t> ends;
    for (const auto& r : records) {
        file += r;
        ends.push_back(file.size());
    }
    for (std::size_t cut = 0; cut <= file.size(); ++cut) {
        const auto h = decode_boot_history(std::string_view(file).substr(0, cut));
        const std::size_t whole = static_cast<std::size_t>(
            std::upper_bound(ends.begin(), ends.end(), cut) - ends.begin());
        EXPECT_EQ(h.records, whole) << cut;
        EXPECT_EQ(h.rejected, 0u) << cut;
        EXPECT_EQ(h.torn_tail, whole == 0 ? cut > 0 : cut > ends[whole - 1]) << cut;
        if (whole == 0)
            EXPECT_TRUE(h.boots.empty()) << cut;
        else
            EXPECT_EQ(h.boots, states[whole - 1]) << cut;
        // A torn file is compacted (rewritten whole) before the next append.
        EXPECT_EQ(boot_history_needs_compaction(h), h.torn_tail) << cut;
    }
}

TEST(BootHistory, CorruptionAndZeroFillAreRejectedNotMisread) {
    const BootEntry a = boot("a", 100);
    BootEntry b = boot("b", 200);
    const std::string good = encode_boot_record(a);
    std::string file = good + encode_boot_record(b);
    // Every single-byte change of the second record is caught.
    for (std::size_t i = good.size(); i + 1 < file.size(); ++i) {
        std::string bad = file;
        bad[i] = static_cast<char>(bad[i] ^ 0x04);
        if (bad[i] == '\n')
            continue;
        const auto h = decode_boot_history(bad);
        ASSERT_EQ(h.boots.size(), 1u) << i;
        EXPECT_EQ(h.boots[0], a) << i;
        EXPECT_EQ(h.rejected, 1u) << i;
    }
    // ext4 can extend the size before the data lands: NULs after a cut.
    const auto h = decode_boot_history(good + std::string(4096, '\0') + "\n");
    ASSERT_EQ(h.boots.size(), 1u);
    EXPECT_EQ(h.rejected, 1u);
    EXPECT_TRUE(boot_history_needs_compaction(h));
}

TEST(BootHistory, KeepsTheNewest256) {
    std::vector<BootEntry> boots;
    std::string appended;
    for (int i = 0; i < 300; ++i) {
        boots.push_back(boot("boot-" + std::to_string(i), i));
        appended += encode_boot_record(boots.back());
    }
    const auto h = decode_boot_history(appended);
    ASSERT_EQ(h.boots.size(), 256u);
    EXPECT_EQ(h.boots.front().boot_id, "boot-44");
    EXPECT_EQ(h.boots.back().boot_id, "boot-299");
    const auto compacted = decode_boot_history(encode_boot_history(boots));
    EXPECT_EQ(compacted.boots, h.boots);
    EXPECT_EQ(compacted.records, 256u);
    EXPECT_FALSE(boot_history_needs_compaction(compacted));
    // Superseded snapshots pile up until compaction is due.
    std::string heartbeats = encode_boot_history(h.boots);
    BootEntry cur = h.boots.back();
    for (int i = 0; i < 600; ++i) {
        cur.last_alive_us += 1;
        heartbeats += encode_boot_record(cur);
    }
    EXPECT_TRUE(boot_history_needs_compaction(decode_boot_history(heartbeats)));
}

TroubleSeen seen(std::string kind, std::int64_t at, std::string function = "") {
    return TroubleSeen{std::move(kind), "sig-" + std::to_string(at), std::move(function), "", at};
}

TEST(BootHistory, AttributionOfUncleanEnds) {
    const BootEntry prev = boot("p", 0);
    EndEvidence none;
    auto a = attribute_end(prev, none);
    EXPECT_EQ(a.end, BootEnd::no_trace);
    EXPECT_FALSE(a.trouble);

    EndEvidence orderly;
    orderly.orderly_shutdown = true;
    orderly.trouble = {seen("oops", 5)};
    EXPECT_EQ(attribute_end(prev, orderly).end, BootEnd::orderly);

    EndEvidence emergency;
    emergency.emergency_reboot = true;
    EXPECT_EQ(attribute_end(prev, emergency).end, BootEnd::emergency_reboot);

    // The livelock: stalls, then nothing; the watchdog reset the VM.
    EndEvidence stalls;
    stalls.trouble = {seen("hung_task", 10), seen("rcu_stall", 20, "xas_load"),
                      seen("rcu_stall", 30, "xas_descend"), seen("warning", 25)};
    a = attribute_end(prev, stalls);
    EXPECT_EQ(a.end, BootEnd::watchdog);
    ASSERT_TRUE(a.trouble);
    EXPECT_EQ(a.trouble->function, "xas_descend"); // the last one, whatever order they came in
    EXPECT_EQ(a.trouble->at_us, 30);

    // An oops, then "Kernel panic - not syncing: Fatal exception": a panic
    // end, attributed to the oops.
    EndEvidence panic;
    panic.trouble = {seen("oops", 1'000'000, "xennet_poll"), seen("panic", 1'000'500)};
    a = attribute_end(prev, panic);
    EXPECT_EQ(a.end, BootEnd::panic);
    EXPECT_EQ(a.trouble->function, "xennet_poll");
    // A panic with nothing fatal in the minute before it stands for itself.
    panic.trouble = {seen("oops", 0, "old"), seen("panic", 120'000'000)};
    a = attribute_end(prev, panic);
    EXPECT_EQ(a.trouble->kind, "panic");

    EndEvidence crash;
    crash.trouble = {seen("kernel_bug", 7, "blkif_queue_rq")};
    EXPECT_EQ(attribute_end(prev, crash).end, BootEnd::crash);

    // Only harmless trouble: the end is still unexplained, the trouble kept.
    EndEvidence mild;
    mild.trouble = {seen("warning", 3)};
    a = attribute_end(prev, mild);
    EXPECT_EQ(a.end, BootEnd::no_trace);
    EXPECT_EQ(a.trouble->kind, "warning");
    mild.host_destroyed = true;
    EXPECT_EQ(attribute_end(prev, mild).end, BootEnd::destroyed);

    // An end the boot recorded itself stands.
    BootEntry recorded = prev;
    recorded.end = BootEnd::orderly;
    EXPECT_EQ(attribute_end(recorded, stalls).end, BootEnd::orderly);

    const auto attributed = with_attribution(prev, attribute_end(prev, crash));
    EXPECT_EQ(attributed.end, BootEnd::crash);
    EXPECT_EQ(attributed.trouble_function, "blkif_queue_rq");
    EXPECT_TRUE(unclean(attributed.end));
    EXPECT_FALSE(unclean(BootEnd::emergency_reboot));
}

// Incident 2's question, from one guest's history: which release ends its
// boots uncleanly, how often per hour of uptime, and after what.
TEST(BootHistory, PerKernelRelease) {
    std::vector<BootEntry> boots;
    auto add = [&](const char* release, BootEnd end, std::int64_t hours, const char* sig = "",
                   const char* bug = "") {
        BootEntry e = boot("b" + std::to_string(boots.size()), 0);
        e.kernel_release = release;
        e.end = end;
        e.uptime_us = hours * 3'600'000'000LL;
        e.trouble_signature = sig;
        e.known_bug = bug;
        boots.push_back(e);
    };
    add("5.15.0-1-amd64", BootEnd::orderly, 500);
    add("5.15.0-1-amd64", BootEnd::orderly, 500);
    add("6.1.0-26-amd64", BootEnd::watchdog, 200, "aaaa", "mm-large-folio-pagecache-livelock");
    add("6.1.0-26-amd64", BootEnd::orderly, 100);
    add("6.1.0-26-amd64", BootEnd::watchdog, 150, "aaaa", "mm-large-folio-pagecache-livelock");
    add("6.1.0-26-amd64", BootEnd::no_trace, 50);
    add("6.1.0-26-amd64", BootEnd::running, 0);
    const auto s = summarize_by_release(boots);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].release, "6.1.0-26-amd64"); // the newest boot's release first
    EXPECT_EQ(s[0].boots, 5u);
    EXPECT_EQ(s[0].unclean, 3u);
    EXPECT_EQ(s[0].by_end[static_cast<std::size_t>(BootEnd::watchdog)], 2u);
    ASSERT_EQ(s[0].signatures.size(), 1u);
    EXPECT_EQ(s[0].signatures[0], (std::pair<std::string, std::size_t>{"aaaa", 2}));
    EXPECT_EQ(s[0].known_bugs, std::vector<std::string>{"mm-large-folio-pagecache-livelock"});
    EXPECT_DOUBLE_EQ(*unclean_per_1000_hours(s[0]), 3 * 1000.0 / 500);
    EXPECT_EQ(s[1].unclean, 0u);
    EXPECT_DOUBLE_EQ(*unclean_per_1000_hours(s[1]), 0.0);
    EXPECT_FALSE(unclean_per_1000_hours(ReleaseSummary{}));
}

TEST(BootHistory, DescribeEnd) {
    BootEntry e = boot("x", 0);
    e.end = BootEnd::orderly;
    EXPECT_EQ(describe_end(e), "orderly");
    e.end = BootEnd::no_trace;
    EXPECT_EQ(describe_end(e), "unclean (no-trace)");
    e.end = BootEnd::watchdog;
    e.trouble_kind = "rcu_stall";
    e.trouble_function = "xas_descend";
    e.trouble_signature = "0123456789abcdef";
    e.known_bug = "mm-large-folio-pagecache-livelock";
    EXPECT_EQ(describe_end(e), "unclean (watchdog) after rcu_stall in xas_descend (signature "
                               "0123456789abcdef; known bug mm-large-folio-pagecache-livelock)");
}

TEST(BootHistory, HeartbeatRule) {
    constexpr std::int64_t min = 60'000'000;
    EXPECT_TRUE(heartbeat_due(10 * min, 0, 10 * min, false, false));
    EXPECT_FALSE(heartbeat_due(10 * min - 1, 0, 10 * min, false, false));
    EXPECT_FALSE(heartbeat_due(60 * min, 0, 10 * min, true, false)); // frozen
    EXPECT_FALSE(heartbeat_due(60 * min, 0, 10 * min, false, true)); // critical verdict
    EXPECT_FALSE(heartbeat_due(60 * min, 0, 0, false, false));       // disabled
}

TEST(BootHistory, EndNames) {
    for (int i = 0; i <= static_cast<int>(BootEnd::no_trace); ++i) {
        const auto e = static_cast<BootEnd>(i);
        EXPECT_EQ(boot_end_from_string(to_string(e)), e);
    }
    EXPECT_FALSE(boot_end_from_string("exploded"));
}

// The last report of the recorded kind and function takes guardiand's own
// signature (the crash cut the other copy short); an earlier one of the same
// kind, another function, or no record at all leave `seen` as it is.
TEST(BootHistory, CompleteFromOwnRecord) {
    BootEntry prev;
    std::vector<TroubleSeen> seen{{"oops", "1111111111111111", "f", "", 1},
                                  {"warning", "2222222222222222", "g", "", 2},
                                  {"oops", "3333333333333333", "f", "", 3}};
    EXPECT_FALSE(complete_from_own_record(seen, prev)) << "no record";
    prev.trouble_kind = "oops";
    prev.trouble_function = "f";
    prev.trouble_signature = "aaaaaaaaaaaaaaaa";
    prev.known_bug = "bug-1";
    EXPECT_TRUE(complete_from_own_record(seen, prev));
    EXPECT_EQ(seen[0].signature, "1111111111111111");
    EXPECT_EQ(seen[2].signature, "aaaaaaaaaaaaaaaa");
    EXPECT_EQ(seen[2].known_bug, "bug-1");
    EXPECT_FALSE(complete_from_own_record(seen, prev)) << "already the same";
    prev.trouble_function = "h";
    std::vector<TroubleSeen> other{{"oops", "1111111111111111", "f", "", 1}};
    EXPECT_FALSE(complete_from_own_record(other, prev));
    EXPECT_EQ(other[0].signature, "1111111111111111");
}

} // namespace
} // namespace guardian

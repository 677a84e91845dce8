// The boot report's pure part on the texts systemd-fsck and e2fsck 1.47 really
// write to the journal (Debian 12), including escaped unit names.
#include "guardian/core/boot_report.hpp"
#include "guardian/core/message_ids.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace guardian {
namespace {

constexpr const char* k_root_unit = "systemd-fsck-root.service";
constexpr const char* k_xvdb_unit = "systemd-fsck@dev-xvdb.service";
constexpr const char* k_uuid_unit =
    "systemd-fsck@dev-disk-by\\x2duuid-0b4c5d1e\\x2d8b7a\\x2d4f7e.service";

JournalLine line(const char* unit, const char* message) {
    return {unit, message, "", 0};
}

std::string field(const LogFields& fields, const std::string& name) {
    auto it =
        std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; });
    return it == fields.end() ? "<absent>" : it->second;
}

TEST(FsckUnitDevice, UnescapesSystemdPaths) {
    EXPECT_EQ(fsck_unit_device(k_root_unit), "/");
    EXPECT_EQ(fsck_unit_device(k_xvdb_unit), "/dev/xvdb");
    EXPECT_EQ(fsck_unit_device(k_uuid_unit), "/dev/disk/by-uuid/0b4c5d1e-8b7a-4f7e");
    EXPECT_EQ(fsck_unit_device("systemd-journald.service"), "");
    EXPECT_EQ(fsck_unit_device("systemd-fsck@dev-xvdb.socket"), "");
    // A truncated escape stays literal rather than reading past the end.
    EXPECT_EQ(fsck_unit_device("systemd-fsck@dev-a\\x2.service"), "/dev/a\\x2");
}

TEST(SummarizeFsck, ReplayAndForcedCheckAfterAnIncident) {
    const std::vector<JournalLine> lines{
        line(k_uuid_unit, "/dev/xvda2: recovering journal"),
        line(k_uuid_unit, "/dev/xvda2 contains a file system with errors, check forced."),
        line(k_xvdb_unit, "/dev/xvdb: clean, 11/65536 files, 12955/262144 blocks"),
        line(k_uuid_unit, "/dev/xvda2: 11/65536 files (0.0% non-contiguous), 12955/262144 blocks"),
        line(k_uuid_unit, "/dev/xvda2: ***** FILE SYSTEM WAS MODIFIED *****"),
        line("systemd-journald.service", "Journal started"),
    };
    const auto r = summarize_fsck(lines);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].device, "/dev/disk/by-uuid/0b4c5d1e-8b7a-4f7e");
    EXPECT_TRUE(r[0].journal_recovered);
    EXPECT_TRUE(r[0].check_forced);
    EXPECT_TRUE(r[0].modified);
    EXPECT_FALSE(r[0].errors_left);
    EXPECT_EQ(r[0].messages.size(), 4u);
    EXPECT_TRUE(eventful(r[0]));
    EXPECT_EQ(describe(r[0]), "recovered journal, check forced, modified");
    EXPECT_EQ(r[1].device, "/dev/xvdb");
    EXPECT_TRUE(r[1].clean);
    EXPECT_FALSE(eventful(r[1]));
    EXPECT_EQ(describe(r[1]), "clean");
}

TEST(SummarizeFsck, UncorrectedErrorsAreFlagged) {
    const auto r = summarize_fsck({
        line(k_root_unit, "/dev/xvda1: Inode 12 has an invalid extent node (blk 1234, lblk 0)"),
        line(k_root_unit, "/dev/xvda1: UNEXPECTED INCONSISTENCY; RUN fsck MANUALLY.\n\t(i.e., "
                          "without -a or -p options)"),
        line(k_root_unit, "fsck failed with exit status 4."),
    });
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].device, "/");
    EXPECT_TRUE(r[0].errors_left);
    EXPECT_FALSE(r[0].clean);
    EXPECT_EQ(describe(r[0]), "ERRORS LEFT");
}

TEST(SummarizeFsck, KeepsABoundedNumberOfMessages) {
    std::vector<JournalLine> lines;
    for (int i = 0; i < 500; ++i)
        lines.push_back(line(k_xvdb_unit, "Inode 12 extent tree could be narrower.  IGNORED."));
    lines.push_back(line(k_xvdb_unit, "/dev/xvdb: ***** FILE SYSTEM WAS MODIFIED *****"));
    const auto r = summarize_fsck(lines);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].messages.size(), k_fsck_messages_kept);
    EXPECT_TRUE(r[0].modified); // classified although no longer kept
}

TEST(PickIncident, PrefersTheNewestProtectiveAction) {
    const std::string pa(message_id::protective_action);
    const std::string crit(message_id::verification_critical);
    std::vector<JournalLine> entries{
        {"guardiand.service", "verification critical: unsafe feature change", crit, 100},
        {"guardiand.service", "protective actions taken:\nshutdown /srv: done", pa, 200},
        {"guardiand.service", "protective actions taken:\nshutdown /: done", pa, 300},
        {"guardiand.service", "a later critical", crit, 400},
    };
    auto i = pick_incident(entries);
    ASSERT_TRUE(i.has_value());
    EXPECT_EQ(i->realtime_us, 300);
    EXPECT_EQ(i->message_id, pa);
    entries.erase(entries.begin() + 1, entries.begin() + 3);
    i = pick_incident(entries);
    ASSERT_TRUE(i.has_value());
    EXPECT_EQ(i->message, "a later critical");
    EXPECT_FALSE(pick_incident({{"x", "hello", "", 1}}).has_value());
}

TEST(BootReportSummary, UneventfulIsOneCalmLine) {
    BootReport r;
    r.fsck = summarize_fsck({line(k_xvdb_unit, "/dev/xvdb: clean, 11/65536 files, 1/2 blocks")});
    r.filesystems.push_back({"/dev/xvdb", "/srv", "", false, 0, 1700000000, false});
    EXPECT_TRUE(uneventful(r));
    EXPECT_EQ(summary_line(r), "no incident at the previous boot; fsck uneventful (1 unit(s) ran)");
    const auto f = journal_fields(r);
    EXPECT_EQ(field(f, "MESSAGE_ID"), std::string(message_id::boot_report));
    EXPECT_EQ(field(f, "GUARDIAN_INCIDENT"), "no");
    EXPECT_EQ(field(f, "GUARDIAN_FSCK_UNITS"), k_xvdb_unit);
    EXPECT_EQ(field(f, "GUARDIAN_FSCK_EVENTFUL"), "");
}

TEST(BootReportSummary, IncidentAndFsckWorkAreNamed) {
    BootReport r;
    r.incident = PreviousIncident{1'763'750'000'000'000, std::string(message_id::protective_action),
                                  "protective actions taken:\nshutdown /: done"};
    r.fsck = summarize_fsck({line(k_root_unit, "/dev/xvda1: recovering journal"),
                             line(k_root_unit, "/dev/xvda1 contains a file system with errors, "
                                               "check forced.")});
    r.filesystems.push_back({"/dev/xvda1", "/", "", true, 2, 0, false});
    EXPECT_FALSE(uneventful(r));
    const std::string s = summary_line(r);
    EXPECT_NE(s.find("incident at the previous boot (2025-11-21T"), std::string::npos) << s;
    EXPECT_NE(s.find("protective actions taken:"), std::string::npos) << s;
    EXPECT_EQ(s.find('\n'), std::string::npos) << s;
    EXPECT_NE(s.find("fsck: / recovered journal, check forced"), std::string::npos) << s;
    EXPECT_NE(s.find("/dev/xvda1 error state (count 2)"), std::string::npos) << s;
    const auto f = journal_fields(r);
    EXPECT_EQ(field(f, "GUARDIAN_INCIDENT"), "yes");
    EXPECT_EQ(field(f, "GUARDIAN_FS_ERRORS"), "/dev/xvda1");
    EXPECT_EQ(field(f, "GUARDIAN_INCIDENT_TEXT"), r.incident->message);
    const std::string d = details(r);
    EXPECT_NE(d.find("shutdown /: done"), std::string::npos) << d;
    EXPECT_NE(d.find("superblock /dev/xvda1 (/): ERROR state, error count 2"), std::string::npos)
        << d;
}

TEST(BootReportSummary, ErrorStateAloneIsEventfulAndLineIsBounded) {
    BootReport r;
    r.filesystems.push_back({"/dev/xvdc", "/data", "", false, 5, 0, false});
    EXPECT_FALSE(uneventful(r));
    EXPECT_NE(summary_line(r).find("fsck: none ran"), std::string::npos);
    r.incident = PreviousIncident{0, "", std::string(5000, 'x')};
    const std::string s = summary_line(r, 200);
    EXPECT_EQ(s.size(), 200u);
    EXPECT_TRUE(s.ends_with("..."));
}

TEST(ClassifyEarlierBoot, IncidentReportedOrNeither) {
    const std::string pa(message_id::protective_action);
    const std::string crit(message_id::verification_critical);
    const std::string rep(message_id::boot_report);
    EXPECT_EQ(classify_earlier_boot({}), EarlierBoot::unreported);
    EXPECT_EQ(classify_earlier_boot({{"guardian-boot.service", "calm", rep, 1}}),
              EarlierBoot::reported);
    // Reported at its start, then an incident later in the same boot.
    EXPECT_EQ(classify_earlier_boot({{"guardian-boot.service", "calm", rep, 1},
                                     {"guardiand.service", "critical", crit, 2}}),
              EarlierBoot::incident);
    EXPECT_EQ(classify_earlier_boot({{"guardiand.service", "actions", pa, 3}}),
              EarlierBoot::incident);
}

constexpr const char* k_id_a = "0123456789abcdef0123456789abcdef";
constexpr const char* k_id_b = "fedcba9876543210fedcba9876543210";

TEST(BootRecord, AddsOneLinePerBootAndFindsThePreviousOne) {
    std::string record = add_boot("", k_id_a, 1000);
    EXPECT_EQ(record, std::string(k_id_a) + " 1000\n");
    EXPECT_TRUE(boot_recorded(record, k_id_a));
    EXPECT_FALSE(boot_recorded(record, k_id_b));
    EXPECT_EQ(previous_boot_start_us(record, k_id_a), std::nullopt);
    EXPECT_EQ(previous_boot_start_us(record, k_id_b), 1000);
    record = add_boot(record, k_id_b, 500); // a clock set back: order, not time, decides
    EXPECT_EQ(previous_boot_start_us(record, k_id_b), 1000);
    EXPECT_EQ(previous_boot_start_us(record, "ffffffffffffffffffffffffffffffff"), 500);
    // The same boot again replaces its line.
    record = add_boot(record, k_id_a, 2000);
    EXPECT_EQ(record, std::string(k_id_b) + " 500\n" + k_id_a + " 2000\n");
}

TEST(BootRecord, DropsMalformedLinesAndKeepsTheNewest) {
    std::string record = "garbage\n" + std::string(k_id_a) + " -5\n" + k_id_a + " 12x\n" +
                         "0123 99\n" + "zz23456789abcdef0123456789abcdef 7\n";
    EXPECT_FALSE(boot_recorded(record, k_id_a));
    EXPECT_EQ(previous_boot_start_us(record, k_id_b), std::nullopt);
    for (int i = 0; i < 40; ++i)
        record = add_boot(record, fmt::format("{:032x}", i), 100 + i);
    const auto lines = static_cast<std::size_t>(std::count(record.begin(), record.end(), '\n'));
    EXPECT_EQ(lines, k_boot_record_kept);
    EXPECT_FALSE(boot_recorded(record, fmt::format("{:032x}", 23)));
    EXPECT_TRUE(boot_recorded(record, fmt::format("{:032x}", 24)));
    EXPECT_EQ(previous_boot_start_us(record, fmt::format("{:032x}", 39)), 138);
}

TEST(BootRecord, TheLaterOfJournalAndRecordBoundsAFullCheck) {
    BootReport r;
    EXPECT_EQ(previous_boot_bound_us(r), 0);
    r.previous_boot_start_us = 700;
    EXPECT_EQ(previous_boot_bound_us(r), 700);
    r.previous_boot_last_us = 900;
    EXPECT_EQ(previous_boot_bound_us(r), 900);
}

} // namespace
} // namespace guardian

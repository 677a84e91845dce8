// The boot report against real journal files and a real ext4 superblock:
// journal files are written by systemd-journal-remote from export-format
// input (so entries can carry other boots' _BOOT_ID, which a live journald
// cannot fake), read back through JournalReader (journalctl -o json), and the whole
// `guardiand --boot-report` runs on a fake /proc with the test xenstored.
#include "guardian/boot/boot_record.hpp"
#include "guardian/boot/boot_report_run.hpp"
#include "guardian/boot/journal_reader.hpp"
#include "guardian/boot/previous_boot.hpp"
#include "guardian/core/message_ids.hpp"
#include "guardian/ext4/fs_handle.hpp"
#include "tests/support/test_env.hpp"
#include "tests/xen/xenstore_server_fixture.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

namespace guardian::boot {
namespace {

namespace fs = std::filesystem;
using test::run_command;
using test::TempDir;

constexpr const char* k_journal_remote = "/lib/systemd/systemd-journal-remote";
const std::string k_boot_a(32, 'a'); // two boots ago
const std::string k_boot_b(32, 'b'); // the previous boot: the incident
const std::string k_boot_c(32, 'c'); // this boot: fsck ran
const std::string k_pa(message_id::protective_action);
const std::string k_crit(message_id::verification_critical);
// A kernel line's journal fields (an alert, from the kernel itself) and a
// time in the previous boots.
const std::vector<std::pair<std::string, std::string>> k_kernel_fields{
    {"_TRANSPORT", "kernel"}, {"SYSLOG_FACILITY", "0"}, {"PRIORITY", "1"}};
constexpr std::int64_t k_t0 = 1'763'700'000'000'000;

struct Entry {
    std::int64_t realtime_us;
    std::string boot;
    std::string unit;
    std::string message;
    std::string message_id;
    std::vector<std::pair<std::string, std::string>> fields = {}; // more fields
};

// Journal export format; values with a newline use the binary form
// (name, newline, 64-bit little-endian length, bytes, newline).
void append_field(std::string& out, const std::string& name, const std::string& value) {
    if (value.find('\n') == std::string::npos) {
        out += name + "=" + value + "\n";
        return;
    }
    out += name + "\n";
    std::uint64_t n = value.size();
    for (int i = 0; i < 8; ++i)
        out += static_cast<char>((n >> (8 * i)) & 0xff);
    out += value + "\n";
}

void write_journal(const fs::path& dir, const std::vector<Entry>& entries) {
    std::string text;
    std::int64_t mono = 1000;
    for (const auto& e : entries) {
        append_field(text, "__REALTIME_TIMESTAMP", std::to_string(e.realtime_us));
        append_field(text, "__MONOTONIC_TIMESTAMP", std::to_string(mono += 1000));
        append_field(text, "_BOOT_ID", e.boot);
        append_field(text, "_SYSTEMD_UNIT", e.unit);
        if (!e.message_id.empty())
            append_field(text, "MESSAGE_ID", e.message_id);
        append_field(text, "MESSAGE", e.message);
        for (const auto& [name, value] : e.fields)
            append_field(text, name, value);
        text += "\n";
    }
    fs::create_directories(dir);
    std::ofstream(dir / "in.export", std::ios::binary) << text;
    const auto r =
        run_command(std::string(k_journal_remote) + " -o " + (dir / "remote.journal").string() +
                    " " + (dir / "in.export").string());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    fs::remove(dir / "in.export");
}

std::vector<Entry> three_boots() {
    const std::int64_t t0 = 1'763'700'000'000'000;
    return {
        {t0, k_boot_a, "guardiand.service", "protective actions taken:\nshutdown /old: done", k_pa},
        {t0 + 1'000'000, k_boot_a, "systemd-fsck@dev-xvdb.service", "/dev/xvdb: recovering journal",
         ""},
        {t0 + 100'000'000, k_boot_b, "guardiand.service", "verification critical: unsafe", k_crit},
        {t0 + 100'500'000, k_boot_b, "guardiand.service",
         "protective actions taken:\nshutdown /srv: done\nreboot: done", k_pa},
        {t0 + 100'600'000, k_boot_b, "systemd-fsck@dev-xvdc.service",
         "/dev/xvdc: clean, 11/65536 files, 1/2 blocks", ""},
        {t0 + 200'000'000, k_boot_c, "systemd-journald.service", "Journal started", ""},
        {t0 + 200'100'000, k_boot_c, "systemd-fsck-root.service",
         "/dev/xvda1: clean, 30000/655360 files, 400000/2621440 blocks", ""},
        {t0 + 200'200'000, k_boot_c, "systemd-fsck@dev-disk-by\\x2duuid-0b4c5d1e\\x2d8b7a.service",
         "/dev/xvdb: recovering journal", ""},
        {t0 + 200'300'000, k_boot_c, "systemd-fsck@dev-disk-by\\x2duuid-0b4c5d1e\\x2d8b7a.service",
         "/dev/xvdb contains a file system with errors, check forced.", ""},
        {t0 + 200'400'000, k_boot_c, "systemd-fsck@dev-disk-by\\x2duuid-0b4c5d1e\\x2d8b7a.service",
         "/dev/xvdb: ***** FILE SYSTEM WAS MODIFIED *****", ""},
    };
}

#define SKIP_WITHOUT_JOURNAL_REMOTE()                                                              \
    do {                                                                                           \
        if (!fs::exists(k_journal_remote))                                                         \
            GTEST_SKIP() << k_journal_remote                                                       \
                         << " is missing (apt-get install systemd-journal-remote): it writes "     \
                            "the journal files these tests read";                                  \
    } while (0)

TEST(JournalReader, ReadsThisBootsFsckLinesAndThePreviousBootsIncident) {
    SKIP_WITHOUT_JOURNAL_REMOTE();
    TempDir tmp;
    write_journal(tmp.path() / "j", three_boots());
    auto reader = JournalReader::open_directory((tmp.path() / "j").string());
    ASSERT_TRUE(reader) << reader.error().message;

    auto lines = reader->fsck_lines(k_boot_c);
    ASSERT_TRUE(lines) << lines.error().message;
    ASSERT_EQ(lines->size(), 4u);
    EXPECT_EQ((*lines)[0].unit, "systemd-fsck-root.service");
    EXPECT_EQ((*lines)[3].message, "/dev/xvdb: ***** FILE SYSTEM WAS MODIFIED *****");
    const auto summary = summarize_fsck(*lines);
    ASSERT_EQ(summary.size(), 2u);
    EXPECT_EQ(summary[1].device, "/dev/disk/by-uuid/0b4c5d1e-8b7a");
    EXPECT_TRUE(summary[1].check_forced);

    auto prev = reader->previous_boot(k_boot_c);
    ASSERT_TRUE(prev) << prev.error().message;
    EXPECT_EQ(*prev, k_boot_b);
    auto entries = reader->entries_with_ids(
        *prev, {message_id::protective_action, message_id::verification_critical});
    ASSERT_TRUE(entries) << entries.error().message;
    ASSERT_EQ(entries->size(), 2u);
    auto incident = pick_incident(*entries);
    ASSERT_TRUE(incident.has_value());
    EXPECT_EQ(incident->message, "protective actions taken:\nshutdown /srv: done\nreboot: done");

    auto before_b = reader->previous_boot(k_boot_b);
    ASSERT_TRUE(before_b);
    EXPECT_EQ(*before_b, k_boot_a);
    auto before_a = reader->previous_boot(k_boot_a);
    ASSERT_TRUE(before_a);
    EXPECT_EQ(*before_a, "");
    // A boot that logged nothing yet: the previous one is the newest there is.
    auto unknown = reader->previous_boot(std::string(32, 'd'));
    ASSERT_TRUE(unknown);
    EXPECT_EQ(*unknown, k_boot_c);
}

TEST(JournalReader, MissingDirectoryIsAnError) {
    auto reader = JournalReader::open_directory("/nonexistent/guardian-journal");
    EXPECT_FALSE(reader);
}

TEST(JournalReader, EmptyJournalHasNoPreviousBoot) {
    if (!fs::exists("/usr/bin/journalctl") && !fs::exists("/bin/journalctl"))
        GTEST_SKIP() << "journalctl is not installed";
    TempDir tmp;
    auto reader = JournalReader::open_directory(tmp.path().string());
    ASSERT_TRUE(reader) << reader.error().message;
    auto prev = reader->previous_boot(k_boot_c);
    ASSERT_TRUE(prev) << prev.error().message;
    EXPECT_EQ(*prev, "");
    auto lines = reader->fsck_lines(k_boot_c);
    ASSERT_TRUE(lines) << lines.error().message;
    EXPECT_TRUE(lines->empty());
    auto last = reader->last_entry_realtime_us(k_boot_c);
    ASSERT_TRUE(last) << last.error().message;
    EXPECT_EQ(*last, 0);
}

TEST(JournalJson, EntryFieldsIncludingBinaryAndRepeatedValues) {
    auto e = parse_json_entry(R"({"__REALTIME_TIMESTAMP":"1763700000000001",)"
                              R"("_SYSTEMD_UNIT":"systemd-fsck-root.service",)"
                              R"("MESSAGE":"two\nlines","MESSAGE_ID":"abc"})");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->realtime_us, 1'763'700'000'000'001);
    EXPECT_EQ(e->unit, "systemd-fsck-root.service");
    EXPECT_EQ(e->message, "two\nlines");
    EXPECT_EQ(e->message_id, "abc");
    // Not valid UTF-8: journalctl prints the bytes; a repeated field: an array.
    e = parse_json_entry(R"({"MESSAGE":[104,105,255],"_SYSTEMD_UNIT":["a.service","b.service"]})");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->message, "hi\xff");
    EXPECT_EQ(e->unit, "a.service");
    EXPECT_EQ(e->realtime_us, 0);
    EXPECT_FALSE(parse_json_entry("Journal file x.journal is truncated, ignoring file."));
    EXPECT_FALSE(parse_json_entry("[1,2]"));
}

TEST(JournalJson, BootListOfOldAndNewJournalctl) {
    // systemd 252: a header line, then index, id, first and last entry.
    const std::string v252 =
        "IDX BOOT ID                          FIRST ENTRY                 LAST ENTRY\n"
        " -1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa Fri 2025-11-21 04:40:00 UTC Fri 2025-11-21 "
        "04:40:01 UTC\n"
        "  0 BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB Fri 2025-11-21 04:41:40 UTC Fri 2025-11-21 "
        "04:41:41 UTC\n";
    EXPECT_EQ(parse_boot_list(v252), (std::vector<std::string>{k_boot_a, k_boot_b}));
    // systemd 215 (Debian 8): no header, the range joined by an em dash.
    const std::string v215 =
        "-1 cccccccccccccccccccccccccccccccc Mon 2015-06-01 10:00:00 UTC\xe2\x80\x94Mon "
        "2015-06-01 11:00:00 UTC\n";
    EXPECT_EQ(parse_boot_list(v215), (std::vector<std::string>{k_boot_c}));
    EXPECT_TRUE(parse_boot_list("").empty());
}

// A fake /proc for the boot report: boot id, btime, mountinfo.
void make_root(const fs::path& root, const std::string& boot_id_dashed, std::int64_t btime,
               const std::string& mountinfo, const std::string& config) {
    fs::create_directories(root / "proc/sys/kernel/random");
    fs::create_directories(root / "proc/self");
    fs::create_directories(root / "etc/guardian");
    std::ofstream(root / "proc/sys/kernel/random/boot_id") << boot_id_dashed << "\n";
    std::ofstream(root / "proc/stat")
        << "cpu  1 2 3 4\nintr 0\nbtime " << btime << "\nprocesses 10\n";
    std::ofstream(root / "proc/self/mountinfo") << mountinfo;
    std::ofstream(root / "etc/guardian/guardian.conf") << config;
}

std::string dashed(const std::string& id) {
    return id.substr(0, 8) + "-" + id.substr(8, 4) + "-" + id.substr(12, 4) + "-" +
           id.substr(16, 4) + "-" + id.substr(20);
}

TEST(BootReportRun, ReadsBootIdAndBootTime) {
    TempDir tmp;
    make_root(tmp.path(), dashed(k_boot_c), 1763700200, "", "");
    const SystemRoot root(tmp.path().string());
    auto id = read_boot_id(root);
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(*id, k_boot_c);
    auto bt = read_boot_time(root);
    ASSERT_TRUE(bt) << bt.error().message;
    EXPECT_EQ(*bt, 1763700200);
    std::ofstream(tmp.path() / "proc/sys/kernel/random/boot_id") << "garbage\n";
    EXPECT_FALSE(read_boot_id(root));
}

TEST(SuperblockHealth, SeesTheErrorStateAndCount) {
    TempDir tmp;
    const std::string img = (tmp.path() / "fs.img").string();
    auto r = run_command("mkfs.ext4 -q -F " + img + " 8M && debugfs -w -R 'ssv state 3' " + img +
                         " && debugfs -w -R 'ssv error_count 7' " + img +
                         " && debugfs -w -R 'ssv lastcheck 20250102030405' " + img);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto opened = ext4::FsHandle::open(img);
    ASSERT_TRUE(opened) << opened.error().message;
    ASSERT_TRUE(opened->fs) << opened->rejected;
    const auto h = opened->fs->health();
    EXPECT_TRUE(h.error_flag);
    EXPECT_TRUE(h.valid_flag);
    EXPECT_EQ(h.error_count, 7u);
    EXPECT_EQ(h.lastcheck, 1735787045); // 2025-01-02T03:04:05Z
}

// A loop device, detached when this goes.
struct LoopDevice {
    std::string dev;
    LoopDevice() = default;
    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;
    ~LoopDevice() {
        if (!dev.empty())
            (void)run_command("losetup -d " + dev);
    }
};

// An 8 MiB ext4 in `img` with each of `ssv` applied (debugfs "ssv FIELD
// VALUE"), attached to `loop`.
void attach_ext4(const std::string& img, const std::vector<std::string>& ssv, LoopDevice& loop) {
    std::string cmd = "mkfs.ext4 -q -F " + img + " 8M";
    for (const auto& edit : ssv)
        cmd += " && debugfs -w -R 'ssv " + edit + "' " + img;
    auto r = run_command(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run_command("losetup -f --show " + img);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    loop.dev = r.out.substr(0, r.out.find('\n'));
}

// The whole `guardiand --boot-report`: journal files, a loop device holding
// ext4 in error state, the test xenstored and an incident hook.
TEST(BootReportRun, ReportsIncidentFsckAndSuperblockToJournalXenstoreAndHooks) {
    SKIP_WITHOUT_JOURNAL_REMOTE();
    GUARDIAN_SKIP_WITHOUT_LOOP();
    TempDir tmp;
    write_journal(tmp.path() / "j", three_boots());
    LoopDevice device;
    ASSERT_NO_FATAL_FAILURE(
        attach_ext4((tmp.path() / "fs.img").string(), {"state 3", "error_count 2"}, device));
    const std::string& loop = device.dev;

    const fs::path hooks = tmp.path() / "hooks";
    fs::create_directories(hooks);
    const fs::path hook_out = tmp.path() / "hook.out";
    std::ofstream(hooks / "10-record")
        << "#!/bin/sh\necho \"$1|$GUARDIAN_INCIDENT\" > " << hook_out.string() << "\n";
    fs::permissions(hooks / "10-record", fs::perms::owner_all);
    const fs::path root = tmp.path() / "root";
    make_root(root, dashed(k_boot_c), 1763700200,
              "30 1 7:0 / /srv rw,relatime - ext4 " + loop + " rw\n",
              // On "Xen" (the test xenstored) auto guards xvd devices only.
              "guard = /srv\nhook_dir = " + hooks.string() + "\nhook_timeout = 10s\n");

    test::TestXenstored xenstored;
    const std::string cmd = "XENSTORED_PATH=" + xenstored.guest_socket() + " " + GUARDIAND +
                            " --boot-report --foreground --root " + root.string() +
                            " --journal-dir " + (tmp.path() / "j").string();
    const auto r = run_command(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("incident at the previous boot"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("superblock " + loop + " (/srv): ERROR state, error count 2"),
              std::string::npos)
        << r.err;

    auto dom0 = xenstored.dom0();
    auto published = dom0->read("/local/domain/7/data/guardian/boot-report");
    ASSERT_TRUE(published) << published.error().message;
    EXPECT_NE(published->find("incident at the previous boot"), std::string::npos) << *published;
    EXPECT_NE(published->find("fsck: / clean; /dev/disk/by-uuid/0b4c5d1e-8b7a recovered journal, "
                              "check forced, modified"),
              std::string::npos)
        << *published;
    EXPECT_NE(published->find(loop + " error state (count 2)"), std::string::npos) << *published;
    EXPECT_EQ(published->find('\n'), std::string::npos);

    std::ifstream in(hook_out);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(got.substr(0, got.find('|')), "incident");
    EXPECT_NE(got.find("shutdown /srv: done"), std::string::npos) << got;
}

// `guardiand --boot-report` as boot C (started at 1763700200), over the
// journal in tmp/j and a fake root with `config` and `mountinfo`: what it published in
// data/guardian/boot-report ("" and a test failure when it did not run).
std::string run_boot_report(const TempDir& tmp, const std::string& config = "",
                            const std::string& mountinfo = "") {
    const fs::path root = tmp.path() / "root";
    make_root(root, dashed(k_boot_c), 1763700200, mountinfo, config);
    test::TestXenstored xenstored;
    const auto r = run_command("XENSTORED_PATH=" + xenstored.guest_socket() + " " + GUARDIAND +
                               " --boot-report --foreground --root " + root.string() +
                               " --journal-dir " + (tmp.path() / "j").string());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto published = xenstored.dom0()->read("/local/domain/7/data/guardian/boot-report");
    EXPECT_TRUE(published) << published.error().message;
    return published ? *published : std::string();
}

TEST(BootReportRun, CalmBootIsOneLineAndRunsNoHook) {
    SKIP_WITHOUT_JOURNAL_REMOTE();
    TempDir tmp;
    auto entries = three_boots();
    // Drop the incident and the eventful fsck: only the clean root check stays.
    std::erase_if(entries, [](const Entry& e) {
        return !e.message_id.empty() || e.unit.find("x2duuid") != std::string::npos;
    });
    write_journal(tmp.path() / "j", entries);
    const fs::path hooks = tmp.path() / "hooks";
    fs::create_directories(hooks);
    const fs::path hook_out = tmp.path() / "hook.out";
    std::ofstream(hooks / "10-record") << "#!/bin/sh\necho ran > " << hook_out.string() << "\n";
    fs::permissions(hooks / "10-record", fs::perms::owner_all);
    EXPECT_EQ(run_boot_report(tmp, "hook_dir = " + hooks.string() + "\n"),
              "no incident at the previous boot; fsck uneventful (1 unit(s) ran)");
    EXPECT_FALSE(fs::exists(hook_out));
}

// Seen on the Xen rig: after an incident on the root filesystem,
// systemd-fsck-root repaired it and rebooted at once, so guardian-boot ran
// only one boot later. The report still names the incident two boots back
// and the fsck work of the boot in between.
TEST(BootReportRun, FsckThatRebootedIsReportedAtTheNextBoot) {
    SKIP_WITHOUT_JOURNAL_REMOTE();
    const std::int64_t t0 = 1'763'700'000'000'000;
    const std::string fsck_root = "systemd-fsck-root.service";
    const std::string k_report(message_id::boot_report);
    TempDir tmp;
    write_journal(tmp.path() / "j",
                  {
                      {t0, k_boot_a, "guardian-boot.service", "no incident", k_report},
                      {t0 + 1'000, k_boot_a, "guardiand.service",
                       "protective actions taken:\nshutdown /: done\nreboot: done", k_pa},
                      {t0 + 100'000'000, k_boot_b, fsck_root, "/dev/xvda: recovering journal", ""},
                      {t0 + 100'100'000, k_boot_b, fsck_root,
                       "/dev/xvda contains a file system with errors, check forced.", ""},
                      {t0 + 100'200'000, k_boot_b, fsck_root,
                       "/dev/xvda: ***** FILE SYSTEM WAS MODIFIED *****", ""},
                      {t0 + 100'300'000, k_boot_b, fsck_root,
                       "Requesting reboot.target/start/replace-irreversibly", ""},
                      {t0 + 200'000'000, k_boot_c, fsck_root,
                       "/dev/xvda: clean, 5092/106080 files, 155869/423936 blocks", ""},
                  });
    const std::string published = run_boot_report(tmp);
    EXPECT_NE(published.find("incident at the previous boot"), std::string::npos) << published;
    EXPECT_NE(published.find("protective actions taken"), std::string::npos) << published;
    EXPECT_NE(published.find("check forced"), std::string::npos) << published;
    EXPECT_NE(published.find("modified"), std::string::npos) << published;
}

// An incident that an earlier boot already reported is not news.
TEST(BootReportRun, AnIncidentReportedBeforeIsNotReportedAgain) {
    SKIP_WITHOUT_JOURNAL_REMOTE();
    const std::int64_t t0 = 1'763'700'000'000'000;
    const std::string k_report(message_id::boot_report);
    TempDir tmp;
    write_journal(tmp.path() / "j",
                  {
                      {t0, k_boot_a, "guardiand.service", "protective actions taken", k_pa},
                      {t0 + 100'000'000, k_boot_b, "guardian-boot.service",
                       "boot report: incident at the previous boot", k_report},
                      {t0 + 200'000'000, k_boot_c, "systemd-fsck-root.service",
                       "/dev/xvda: clean, 5092/106080 files, 155869/423936 blocks", ""},
                  });
    const std::string published = run_boot_report(tmp);
    EXPECT_EQ(published, "no incident at the previous boot; fsck uneventful (1 unit(s) ran)");
}

// What the rig showed: the boot in which systemd-fsck repaired the root
// filesystem and rebooted left no journal at all (root was still read-only,
// the journal in /run). The superblock's last-check time, between the
// previous journaled boot and this one, is its trace.
TEST(BootReportRun, AFullCheckInABootWithoutJournalIsReported) {
    SKIP_WITHOUT_JOURNAL_REMOTE();
    GUARDIAN_SKIP_WITHOUT_LOOP();
    const std::int64_t t0 = 1'763'700'000'000'000; // boot A's entries; C starts at t0 + 200 s
    TempDir tmp;
    write_journal(tmp.path() / "j",
                  {
                      {t0, k_boot_a, "guardiand.service", "verification critical: damaged", k_crit},
                      {t0 + 200'100'000, k_boot_c, "systemd-fsck-root.service",
                       "/dev/xvda: clean, 5092/106080 files, 155869/423936 blocks", ""},
                  });
    // Checked at t0 + 150 s: after boot A's last entry, before boot C.
    LoopDevice loop;
    ASSERT_NO_FATAL_FAILURE(attach_ext4((tmp.path() / "fs.img").string(),
                                        {"lastcheck " + std::to_string(t0 / 1'000'000 + 150)},
                                        loop));
    const std::string published = run_boot_report(
        tmp, "guard = /\n", "30 1 7:0 / / rw,relatime - ext4 " + loop.dev + " rw\n");
    ASSERT_FALSE(published.empty());
    EXPECT_NE(published.find("incident at the previous boot"), std::string::npos) << published;
    EXPECT_NE(published.find(loop.dev + " fully checked at 2025-11-21T04:42:30Z by a boot that "
                                        "rebooted before logging"),
              std::string::npos)
        << published;
}

// Seen on the Xen rig: the incident came 7 s after guardiand started, the
// filesystem was shut down before journald's pages of that boot reached the
// disk, and the fsck boot after it left no journal either: the journal holds
// this boot only. guardian's boot record still says when the incident's boot
// started, so a full check after that, before this boot, is reported; one
// before it is not.
TEST(BootReportRun, AFullCheckAfterABootTheJournalLostIsReportedFromTheBootRecord) {
    SKIP_WITHOUT_JOURNAL_REMOTE();
    GUARDIAN_SKIP_WITHOUT_LOOP();
    const std::int64_t t0 = 1'763'700'000'000'000; // boot A started; C starts at t0 + 200 s
    for (const bool after : {true, false}) {
        SCOPED_TRACE(after ? "checked after boot A started" : "checked before boot A started");
        TempDir tmp;
        write_journal(tmp.path() / "j",
                      {{t0 + 200'100'000, k_boot_c, "systemd-fsck-root.service",
                        "/dev/xvda: clean, 5092/106080 files, 155869/423936 blocks", ""}});
        LoopDevice loop;
        const std::int64_t lastcheck = t0 / 1'000'000 + (after ? 150 : -10);
        ASSERT_NO_FATAL_FAILURE(attach_ext4((tmp.path() / "fs.img").string(),
                                            {"lastcheck " + std::to_string(lastcheck)}, loop));
        const fs::path record = tmp.path() / "root/var/lib/guardian/boots";
        fs::create_directories(record.parent_path());
        // Boot C's own line may already be there (guardiand started first).
        std::ofstream(record) << k_boot_a << " " << t0 << "\n"
                              << k_boot_c << " " << t0 + 230'000'000 << "\n";
        const std::string published = run_boot_report(
            tmp, "guard = /\n", "30 1 7:0 / / rw,relatime - ext4 " + loop.dev + " rw\n");
        ASSERT_FALSE(published.empty());
        if (after) {
            EXPECT_NE(published.find("no incident record in the journal"), std::string::npos)
                << published;
            EXPECT_NE(published.find(loop.dev + " fully checked at 2025-11-21T04:42:30Z by a boot "
                                                "that rebooted before logging"),
                      std::string::npos)
                << published;
        } else {
            EXPECT_EQ(published,
                      "no incident at the previous boot; fsck uneventful (1 unit(s) ran)");
        }
    }
}

// guardiand's side: the first start in a boot adds it, a restart in the same
// boot writes nothing, another boot adds its own line after it.
TEST(BootRecordFile, OneLinePerBootWrittenOnce) {
    TempDir tmp;
    make_root(tmp.path(), dashed(k_boot_a), 1763700000, "", "");
    const SystemRoot root(tmp.path().string());
    auto empty = read_boot_record(root);
    ASSERT_TRUE(empty) << empty.error().message;
    EXPECT_EQ(*empty, "");
    auto wrote = record_boot_start(root, 1'763'700'010'000'000);
    ASSERT_TRUE(wrote) << wrote.error().message;
    EXPECT_TRUE(*wrote);
    wrote = record_boot_start(root, 1'763'700'099'000'000);
    ASSERT_TRUE(wrote) << wrote.error().message;
    EXPECT_FALSE(*wrote);
    std::ofstream(tmp.path() / "proc/sys/kernel/random/boot_id") << dashed(k_boot_b) << "\n";
    wrote = record_boot_start(root, 1'763'700'200'000'000);
    ASSERT_TRUE(wrote) << wrote.error().message;
    EXPECT_TRUE(*wrote);
    auto text = read_boot_record(root);
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(*text,
              std::string(k_boot_a) + " 1763700010000000\n" + k_boot_b + " 1763700200000000\n");
    EXPECT_EQ(fs::status(tmp.path() / "var/lib/guardian/boots").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
}

// The previous boot's end from its persistent journal (boot/previous_boot):
// its kernel lines (an oops, then nothing: a crash; a line a process wrote
// to /dev/kmsg is not the kernel's), and guardian's own critical verdict
// under policy protect (the emergency reboot its boot history could not
// record), which policy observe's entry rules out.
TEST(PreviousBootJournal, KernelLinesAndGuardiansVerdictAttributeTheEnd) {
    SKIP_WITHOUT_JOURNAL_REMOTE();
    TempDir tmp;
    const std::int64_t t0 = k_t0;
    const auto& kernel = k_kernel_fields;
    const std::vector<std::pair<std::string, std::string>> forged{
        {"_TRANSPORT", "kernel"}, {"SYSLOG_FACILITY", "1"}, {"PRIORITY", "4"}};
    const std::string observe(32, 'e');
    write_journal(
        tmp.path() / "j",
        {{t0, k_boot_a, "", "BUG: kernel NULL pointer dereference, address: 0000000000000008", "",
          kernel},
         {t0 + 1, k_boot_a, "", "RIP: 0010:xennet_poll+0x676/0xb30 [xen_netfront]", "", kernel},
         {t0 + 2, k_boot_a, "", "Call Trace:", "", kernel},
         {t0 + 3, k_boot_a, "", " net_rx_action+0x145/0x3e0", "", kernel},
         {t0 + 4, k_boot_a, "", "---[ end trace 0000000000000000 ]---", "", kernel},
         {t0 + 10, k_boot_b, "", "WARNING: CPU: 0 PID: 1 at fs/forged.c:1 forged+0x1/0x2", "",
          forged},
         {t0 + 20, k_boot_c, "guardiand.service", "verification critical: unsafe", k_crit},
         {t0 + 30, observe, "guardiand.service", "verification critical: unsafe", k_crit},
         {t0 + 31, observe, "guardiand.service", "policy observe: reporting only, no action: x",
          k_crit}});
    PreviousBootOptions o;
    o.root = SystemRoot(tmp.path().string()); // no pstore there
    o.journal_dir = (tmp.path() / "j").string();
    const auto judge = [&](const std::string& id) {
        BootEntry prev;
        prev.boot_id = id;
        const auto found = gather_previous_boot(prev, o);
        return std::make_pair(found.source, attribute_end(prev, found.evidence));
    };
    const auto [a_source, a] = judge(k_boot_a);
    EXPECT_EQ(a_source, "journal");
    EXPECT_EQ(a.end, BootEnd::crash);
    ASSERT_TRUE(a.trouble);
    EXPECT_EQ(a.trouble->kind, "oops");
    EXPECT_EQ(a.trouble->function, "xennet_poll");
    EXPECT_EQ(judge(k_boot_b).second.end, BootEnd::no_trace) << "a forged line counted";
    EXPECT_EQ(judge(k_boot_c).second.end, BootEnd::emergency_reboot);
    EXPECT_EQ(judge(observe).second.end, BootEnd::no_trace);
}

// A crash cuts the journal's copy of the last report short (journald synced
// after the oops' first line, the call trace went with the page cache): the
// signature guardiand recorded from the whole report, live, wins for that
// report; a recorded report of another function leaves the journal's alone.
TEST(PreviousBootJournal, AReportTheCrashCutShortTakesGuardiansOwnSignature) {
    SKIP_WITHOUT_JOURNAL_REMOTE();
    TempDir tmp;
    const std::int64_t t0 = k_t0;
    const auto& kernel = k_kernel_fields;
    write_journal(
        tmp.path() / "j",
        {{t0, k_boot_a, "", "BUG: kernel NULL pointer dereference, address: 0000000000000008", "",
          kernel},
         {t0 + 1, k_boot_a, "", "RIP: 0010:xennet_poll+0x676/0xb30 [xen_netfront]", "", kernel}});
    PreviousBootOptions o;
    o.root = SystemRoot(tmp.path().string());
    o.journal_dir = (tmp.path() / "j").string();
    BootEntry prev;
    prev.boot_id = k_boot_a;
    const auto journal_only = gather_previous_boot(prev, o);
    ASSERT_EQ(journal_only.evidence.trouble.size(), 1u);
    const std::string cut = journal_only.evidence.trouble[0].signature;

    prev.trouble_kind = "oops";
    prev.trouble_function = "xennet_poll";
    prev.trouble_signature = "feedfacefeedface";
    prev.known_bug = "netfront-null-sring";
    ASSERT_NE(cut, prev.trouble_signature);
    const auto found = gather_previous_boot(prev, o);
    EXPECT_EQ(found.source, "journal");
    const auto a = attribute_end(prev, found.evidence);
    EXPECT_EQ(a.end, BootEnd::crash);
    ASSERT_TRUE(a.trouble);
    EXPECT_EQ(a.trouble->signature, "feedfacefeedface");
    EXPECT_EQ(a.trouble->known_bug, "netfront-null-sring");
    ASSERT_EQ(found.notes.size(), 1u);
    EXPECT_NE(found.notes[0].find("guardiand's signature is used"), std::string::npos);

    prev.trouble_function = "blkif_interrupt"; // another report than the journal's
    const auto other = gather_previous_boot(prev, o);
    ASSERT_EQ(other.evidence.trouble.size(), 1u);
    EXPECT_EQ(other.evidence.trouble[0].signature, cut);
    EXPECT_TRUE(other.notes.empty());
}

} // namespace
} // namespace guardian::boot

// JournalLogger against a real systemd-journald, started in a private mount
// namespace (tmpfs over /run/systemd, /run/log, /var/log/journal) so the
// test neither needs nor disturbs a journald of the machine; entries are read
// back with journalctl -o json. Also: field-name rules, and the catalog file
// against message_ids.hpp (parsed here, and compiled by journalctl itself).
#include "guardian/core/message_ids.hpp"
#include "guardian/journal/journal_logger.hpp"
#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace guardian::journal {
namespace {

namespace fs = std::filesystem;
using test::run_command;
using test::TempDir;

TEST(JournalFieldName, MadeValid) {
    EXPECT_EQ(journal_field_name("GUARDIAN_DEVICE"), "GUARDIAN_DEVICE");
    EXPECT_EQ(journal_field_name("guardian-device"), "GUARDIAN_DEVICE");
    EXPECT_EQ(journal_field_name("_PID"), "GUARDIAN_PID");
    EXPECT_EQ(journal_field_name("9LIVES"), "GUARDIAN9LIVES");
    EXPECT_EQ(journal_field_name(""), "GUARDIAN");
    EXPECT_EQ(journal_field_name(std::string(80, 'A')).size(), 64u);
}

TEST(JournalStream, DetectedFromJournalStreamVariable) {
    struct stat st {};
    ASSERT_EQ(::fstat(2, &st), 0);
    const char* saved = std::getenv("JOURNAL_STREAM");
    const std::string saved_value = saved != nullptr ? saved : "";
    ::unsetenv("JOURNAL_STREAM");
    EXPECT_FALSE(stderr_is_journal());
    const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    ::setenv("JOURNAL_STREAM", mine.c_str(), 1);
    EXPECT_TRUE(stderr_is_journal());
    // Inherited from a parent whose stderr was the journal, ours is not.
    ::setenv("JOURNAL_STREAM", (mine + "1").c_str(), 1);
    EXPECT_FALSE(stderr_is_journal());
    ::setenv("JOURNAL_STREAM", "garbage", 1);
    EXPECT_FALSE(stderr_is_journal());
    if (saved != nullptr)
        ::setenv("JOURNAL_STREAM", saved_value.c_str(), 1);
    else
        ::unsetenv("JOURNAL_STREAM");
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(JournalLogger, EntriesReachJournaldWithStructuredFields) {
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to start a private systemd-journald (unshare -m, tmpfs)";
    if (!fs::exists("/lib/systemd/systemd-journald"))
        GTEST_SKIP() << "systemd-journald is not installed";
    if (run_command("unshare -m --propagation private true").exit_code != 0)
        GTEST_SKIP() << "cannot create a mount namespace here";

    const std::string run_id = std::to_string(std::random_device{}());
    TempDir tmp;
    const fs::path script = tmp.path() / "in-namespace.sh";
    const fs::path out = tmp.path() / "entries.json";
    std::ofstream(script) << "set -e\n"
                             "for d in /run/systemd /run/log /var/log/journal; do\n"
                             "  mkdir -p $d; mount -t tmpfs tmpfs $d\n"
                             "done\n"
                             "mkdir -p /run/systemd/journal\n"
                             "/lib/systemd/systemd-journald & jpid=$!\n"
                             "trap 'kill $jpid; wait $jpid || true' EXIT\n"
                             "for i in $(seq 100); do\n"
                             "  [ -S /run/systemd/journal/socket ] && break; sleep 0.05\n"
                             "done\n"
                             "\"$1\" \"$2\"\n"
                             "journalctl --sync\n"
                             "journalctl --no-pager -o json GUARDIAN_TEST_RUN=\"$2\" > \"$3\"\n";
    const auto r = run_command("unshare -m --propagation private sh " + script.string() + " " +
                               JOURNAL_SEND_HELPER + " " + run_id + " " + out.string());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

    std::vector<nlohmann::json> entries;
    std::istringstream lines(read_file(out));
    for (std::string line; std::getline(lines, line);)
        if (!line.empty())
            entries.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(entries.size(), 1u) << "the debug entry must be filtered out";
    const auto& e = entries[0];
    EXPECT_EQ(e.value("MESSAGE", ""), "verification critical on /dev/xvda1");
    EXPECT_EQ(e.value("PRIORITY", ""), "2");
    EXPECT_EQ(e.value("SYSLOG_IDENTIFIER", ""), "guardiand");
    EXPECT_EQ(e.value("MESSAGE_ID", ""), std::string(message_id::verification_critical));
    EXPECT_EQ(e.value("GUARDIAN_DEVICE", ""), "/dev/xvda1");
    EXPECT_EQ(e.value("GUARDIAN_FS_UUID", ""), "0b3c8f1e-6c1a-4d1e-9a57-0d2f9c1d2e3f");
    EXPECT_EQ(e.value("GUARDIAN_VERDICT", ""), "critical");
    EXPECT_EQ(e.value("_TRANSPORT", ""), "journal");
    // A value with a newline travels intact (journalctl -o json prints it as
    // a string; it would be split or mangled by a text protocol).
    EXPECT_EQ(e.value("GUARDIAN_HOOK_OUTPUT", ""), "line one\nline two");
}

// systemd/guardian.catalog: entries "-- <id>", header lines "Key: value",
// a blank line, then the text.
struct CatalogEntry {
    std::string id;
    std::multimap<std::string, std::string> headers;
    std::string body;
};

std::vector<CatalogEntry> parse_catalog(const std::string& text) {
    std::vector<CatalogEntry> entries;
    std::istringstream in(text);
    bool in_headers = false;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("-- ")) {
            entries.push_back({line.substr(3), {}, {}});
            in_headers = true;
        } else if (entries.empty()) {
            EXPECT_TRUE(line.empty() || line.starts_with("#")) << "before first entry: " << line;
        } else if (in_headers && line.empty()) {
            in_headers = false;
        } else if (in_headers) {
            const auto colon = line.find(": ");
            EXPECT_NE(colon, std::string::npos) << entries.back().id << ": bad header " << line;
            if (colon != std::string::npos)
                entries.back().headers.emplace(line.substr(0, colon), line.substr(colon + 2));
        } else {
            entries.back().body += line + "\n";
        }
    }
    return entries;
}

TEST(JournalCatalog, OneEntryPerMessageIdAndNoOthers) {
    const std::string text = read_file(test::source_dir() / "systemd/guardian.catalog");
    ASSERT_FALSE(text.empty());
    const auto entries = parse_catalog(text);

    std::multiset<std::string> catalog_ids;
    for (const auto& e : entries) {
        catalog_ids.insert(e.id);
        EXPECT_EQ(e.id.size(), 32u) << e.id;
        EXPECT_EQ(e.id.find_first_not_of("0123456789abcdef"), std::string::npos) << e.id;
        EXPECT_EQ(e.headers.count("Subject"), 1u) << e.id;
        EXPECT_EQ(e.headers.count("Defined-By"), 1u) << e.id;
        EXPECT_GE(e.headers.count("Documentation"), 1u) << e.id;
        EXPECT_GT(e.body.size(), 80u) << e.id << ": the text must tell the operator what to do";
    }
    std::set<std::string> code_ids;
    for (const auto& [name, id] : message_id::all) {
        EXPECT_TRUE(code_ids.insert(std::string(id)).second) << "duplicate id for " << name;
        EXPECT_EQ(catalog_ids.count(std::string(id)), 1u) << name << " " << id;
    }
    for (const auto& id : catalog_ids)
        EXPECT_TRUE(code_ids.contains(id)) << "catalog entry without an id in the code: " << id;
}

// journalctl compiles the catalog into its binary database exactly as
// `journalctl --update-catalog` does at package installation.
TEST(JournalCatalog, JournalctlCompilesIt) {
    if (run_command("command -v journalctl").exit_code != 0)
        GTEST_SKIP() << "journalctl is not installed";
    TempDir root;
    fs::create_directories(root.path() / "usr/lib/systemd/catalog");
    fs::copy_file(test::source_dir() / "systemd/guardian.catalog",
                  root.path() / "usr/lib/systemd/catalog/guardian.catalog");
    auto r = run_command("journalctl --root=" + root.path().string() + " --update-catalog");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run_command("journalctl --root=" + root.path().string() + " --list-catalog");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& [name, id] : message_id::all)
        EXPECT_NE(r.out.find(std::string(id) + " guardian: "), std::string::npos) << name;
}

} // namespace
} // namespace guardian::journal

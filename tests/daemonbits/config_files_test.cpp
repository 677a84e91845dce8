// Loading configuration from a fake /etc under SystemRoot, and the shipped
// data/guardian.conf.
#include "guardian/config/config_files.hpp"

#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace guardian {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::TempDir;

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

TEST(ConfigFiles, NothingThereMeansDefaults) {
    TempDir tmp;
    auto r = load_config(SystemRoot(tmp.path().string()));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->config, Config{});
}

TEST(ConfigFiles, DropInsApplyInLexicalOrderAfterTheMainFile) {
    TempDir tmp;
    const fs::path etc = tmp.path() / "etc/guardian";
    write(etc / "guardian.conf", "policy = observe\nreboot = orderly\nhook_timeout = 10s\n");
    write(etc / "conf.d/20-b.conf", "hook_timeout = 20s\n");
    write(etc / "conf.d/10-a.conf", "hook_timeout = 15s\nreboot = none\n");
    write(etc / "conf.d/9-c.conf", "policy = protect\n"); // '9' sorts after '2'
    // Not drop-ins: wrong suffix, dotfile, package leftover, directory.
    write(etc / "conf.d/30-x.conf.dpkg-old", "bogus = 1\n");
    write(etc / "conf.d/.40-hidden.conf", "bogus = 1\n");
    write(etc / "conf.d/50-notes.txt", "bogus = 1\n");
    fs::create_directories(etc / "conf.d/60-dir.conf");
    // A symlink to a regular file counts.
    write(tmp.path() / "elsewhere/site.conf", "freeze_timeout = 5m\n");
    fs::create_symlink(tmp.path() / "elsewhere/site.conf", etc / "conf.d/70-site.conf");

    const SystemRoot root(tmp.path().string());
    auto sources = read_config_sources(root);
    ASSERT_TRUE(sources.ok()) << sources.error().message;
    std::vector<std::string> names;
    for (const auto& s : *sources)
        names.push_back(fs::path(s.path).filename().string());
    EXPECT_EQ(names, (std::vector<std::string>{"guardian.conf", "10-a.conf", "20-b.conf",
                                               "70-site.conf", "9-c.conf"}));

    auto r = load_config(root);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->config.hook_timeout, 20s);
    EXPECT_EQ(r->config.reboot, RebootMode::none);
    EXPECT_EQ(r->config.policy, Policy::protect);
    EXPECT_EQ(r->config.freeze_timeout, 5min);
    EXPECT_EQ(r->origins.at("policy").path, (etc / "conf.d/9-c.conf").string());
    EXPECT_EQ(r->origins.at("reboot").line, 2u);
}

TEST(ConfigFiles, ErrorsNameTheFileUnderTheRoot) {
    TempDir tmp;
    const fs::path etc = tmp.path() / "etc/guardian";
    write(etc / "guardian.conf", "# ok\npolicy = protect\n");
    write(etc / "conf.d/50-bad.conf", "\nfreeze_timeout = forever\n");
    auto r = load_config(SystemRoot(tmp.path().string()));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, (etc / "conf.d/50-bad.conf").string() +
                                     ":2: bad value 'forever' for 'freeze_timeout': expected a "
                                     "duration from 1s to 1h (e.g. 90s, 5m)");
}

TEST(ConfigFiles, MainFileThatIsADirectoryIsAnError) {
    TempDir tmp;
    fs::create_directories(tmp.path() / "etc/guardian/guardian.conf");
    auto r = load_config(SystemRoot(tmp.path().string()));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos);
}

// data/guardian.conf is installed as /etc/guardian/guardian.conf: parsed as
// shipped it gives the defaults, it names every key exactly once as a
// commented-out `#key = default` line
// (`#skip =` for an empty default), and with those lines uncommented it
// still gives exactly the defaults (so the documentation cannot drift).
TEST(ShippedConfig, DocumentsEveryKeyWithItsDefault) {
    const fs::path shipped = test::source_dir() / "data/guardian.conf";
    std::ifstream in(shipped);
    ASSERT_TRUE(in) << shipped;
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();

    const std::vector<ConfigSource> as_shipped = {{shipped.string(), text}};
    auto r = parse_config(as_shipped);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->config, Config{});

    std::string uncommented;
    std::multiset<std::string> seen;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        const auto eq = line.find(" =");
        if (line.starts_with("#") && eq != std::string::npos && line.find(' ') == eq &&
            find_config_key(line.substr(1, eq - 1)) != nullptr) {
            seen.insert(line.substr(1, eq - 1));
            line = line.substr(1);
        }
        uncommented += line + "\n";
    }
    for (const auto& k : config_keys())
        EXPECT_EQ(seen.count(std::string(k.name)), 1u) << k.name;
    EXPECT_EQ(seen.size(), config_keys().size());

    const std::vector<ConfigSource> active = {{shipped.string(), uncommented}};
    r = parse_config(active);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->config, Config{});
    for (const auto& k : config_keys())
        EXPECT_FALSE(r->origins.at(std::string(k.name)).path.empty()) << k.name;
}

} // namespace
} // namespace guardian

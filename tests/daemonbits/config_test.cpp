// The pure configuration parser: every default pinned, every error form,
// ordering of sources, rendering.
#include "guardian/core/config.hpp"

#include <gtest/gtest.h>

#include <set>

namespace guardian {
namespace {

using namespace std::chrono_literals;

Result<EffectiveConfig> parse(std::string text, std::string path = "/etc/guardian/guardian.conf") {
    const std::vector<ConfigSource> sources = {{std::move(path), std::move(text)}};
    return parse_config(sources);
}

std::string error_of(std::string text) {
    auto r = parse(std::move(text));
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().message;
}

// The full default table, pinned. Changing a default is a user-visible
// change: it must be made here, in config_keys.cpp and in data/guardian.conf.
TEST(ConfigDefaults, FullTablePinned) {
    const Config c = default_config().config;
    EXPECT_EQ(c.policy, Policy::protect);
    EXPECT_EQ(c.reboot, RebootMode::immediate);
    EXPECT_TRUE(c.stop_writes);
    EXPECT_TRUE(c.force_fsck);
    EXPECT_EQ(c.guard, (TargetList{true, {}}));
    EXPECT_EQ(c.skip, (TargetList{false, {}}));
    EXPECT_EQ(c.freeze_timeout, 60s);
    EXPECT_EQ(c.kmsg_window, 10min);
    EXPECT_TRUE(c.verify_live_checksums);
    EXPECT_EQ(c.baseline_refresh, 10min);
    EXPECT_EQ(c.heartbeat, 10min);
    EXPECT_EQ(c.hook_dir, "/etc/guardian/hooks.d");
    EXPECT_EQ(c.hook_timeout, 30s);
    EXPECT_EQ(c.risk_table, "/usr/share/guardian/kernel-risk.json");
    EXPECT_EQ(c.log_level, Priority::info);

    // The struct's own initialisers agree with the table.
    EXPECT_EQ(Config{}, c);

    // And the table has exactly these keys, in this order.
    std::vector<std::string> names;
    for (const auto& k : config_keys())
        names.emplace_back(k.name);
    EXPECT_EQ(names,
              (std::vector<std::string>{"policy", "reboot", "stop_writes", "force_fsck", "guard",
                                        "skip", "freeze_timeout", "kmsg_window",
                                        "verify_live_checksums", "baseline_refresh", "heartbeat",
                                        "hook_dir", "hook_timeout", "risk_table", "log_level"}));
}

TEST(ConfigDefaults, EveryKeyDocumentedAndDefaultOriginIsDefault) {
    const auto eff = default_config();
    for (const auto& k : config_keys()) {
        EXPECT_FALSE(k.help.empty()) << k.name;
        EXPECT_FALSE(k.expected.empty()) << k.name;
        ASSERT_TRUE(eff.origins.contains(k.name)) << k.name;
        EXPECT_TRUE(eff.origins.at(std::string(k.name)).path.empty());
        // The default text is already in rendered (canonical) form.
        EXPECT_EQ(k.render(eff.config), k.fallback) << k.name;
    }
}

TEST(ConfigParse, EmptyAndCommentsGiveDefaults) {
    auto r = parse("# a comment\n\n   # indented comment\n\t\n");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->config, Config{});
}

TEST(ConfigParse, EveryKeyAcceptsAValue) {
    auto r =
        parse("policy = observe\nreboot=orderly\n  stop_writes   =   no  \nforce_fsck = off\n"
              "guard = /srv, /dev/xvdb1 auto\nskip = /var/cache\nfreeze_timeout = 90s\n"
              "kmsg_window = 0s\nverify_live_checksums = false\nbaseline_refresh = 1h\n"
              "hook_dir = /opt/hooks\nhook_timeout = 2500ms\nrisk_table = /etc/guardian/risk.json\n"
              "log_level = debug\r\n");
    ASSERT_TRUE(r.ok()) << r.error().message;
    const Config& c = r->config;
    EXPECT_EQ(c.policy, Policy::observe);
    EXPECT_EQ(c.reboot, RebootMode::orderly);
    EXPECT_FALSE(c.stop_writes);
    EXPECT_FALSE(c.force_fsck);
    EXPECT_EQ(c.guard, (TargetList{true, {"/srv", "/dev/xvdb1"}}));
    EXPECT_EQ(c.skip, (TargetList{false, {"/var/cache"}}));
    EXPECT_EQ(c.freeze_timeout, 90s);
    EXPECT_EQ(c.kmsg_window, 0s);
    EXPECT_FALSE(c.verify_live_checksums);
    EXPECT_EQ(c.baseline_refresh, 1h);
    EXPECT_EQ(c.hook_dir, "/opt/hooks");
    EXPECT_EQ(c.hook_timeout, 2500ms);
    EXPECT_EQ(c.risk_table, "/etc/guardian/risk.json");
    EXPECT_EQ(c.log_level, Priority::debug);
    EXPECT_EQ(r->origins.at("hook_timeout").line, 12u);
    EXPECT_EQ(r->origins.at("hook_timeout").path, "/etc/guardian/guardian.conf");
}

TEST(ConfigErrors, UnknownOption) {
    EXPECT_EQ(error_of("policy = protect\nfreeze = 10s\n"),
              "/etc/guardian/guardian.conf:2: unknown option 'freeze'");
}

TEST(ConfigErrors, BadValueFormsNameTheExpectation) {
    EXPECT_EQ(error_of("policy = panic"), "/etc/guardian/guardian.conf:1: bad value 'panic' for "
                                          "'policy': expected one of protect, observe");
    EXPECT_EQ(error_of("reboot = later"), "/etc/guardian/guardian.conf:1: bad value 'later' for "
                                          "'reboot': expected one of immediate, orderly, none");
    EXPECT_EQ(error_of("stop_writes = maybe"),
              "/etc/guardian/guardian.conf:1: bad value 'maybe' for 'stop_writes': expected yes "
              "or no");
    EXPECT_EQ(error_of("guard = srv"),
              "/etc/guardian/guardian.conf:1: bad value 'srv' for 'guard': expected 'auto' "
              "and/or absolute mount points or /dev/ paths");
    EXPECT_EQ(error_of("guard ="), "/etc/guardian/guardian.conf:1: bad value '' for 'guard': "
                                   "expected 'auto' and/or absolute mount points or /dev/ paths");
    EXPECT_EQ(error_of("skip = auto"),
              "/etc/guardian/guardian.conf:1: bad value 'auto' for 'skip': expected absolute "
              "mount points or /dev/ paths (or nothing)");
    EXPECT_EQ(error_of("freeze_timeout = 60"),
              "/etc/guardian/guardian.conf:1: bad value '60' for 'freeze_timeout': expected a "
              "duration from 1s to 1h (e.g. 90s, 5m)");
    EXPECT_EQ(error_of("hook_dir = hooks.d"), "/etc/guardian/guardian.conf:1: bad value "
                                              "'hooks.d' for 'hook_dir': expected an absolute "
                                              "path");
    EXPECT_EQ(error_of("log_level = chatty"),
              "/etc/guardian/guardian.conf:1: bad value 'chatty' for 'log_level': expected one "
              "of err, warning, notice, info, debug");
}

TEST(ConfigErrors, DurationRanges) {
    EXPECT_FALSE(parse("freeze_timeout = 999ms").ok());
    EXPECT_TRUE(parse("freeze_timeout = 1000ms").ok());
    EXPECT_TRUE(parse("freeze_timeout = 1h").ok());
    EXPECT_FALSE(parse("freeze_timeout = 61m").ok());
    EXPECT_FALSE(parse("baseline_refresh = 9s").ok());
    EXPECT_FALSE(parse("kmsg_window = 25h").ok());
    EXPECT_TRUE(parse("kmsg_window = 0").ok());
    EXPECT_EQ(error_of("freeze_timeout = 0"), "/etc/guardian/guardian.conf:1: bad value '0' for "
                                              "'freeze_timeout': expected a duration from 1s to "
                                              "1h (e.g. 90s, 5m)");
    EXPECT_FALSE(parse("hook_timeout = 1.5s").ok());
    EXPECT_FALSE(parse("hook_timeout = -5s").ok());
    EXPECT_FALSE(parse("hook_timeout = 5 s").ok());
    EXPECT_FALSE(parse("hook_timeout = 9999999999h").ok()); // would overflow
}

TEST(ConfigErrors, SyntaxErrors) {
    EXPECT_EQ(error_of("just words"), "/etc/guardian/guardian.conf:1: expected 'key = value'");
    EXPECT_EQ(error_of("= protect"), "/etc/guardian/guardian.conf:1: expected 'key = value'");
    EXPECT_EQ(error_of("[daemon]\npolicy = observe"),
              "/etc/guardian/guardian.conf:1: sections are not used; expected 'key = value'");
}

TEST(ConfigErrors, EveryBadLineOfEverySourceIsReported) {
    const std::vector<ConfigSource> sources = {
        {"/a.conf", "policy = observe\nbogus = 1\n"},
        {"/b.conf", "\n\nreboot = soon\n"},
    };
    auto r = parse_config(sources);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "/a.conf:2: unknown option 'bogus'\n"
                                 "/b.conf:3: bad value 'soon' for 'reboot': expected one of "
                                 "immediate, orderly, none");
}

TEST(ConfigParse, LaterSourcesAndLaterLinesWin) {
    const std::vector<ConfigSource> sources = {
        {"/main.conf", "policy = observe\nhook_timeout = 5s\nhook_timeout = 6s\n"},
        {"/conf.d/10-a.conf", "policy = protect\nguard = /srv\n"},
        {"/conf.d/20-b.conf", "guard = auto\n"},
    };
    auto r = parse_config(sources);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->config.policy, Policy::protect);
    EXPECT_EQ(r->config.hook_timeout, 6s);
    EXPECT_EQ(r->config.guard, (TargetList{true, {}})); // replaced, not appended
    EXPECT_EQ(r->origins.at("policy").path, "/conf.d/10-a.conf");
    EXPECT_EQ(r->origins.at("hook_timeout").line, 3u);
    EXPECT_EQ(r->origins.at("guard").path, "/conf.d/20-b.conf");
    EXPECT_TRUE(r->origins.at("reboot").path.empty());
}

TEST(ConfigRender, ShowsOriginsAndParsesBack) {
    const std::vector<ConfigSource> sources = {{"/etc/guardian/conf.d/50-site.conf",
                                                "reboot = none\nskip = /tmp /var/tmp\n"
                                                "freeze_timeout = 120s\nhook_timeout = 1500ms\n"}};
    auto r = parse_config(sources);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const std::string text = render_config(*r);
    EXPECT_NE(text.find("reboot = none"), std::string::npos) << text;
    EXPECT_NE(text.find("# /etc/guardian/conf.d/50-site.conf:1"), std::string::npos) << text;
    EXPECT_NE(text.find("freeze_timeout = 2m"), std::string::npos) << text;
    EXPECT_NE(text.find("hook_timeout = 1500ms"), std::string::npos) << text;
    EXPECT_NE(text.find("policy = protect"), std::string::npos) << text;
    EXPECT_NE(text.find("# default"), std::string::npos) << text;

    // Rendered output is valid configuration (the origin is a comment only
    // on its own line, so strip it) and parses back to the same values.
    std::string stripped;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl - pos);
        line = line.substr(0, line.find("  #"));
        stripped += line + "\n";
        pos = nl + 1;
    }
    const std::vector<ConfigSource> again = {{"/rendered", stripped}};
    auto back = parse_config(again);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->config, r->config);
}

TEST(ConfigDuration, ParseAndFormat) {
    Duration d{};
    ASSERT_TRUE(parse_duration("500ms", d));
    EXPECT_EQ(d, 500ms);
    ASSERT_TRUE(parse_duration("10m", d));
    EXPECT_EQ(d, 10min);
    ASSERT_TRUE(parse_duration("2h", d));
    EXPECT_EQ(d, 2h);
    EXPECT_FALSE(parse_duration("", d));
    EXPECT_FALSE(parse_duration("s", d));
    EXPECT_FALSE(parse_duration("10", d));
    ASSERT_TRUE(parse_duration("0", d));
    EXPECT_EQ(d, 0ms);
    EXPECT_FALSE(parse_duration("10min", d));
    EXPECT_EQ(format_duration(60s), "1m");
    EXPECT_EQ(format_duration(90s), "90s");
    EXPECT_EQ(format_duration(0s), "0s");
    EXPECT_EQ(format_duration(1500ms), "1500ms");
    EXPECT_EQ(format_duration(2h), "2h");
}

} // namespace
} // namespace guardian

// The kernel-trouble values of data/guardian/ (core/guest_contract.hpp) and
// their state.json form (core/trouble_state.hpp): round trips, bounds, and
// hostile text that must not break the words apart.
#include "guardian/core/guest_contract.hpp"
#include "guardian/core/state_file.hpp"
#include "guardian/core/trouble_state.hpp"

#include <gtest/gtest.h>

namespace guardian::contract {
namespace {

TEST(TroubleContract, CountsRoundTripAndNone) {
    EXPECT_EQ(encode_trouble_counts({}), "none");
    EXPECT_TRUE(decode_trouble_counts("none").kinds.empty());
    EXPECT_TRUE(decode_trouble_counts("none").valid);
    TroubleCountsNode c;
    c.kinds = {{"warning", 3}, {"oops", 0}, {"soft_lockup", 1}};
    c.suppressed = 5;
    c.forged = 2;
    const std::string text = encode_trouble_counts(c);
    EXPECT_EQ(text, "warning=3 soft_lockup=1 suppressed=5 forged=2");
    const auto back = decode_trouble_counts(text);
    EXPECT_TRUE(back.valid);
    EXPECT_EQ(back.kinds, (std::vector<std::pair<std::string, std::uint64_t>>{{"warning", 3},
                                                                              {"soft_lockup", 1}}));
    EXPECT_EQ(back.suppressed, 5u);
    EXPECT_EQ(back.forged, 2u);
    EXPECT_FALSE(decode_trouble_counts("warning=x oops=1").valid);
    EXPECT_FALSE(decode_trouble_counts("").valid);
}

TEST(TroubleContract, LastKeepsTheNewestFourAndHostileFunctionNames) {
    std::vector<TroubleNote> notes;
    for (int i = 0; i < 6; ++i)
        notes.push_back({1'796'548'873 + i, "rcu_stall", "e9365ca189a16277",
                         i == 5 ? "evil; name=x with spaces" : "xas_descend",
                         i % 2 ? "mm-large-folio-pagecache-livelock" : ""});
    const std::string text = encode_trouble_last(notes);
    EXPECT_LE(text.size(), k_max_trouble_value);
    const auto back = decode_trouble_last(text);
    ASSERT_EQ(back.size(), k_max_trouble_last);
    EXPECT_EQ(back.front().time, 1'796'548'875);
    EXPECT_EQ(back.front().known_bug, "");
    EXPECT_EQ(back[1].known_bug, "mm-large-folio-pagecache-livelock");
    EXPECT_EQ(back.back().function, "evil__name_x_with_spaces");
    EXPECT_EQ(back.back().kind, "rcu_stall");
    EXPECT_EQ(encode_trouble_last({}), "none");
    EXPECT_TRUE(decode_trouble_last("none").empty());
    EXPECT_TRUE(decode_trouble_last("garbage; 2026-01-01T00:00:00Z a b").empty());
}

TEST(TroubleContract, PreviousBootRoundTrip) {
    EXPECT_EQ(encode_previous_boot(std::nullopt), "none");
    EXPECT_FALSE(decode_previous_boot("none"));
    PreviousBootNode p;
    p.end = "watchdog";
    p.boot_id = "0123456789abcdef0123456789abcdef";
    p.release = "6.1.0-26-amd64";
    p.last_alive = 1'796'548'873;
    p.uptime = 3600;
    p.trouble_kind = "rcu_stall";
    p.signature = "e9365ca189a16277";
    p.function = "xas_descend";
    p.known_bug = "mm-large-folio-pagecache-livelock";
    const std::string text = encode_previous_boot(p);
    EXPECT_EQ(text, "end=watchdog boot=0123456789abcdef0123456789abcdef release=6.1.0-26-amd64 "
                    "last-alive=2026-12-06T09:21:13Z uptime=3600 trouble=rcu_stall "
                    "signature=e9365ca189a16277 function=xas_descend "
                    "known-bug=mm-large-folio-pagecache-livelock");
    EXPECT_EQ(decode_previous_boot(text), p);
    PreviousBootNode clean{"orderly", "ab", "5.10.0-30-amd64", 0, 10, "", "", "", ""};
    EXPECT_EQ(encode_previous_boot(clean), "end=orderly boot=ab release=5.10.0-30-amd64 uptime=10");
    EXPECT_EQ(decode_previous_boot(encode_previous_boot(clean)), clean);
}

TEST(TroubleContract, KnownBugsLeaveOutNotAffectedAndBound) {
    EXPECT_EQ(encode_known_bugs({}), "none");
    std::vector<KnownBugNote> bugs{{"mm-large-folio-pagecache-livelock", "affected", "6.1.113"},
                                   {"xen-netfront-null-sring", "not-affected", "6.1"},
                                   {"xen-blkfront-xsa396-disabled", "latent", ""}};
    const std::string text = encode_known_bugs(bugs);
    EXPECT_EQ(text, "mm-large-folio-pagecache-livelock=affected@6.1.113 "
                    "xen-blkfront-xsa396-disabled=latent");
    const auto back = decode_known_bugs(text);
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[0], bugs[0]);
    EXPECT_EQ(back[1], bugs[2]);
    std::vector<KnownBugNote> many(40, {"some-long-bug-id-that-repeats-itself", "unknown", "x"});
    EXPECT_EQ(decode_known_bugs(encode_known_bugs(many)).size(), k_max_known_bugs);
}

TEST(TroubleContract, ReportDecoderNamesTheNewNodes) {
    const auto r = decode_report({{"version", "0.1.0"},
                                  {"trouble-counts", "oops=1"},
                                  {"trouble-last", "none"},
                                  {"previous-boot", "none"},
                                  {"known-bugs", "none"}});
    EXPECT_EQ(r.trouble_counts, "oops=1");
    EXPECT_EQ(r.previous_boot, "none");
    EXPECT_TRUE(r.unknown.empty());
}

} // namespace
} // namespace guardian::contract

namespace guardian {
namespace {

TEST(TroubleState, StateJsonRoundTripAndOldFilesHaveNone) {
    StateSnapshot s;
    s.state = "watching";
    TroubleSnapshot t;
    t.counts.seen[static_cast<std::size_t>(TroubleKind::warning)] = 3;
    t.counts.suppressed[static_cast<std::size_t>(TroubleKind::warning)] = 1;
    t.counts.by_signature.push_back({TroubleKind::warning, "0123456789abcdef", "foo", 3});
    t.counts.forged = 2;
    t.last.push_back({100, "warning", "0123456789abcdef", "foo", ""});
    BugVerdict b;
    b.bug_id = "mm-large-folio-pagecache-livelock";
    b.exposure = BugExposure::latent;
    b.fixed_in = "6.1.113";
    b.unmet_conditions = {"fs:xfs"};
    t.known_bugs.push_back(b);
    BootEntry prev;
    prev.boot_id = "ab";
    prev.kernel_release = "6.1.0-26-amd64";
    prev.end = BootEnd::panic;
    prev.trouble_kind = "oops";
    t.previous_boot = prev;
    t.kmsg_method = "dev-kmsg";
    s.kernel_trouble = t;
    s.parts = {{"restore watch", false, "not a Xen guest"}, {"boot history", true, "x"}};
    const auto d = decode_state(state_to_json(s));
    ASSERT_TRUE(d.kernel_trouble);
    EXPECT_EQ(d.kernel_trouble->counts.seen, t.counts.seen);
    EXPECT_EQ(d.kernel_trouble->counts.suppressed, t.counts.suppressed);
    EXPECT_EQ(d.kernel_trouble->counts.forged, 2u);
    ASSERT_EQ(d.kernel_trouble->counts.by_signature.size(), 1u);
    EXPECT_EQ(d.kernel_trouble->counts.by_signature[0].count, 3u);
    EXPECT_EQ(d.kernel_trouble->last, t.last);
    ASSERT_EQ(d.kernel_trouble->known_bugs.size(), 1u);
    EXPECT_EQ(d.kernel_trouble->known_bugs[0].exposure, BugExposure::latent);
    EXPECT_EQ(d.kernel_trouble->known_bugs[0].unmet_conditions, b.unmet_conditions);
    EXPECT_EQ(d.kernel_trouble->previous_boot, prev);
    EXPECT_EQ(d.kernel_trouble->kmsg_method, "dev-kmsg");
    EXPECT_EQ(d.parts, s.parts);

    StateSnapshot old;
    old.state = "watching";
    const auto od = decode_state(state_to_json(old));
    EXPECT_FALSE(od.kernel_trouble);
    EXPECT_TRUE(od.parts.empty());
    // A foreign value never throws.
    const auto junk = decode_state(
        nlohmann::json{{"kernel_trouble", {{"seen", 3}, {"last", "x"}}}, {"parts", {1, 2}}});
    ASSERT_TRUE(junk.kernel_trouble);
    EXPECT_TRUE(junk.parts.empty());
}

TEST(TroubleState, ReportViewsOfTheSnapshot) {
    TroubleCounts c;
    c.seen[static_cast<std::size_t>(TroubleKind::oops)] = 2;
    c.suppressed[static_cast<std::size_t>(TroubleKind::oops)] = 1;
    c.forged = 4;
    EXPECT_EQ(contract::encode_trouble_counts(counts_node(c)), "oops=2 suppressed=1 forged=4");
    BugVerdict a{"a", BugExposure::affected, "6.1.113", {}, ""};
    BugVerdict n{"n", BugExposure::not_affected, "6.1", {}, ""};
    EXPECT_EQ(contract::encode_known_bugs(known_bug_notes({a, n})), "a=affected@6.1.113");
    BugVerdict nofix{"b", BugExposure::latent, "no fix known", {}, ""};
    EXPECT_EQ(contract::encode_known_bugs(known_bug_notes({nofix})), "b=latent");
    BootEntry prev;
    prev.boot_id = "ab";
    prev.end = BootEnd::no_trace;
    prev.last_alive_us = 5'000'000;
    prev.uptime_us = 7'000'000;
    const auto node = previous_boot_node(prev);
    ASSERT_TRUE(node);
    EXPECT_EQ(node->end, "no-trace");
    EXPECT_EQ(node->last_alive, 5);
    EXPECT_EQ(node->uptime, 7);
    EXPECT_FALSE(previous_boot_node(std::nullopt));
}

TEST(BootHistoryDistribution, OsReleaseNames) {
    EXPECT_EQ(distribution_from_os_release("NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian "
                                           "GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n"),
              "Debian GNU/Linux 12 (bookworm)");
    EXPECT_EQ(distribution_from_os_release("NAME='CentOS Linux'\nVERSION_ID=7\n"),
              "CentOS Linux 7");
    EXPECT_EQ(distribution_from_os_release(""), "");
}

} // namespace
} // namespace guardian

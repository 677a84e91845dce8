// The Prometheus text formatter (guardian/core/prometheus.*): escaping of
// untrusted label values, value formatting, the StateSet pattern, and the
// exact text for a fixed input.
#include "guardian/core/prometheus.hpp"
#include "tests/support/exposition_check.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

namespace guardian::prometheus {
namespace {

TEST(PrometheusEscape, QuotesBackslashesAndNewlines) {
    EXPECT_EQ(escape_label_value("plain-name_1.2"), "plain-name_1.2");
    EXPECT_EQ(escape_label_value(R"(a"b\c)"), R"(a\"b\\c)");
    EXPECT_EQ(escape_label_value("line1\nline2"), R"(line1\nline2)");
    EXPECT_EQ(escape_label_value(""), "");
}

TEST(PrometheusEscape, ControlCharactersAndInvalidUtf8BecomeQuestionMarks) {
    EXPECT_EQ(escape_label_value(std::string("a\0b", 3)), "a?b");
    EXPECT_EQ(escape_label_value("tab\there\r\x7f"), "tab?here??");
    EXPECT_EQ(escape_label_value("\xff\xfe"), "??");
    EXPECT_EQ(escape_label_value("\xc3"), "?"); // truncated sequence
    EXPECT_EQ(escape_label_value("a\xc2\x9b"
                                 "b\xe2\x80\xae"
                                 "c\xc3\xa9"),
              "a?b?c\xc3\xa9");                                  // C1, RLO
    EXPECT_EQ(escape_label_value("\xc0\xaf"), "??");             // overlong '/'
    EXPECT_EQ(escape_label_value("\xed\xa0\x80"), "???");        // surrogate
    EXPECT_EQ(escape_label_value("caf\xc3\xa9"), "caf\xc3\xa9"); // valid UTF-8 kept
    EXPECT_EQ(escape_label_value("\xf0\x9f\x92\xbe"), "\xf0\x9f\x92\xbe");
}

TEST(PrometheusEscape, LongValuesAreCutOnACharacterBoundary) {
    const std::string cut = escape_label_value(std::string(1000, 'x'));
    EXPECT_EQ(cut.size(), k_max_label_value);
    EXPECT_EQ(cut.substr(cut.size() - 3), "...");
    std::string accents;
    for (int i = 0; i < 300; ++i)
        accents += "\xc3\xa9";
    const std::string cut2 = escape_label_value(accents);
    EXPECT_LE(cut2.size(), k_max_label_value);
    EXPECT_EQ(cut2.substr(cut2.size() - 5), "\xc3\xa9...");
    // An escape is never split either.
    const std::string quotes = escape_label_value(std::string(300, '"'));
    EXPECT_LE(quotes.size(), k_max_label_value);
    EXPECT_EQ(quotes.substr(quotes.size() - 5), "\\\"...");
}

TEST(PrometheusEscape, HelpEscapesOnlyBackslashAndNewline) {
    EXPECT_EQ(escape_help("a \"b\" \\ c\nd"), "a \"b\" \\\\ c\\nd");
}

TEST(PrometheusValue, IntegersNaNAndInfinities) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(1), "1");
    EXPECT_EQ(format_value(-3), "-3");
    EXPECT_EQ(format_value(1795280405), "1795280405");
    EXPECT_EQ(format_value(0.25), "0.25");
    EXPECT_EQ(format_value(std::nan("")), "NaN");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(format_value(1e300), "1e+300");
}

TEST(PrometheusNames, ValidAndInvalid) {
    EXPECT_TRUE(is_valid_metric_name("guardian_state"));
    EXPECT_TRUE(is_valid_metric_name("job:rate5m"));
    EXPECT_FALSE(is_valid_metric_name("1abc"));
    EXPECT_FALSE(is_valid_metric_name("a-b"));
    EXPECT_FALSE(is_valid_metric_name(""));
    EXPECT_TRUE(is_valid_label_name("domid"));
    EXPECT_FALSE(is_valid_label_name("a:b"));
    EXPECT_FALSE(is_valid_label_name("__name__"));
}

TEST(PrometheusStateSet, OneSeriesPerStateAndOnlyTheCurrentIsOne) {
    MetricFamily f{"guardian_suspend_safety", "h", "gauge", {}};
    add_state_set(f, {{"domid", "3"}}, {"safe", "unsafe", "unknown"}, "unsafe");
    ASSERT_EQ(f.samples.size(), 3U);
    EXPECT_EQ(f.samples[0].labels, (Labels{{"domid", "3"}, {"guardian_suspend_safety", "safe"}}));
    EXPECT_EQ(f.samples[0].value, 0);
    EXPECT_EQ(f.samples[1].value, 1);
    EXPECT_EQ(f.samples[2].value, 0);
    MetricFamily g{"x", "h", "gauge", {}};
    add_state_set(g, {}, {"a", "b"}, "not-a-state");
    EXPECT_EQ(g.samples[0].value + g.samples[1].value, 0);
}

TEST(PrometheusRender, ExactTextForAFixedInput) {
    std::vector<MetricFamily> fams;
    fams.push_back({"guardian_present", "1 if\nguardian runs.", "gauge", {}});
    fams[0].samples.push_back({{{"domid", "3"}, {"name", "web \"1\""}}, 1});
    fams[0].samples.push_back({{{"domid", "4"}, {"name", "db\\2"}}, 0});
    fams.push_back({"guardian_empty", "left out", "gauge", {}});
    fams.push_back({"guardian_host_domains", "Domains.", "gauge", {{{}, 2}}});
    const std::string text = render(fams);
    EXPECT_EQ(text, "# HELP guardian_present 1 if\\nguardian runs.\n"
                    "# TYPE guardian_present gauge\n"
                    "guardian_present{domid=\"3\",name=\"web \\\"1\\\"\"} 1\n"
                    "guardian_present{domid=\"4\",name=\"db\\\\2\"} 0\n"
                    "# HELP guardian_host_domains Domains.\n"
                    "# TYPE guardian_host_domains gauge\n"
                    "guardian_host_domains 2\n");
    const auto ex = test::check_exposition(text);
    EXPECT_TRUE(ex.errors.empty()) << ex.errors.front();
    EXPECT_EQ(ex.at(R"(guardian_present{domid="3",name="web "1""})"), 1);
    EXPECT_EQ(ex.at(R"(guardian_present{domid="4",name="db\2"})"), 0);
}

TEST(PrometheusRender, RepeatedSeriesAreDroppedNotWritten) {
    MetricFamily f{"guardian_filesystem_findings", "h", "gauge", {}};
    f.samples.push_back({{{"device", "/dev/xvda1"}}, 3});
    f.samples.push_back({{{"device", "/dev/xvda1"}}, 5});
    // Different raw values that escape to the same text are one series too.
    f.samples.push_back({{{"device", std::string("a\x01")}}, 1});
    f.samples.push_back({{{"device", std::string("a\x02")}}, 2});
    const std::string text = render({f});
    const auto ex = test::check_exposition(text);
    EXPECT_TRUE(ex.errors.empty()) << text;
    EXPECT_EQ(ex.samples.size(), 2U);
    EXPECT_EQ(ex.at(R"(guardian_filesystem_findings{device="/dev/xvda1"})"), 3);
}

TEST(PrometheusRender, ProgrammingErrorsThrow) {
    EXPECT_THROW((void)render({{"bad-name", "h", "gauge", {{{}, 1}}}}), std::logic_error);
    EXPECT_THROW((void)render({{"a", "h", "gauge", {{{}, 1}}}, {"a", "h", "gauge", {{{}, 1}}}}),
                 std::logic_error);
    EXPECT_THROW((void)render({{"a", "h", "gauge", {{{{"bad-label", "x"}}, 1}}}}),
                 std::logic_error);
    EXPECT_THROW((void)render({{"a", "h", "gauge", {{{{"l", "x"}, {"l", "y"}}, 1}}}}),
                 std::logic_error);
    EXPECT_THROW((void)render({{"a", "h", "histogram", {{{}, 1}}}}), std::logic_error);
}

TEST(PrometheusRender, RandomBytesNeverBreakTheFormat) {
    std::mt19937 rng(20261121); // fixed seed: the same strings every run
    MetricFamily f{"guardian_present", "h", "gauge", {}};
    for (int i = 0; i < 2000; ++i) {
        std::string junk(rng() % 300, '\0');
        for (auto& c : junk)
            c = static_cast<char>(rng() % 256);
        f.samples.push_back({{{"domid", std::to_string(i)}, {"name", junk}}, 1});
    }
    const auto ex = test::check_exposition(render({f}));
    EXPECT_TRUE(ex.errors.empty()) << ex.errors.front();
    EXPECT_EQ(ex.samples.size(), 2000U);
}

// The checker used by the end-to-end tests must itself reject broken text.
TEST(ExpositionCheck, RejectsWhatPrometheusRejects) {
    const auto bad = [](const std::string& t) { return !test::check_exposition(t).errors.empty(); };
    const std::string head = "# HELP a h\n# TYPE a gauge\n";
    EXPECT_FALSE(bad(head + "a{l=\"x\"} 1\n"));
    EXPECT_TRUE(bad("a 1\n"));                               // no HELP/TYPE
    EXPECT_TRUE(bad(head + "a{l=\"x\"} 1\na{l=\"x\"} 2\n")); // duplicate series
    EXPECT_TRUE(bad(head + "a{l=\"x} 1\n"));                 // unterminated value
    EXPECT_TRUE(bad(head + "a{l=\"\\q\"} 1\n"));             // bad escape
    EXPECT_TRUE(bad(head + "a one\n"));                      // bad value
    EXPECT_TRUE(bad(head + "a 1"));                          // no final newline
    EXPECT_TRUE(bad(head + "a 1\n# TYPE a gauge\n"));        // TYPE after samples
    EXPECT_TRUE(bad(head + "a 1\n# HELP b h\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n"));
}

} // namespace
} // namespace guardian::prometheus

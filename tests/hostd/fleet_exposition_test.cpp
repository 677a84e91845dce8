// The fleet's Prometheus side: the exposition guardian-host writes (bounded
// series, promtool's lint), the shipped rules (promtool check and its unit
// tests, data/prometheus/guardian-fleet.rules.test.yml) and the Grafana
// dashboard (its model, and every query names only series that exist).
#include "guardian/host/fleet_prometheus.hpp"

#include "tests/support/test_env.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace guardian;
using test::run_command;

namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool have_promtool() {
    return run_command("command -v promtool").exit_code == 0;
}

fleet::KernelComparison many_kernels(int n) {
    std::vector<fleet::Observation> obs;
    for (int i = 0; i < n; ++i)
        obs.push_back({"6.1.0-" + std::to_string(i) + "-amd64", "Debian 12",
                       "g" + std::to_string(i), static_cast<double>(1000 - i),
                       static_cast<std::uint64_t>(i % 3), static_cast<std::uint64_t>(i % 2)});
    return fleet::compare_kernels(obs);
}

std::set<std::string> family_names() {
    std::set<std::string> out;
    for (const auto& f : host::fleet_families(many_kernels(3)))
        out.insert(f.name);
    return out;
}

std::set<std::string> recorded_names() {
    std::set<std::string> out;
    const std::string rules =
        slurp(test::source_dir() / "data/prometheus/guardian-fleet.rules.yml");
    const std::regex record("- record: ([a-zA-Z_:][a-zA-Z0-9_:]*)");
    for (std::sregex_iterator it(rules.begin(), rules.end(), record), end; it != end; ++it)
        out.insert((*it)[1]);
    return out;
}

// The series names an expression refers to (guardian's own, by prefix).
std::set<std::string> series_in(const std::string& expr) {
    std::set<std::string> out;
    const std::regex name("[a-zA-Z_:]*guardian_[a-zA-Z0-9_:]*");
    for (std::sregex_iterator it(expr.begin(), expr.end(), name), end; it != end; ++it)
        out.insert(it->str());
    return out;
}

} // namespace

TEST(FleetExposition, KernelSeriesAreBoundedAndTheRestFolded) {
    const auto families = host::fleet_families(many_kernels(200), 50);
    std::size_t guests = 0;
    double days = 0;
    for (const auto& f : families) {
        if (f.name == "guardian_fleet_kernels_folded") {
            ASSERT_EQ(f.samples.size(), 1u);
            EXPECT_EQ(f.samples[0].value, 150);
            continue;
        }
        EXPECT_EQ(f.samples.size(), 51u) << f.name; // 50 kernels and "other"
        EXPECT_EQ(f.samples.back().labels[0].second, "other");
        if (f.name == "guardian_fleet_guests")
            for (const auto& s : f.samples)
                guests += static_cast<std::size_t>(s.value);
        if (f.name == "guardian_fleet_guest_seconds")
            for (const auto& s : f.samples)
                days += s.value / 86400;
    }
    EXPECT_EQ(guests, 200u); // nothing lost in the folding
    EXPECT_DOUBLE_EQ(days, 200 * 1000 - 199 * 100);
}

TEST(FleetExposition, PromtoolAcceptsIt) {
    if (!have_promtool())
        GTEST_SKIP()
            << "promtool not installed (tools/install-deps --test puts it in /usr/local/bin)";
    test::TempDir dir;
    const auto file = dir.path() / "fleet.prom";
    std::ofstream(file) << prometheus::render(host::fleet_families(many_kernels(80)));
    const auto r = run_command("promtool check metrics < " + file.string());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out + r.err, "") << "promtool lint findings";
}

TEST(FleetRules, PromtoolChecksAndItsUnitTestsPass) {
    if (!have_promtool())
        GTEST_SKIP()
            << "promtool not installed (tools/install-deps --test puts it in /usr/local/bin)";
    const auto dir = test::source_dir() / "data/prometheus";
    const auto check =
        run_command("promtool check rules " + (dir / "guardian-fleet.rules.yml").string());
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    // promtool resolves rule_files relative to the test file's directory.
    const auto unit =
        run_command("cd " + dir.string() + " && promtool test rules guardian-fleet.rules.test.yml");
    EXPECT_EQ(unit.exit_code, 0) << unit.out << unit.err;
}

TEST(FleetRules, RecordOnlyFromSeriesTheExpositionHas) {
    // The rules without their comment lines, which may speak of families.
    std::istringstream in(slurp(test::source_dir() / "data/prometheus/guardian-fleet.rules.yml"));
    std::string rules;
    for (std::string line; std::getline(in, line);)
        if (line.find_first_not_of(' ') == std::string::npos ||
            line[line.find_first_not_of(' ')] != '#')
            rules += line + "\n";
    const auto families = family_names();
    const auto recorded = recorded_names();
    ASSERT_GE(recorded.size(), 4u);
    for (const auto& name : series_in(rules)) {
        EXPECT_TRUE(families.count(name) || recorded.count(name))
            << name << " is neither written by guardian-host nor recorded";
    }
}

TEST(FleetDashboard, ItsModelHoldsAndEveryQueryNamesKnownSeries) {
    const auto dash =
        nlohmann::json::parse(slurp(test::source_dir() / "data/grafana/guardian-fleet.json"));
    for (const char* key : {"title", "uid", "schemaVersion", "panels", "templating", "time"})
        ASSERT_TRUE(dash.contains(key)) << key;
    EXPECT_TRUE(dash["schemaVersion"].is_number_integer());
    const auto families = family_names();
    const auto recorded = recorded_names();
    std::set<int> ids;
    std::size_t queries = 0;
    for (const auto& panel : dash["panels"]) {
        for (const char* key : {"id", "type", "title", "gridPos", "targets", "datasource"})
            ASSERT_TRUE(panel.contains(key)) << panel.dump() << " lacks " << key;
        EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << "duplicate panel id";
        const auto& pos = panel["gridPos"];
        EXPECT_LE(pos["x"].get<int>() + pos["w"].get<int>(), 24) << panel["title"];
        for (const auto& target : panel["targets"]) {
            const std::string expr = target["expr"];
            const auto names = series_in(expr);
            EXPECT_FALSE(names.empty()) << expr;
            for (const auto& n : names)
                EXPECT_TRUE(families.count(n) || recorded.count(n))
                    << panel["title"] << ": " << n << " does not exist";
            ++queries;
        }
    }
    EXPECT_GE(queries, 5u);
}

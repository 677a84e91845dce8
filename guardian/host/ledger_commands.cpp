#include "guardian/host/ledger_commands.hpp"

#include "guardian/core/guest_text.hpp"
#include "guardian/host/exposition_output.hpp"
#include "guardian/host/fleet_prometheus.hpp"
#include "guardian/util/time_format.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

namespace guardian::host {

namespace {

std::string when(double seconds) {
    return iso8601_utc(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::duration<double>(seconds))));
}

// A bound that may be infinite: JSON has no infinity, so null says "none".
nlohmann::json bound(double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

std::string interval(const fleet::Interval& i, const char* fmt_lo_hi) {
    return std::isfinite(i.hi) ? fmt::format(fmt::runtime(fmt_lo_hi), i.lo, i.hi)
                               : fmt::format("[{:.3g}, inf)", i.lo);
}

} // namespace

bool guest_written(std::string_view kind) noexcept {
    // hostile: guardian-hostd's own words about the guest (a flood), not the guest's.
    return kind != "domain-start" && kind != "domain-end" && kind != "hostile";
}

std::string render_history(const ledger::GuestSummary& guest,
                           const std::vector<ledger::TimelineEntry>& events) {
    std::string out = fmt::format(
        "guest {} ({}): first seen {}, last seen {}, {}\n", for_terminal(guest.key.name, 64),
        for_terminal(guest.key.uuid, 64), when(guest.first_seen), when(guest.last_seen),
        guest.running_domid ? fmt::format("running as domain {}", *guest.running_domid)
                            : std::string("not running"));
    if (guest.dropped_events > 0) {
        out +=
            fmt::format("({} older events dropped by the per-guest bound)\n", guest.dropped_events);
    }
    for (const auto& e : events) {
        std::string line = fmt::format("{}  {:<12}", when(e.at), e.kind);
        line += e.domid ? fmt::format(" dom {:<5}", *e.domid) : std::string(10, ' ');
        if (!e.boot_id.empty()) {
            line += " boot " + for_terminal(e.boot_id, 40);
        }
        if (!e.text.empty()) {
            // The guest's words, escaped: they cannot redraw the table.
            line += guest_written(e.kind) ? "  guest: " + for_terminal(e.text, 400)
                                          : "  " + for_terminal(e.text, 400);
        }
        out += line + "\n";
    }
    return out;
}

nlohmann::json history_json(const ledger::GuestSummary& guest,
                            const std::vector<ledger::TimelineEntry>& events) {
    nlohmann::json j{{"name", as_valid_utf8(guest.key.name)},
                     {"uuid", as_valid_utf8(guest.key.uuid)},
                     {"first_seen", when(guest.first_seen)},
                     {"last_seen", when(guest.last_seen)},
                     {"running_domid", guest.running_domid ? nlohmann::json(*guest.running_domid)
                                                           : nlohmann::json(nullptr)},
                     {"dropped_events", guest.dropped_events},
                     {"events", nlohmann::json::array()}};
    for (const auto& e : events) {
        j["events"].push_back(
            {{"at", when(e.at)},
             {"kind", e.kind},
             {"domid", e.domid ? nlohmann::json(*e.domid) : nlohmann::json(nullptr)},
             {"boot_id", as_valid_utf8(e.boot_id)},
             {"text", as_valid_utf8(e.text)},
             {"guest_written", guest_written(e.kind)}});
    }
    return j;
}

std::string render_fleet(const fleet::KernelComparison& c) {
    std::string out = fmt::format(
        "{} guests, {:.0f} guest-days, {} {} ({}% intervals; rates per 1,000 guest-days; "
        "kernel names as guests reported them or their consoles' boot banners showed them)\n",
        c.guests, c.guest_days, c.events,
        c.outcome == fleet::Outcome::crashes ? "crashes" : "unclean ends",
        static_cast<int>(std::lround(c.confidence * 100)));
    out += fmt::format("{:<34} {:<12} {:>6} {:>10} {:>7} {:>7} {:>22} {:>22}  {}\n", "KERNEL",
                       "DISTRIBUTION", "GUESTS", "GUEST-DAYS", "UNCLEAN", "CRASHES", "RATE",
                       "VS REST", "EVIDENCE");
    for (const auto& r : c.rows) {
        const std::string rate = r.rate.defined
                                     ? fmt::format("{:.3g} {}", r.rate.estimate,
                                                   interval(r.rate.interval, "[{:.3g}, {:.3g}]"))
                                     : "-";
        const std::string ratio =
            r.vs_rest.defined ? fmt::format("{} {}",
                                            std::isfinite(r.vs_rest.estimate)
                                                ? fmt::format("{:.3g}", r.vs_rest.estimate)
                                                : std::string("inf"),
                                            interval(r.vs_rest.interval, "[{:.3g}, {:.3g}]"))
                              : "-";
        out += fmt::format("{:<34} {:<12} {:>6} {:>10.1f} {:>7} {:>7} {:>22} {:>22}  {}\n",
                           for_terminal(r.kernel, 34), for_terminal(r.distribution, 12), r.guests,
                           r.guest_days, r.unclean_ends, r.crashes, rate, ratio,
                           fleet::to_string(r.evidence));
    }
    return out;
}

nlohmann::json fleet_json(const fleet::KernelComparison& c) {
    nlohmann::json j{{"outcome", c.outcome == fleet::Outcome::crashes ? "crashes" : "unclean_ends"},
                     {"confidence", c.confidence},
                     {"guests", c.guests},
                     {"guest_days", c.guest_days},
                     {"events", c.events},
                     {"kernels", nlohmann::json::array()}};
    for (const auto& r : c.rows) {
        j["kernels"].push_back({{"kernel", as_valid_utf8(r.kernel)},
                                {"distribution", as_valid_utf8(r.distribution)},
                                {"guests", r.guests},
                                {"guest_days", r.guest_days},
                                {"unclean_ends", r.unclean_ends},
                                {"crashes", r.crashes},
                                {"rate_per_1000_guest_days",
                                 {{"estimate", bound(r.rate.estimate)},
                                  {"low", bound(r.rate.interval.lo)},
                                  {"high", bound(r.rate.interval.hi)},
                                  {"defined", r.rate.defined}}},
                                {"rate_ratio_vs_rest",
                                 {{"estimate", bound(r.vs_rest.estimate)},
                                  {"low", bound(r.vs_rest.interval.lo)},
                                  {"high", bound(r.vs_rest.interval.hi)},
                                  {"defined", r.vs_rest.defined}}},
                                {"evidence", fleet::to_string(r.evidence)}});
    }
    return j;
}

int run_history(const std::string& ledger_path, const std::string& guest, bool json) {
    auto l = ledger::Ledger::open_read_only(ledger_path);
    if (!l) {
        fmt::print(stderr, "guardian-host: {}\n", l.error().message);
        return 2;
    }
    auto found = l->guest(guest);
    if (!found) {
        fmt::print(stderr, "guardian-host: {}\n", found.error().message);
        return 2;
    }
    const auto& g = *found;
    if (!g) {
        fmt::print(stderr, "guardian-host: no guest named {} in {}\n", for_terminal(guest, 80),
                   ledger_path);
        return 1;
    }
    auto events = l->timeline(g->key.uuid);
    if (!events) {
        fmt::print(stderr, "guardian-host: {}\n", events.error().message);
        return 2;
    }
    if (json) {
        fmt::print("{}\n", history_json(*g, *events).dump(1, ' ', guardian::k_json_ascii));
    } else {
        fmt::print("{}", render_history(*g, *events));
    }
    return 0;
}

namespace {

// The ledger's observations compared per kernel; the error already said.
std::optional<fleet::KernelComparison> load_comparison(const std::string& ledger_path,
                                                       fleet::Outcome outcome) {
    auto l = ledger::Ledger::open_read_only(ledger_path);
    if (!l) {
        fmt::print(stderr, "guardian-host: {}\n", l.error().message);
        return std::nullopt;
    }
    auto obs = l->kernel_observations();
    if (!obs) {
        fmt::print(stderr, "guardian-host: {}\n", obs.error().message);
        return std::nullopt;
    }
    return fleet::compare_kernels(*obs, outcome);
}

} // namespace

int run_fleet(const std::string& ledger_path, fleet::Outcome outcome, bool json) {
    const auto cmp = load_comparison(ledger_path, outcome);
    if (!cmp) {
        return 2;
    }
    if (json) {
        fmt::print("{}\n", fleet_json(*cmp).dump(1, ' ', guardian::k_json_ascii));
    } else {
        fmt::print("{}", render_fleet(*cmp));
    }
    return 0;
}

int run_fleet_prometheus(const std::string& ledger_path, fleet::Outcome outcome,
                         const std::string& output) {
    const auto cmp = load_comparison(ledger_path, outcome);
    if (!cmp) {
        return 2;
    }
    return emit_exposition(prometheus::render(fleet_families(*cmp)), output);
}

} // namespace guardian::host

// guardianctl history --boots: guardiand's boot history
// (/var/lib/guardian/boot-history, core/boot_history.hpp), one row per boot,
// newest last, then per kernel release the boots, unclean ends and the
// uptime they are counted against (the question a fleet asks of a kernel).
#include "guardian/cli/commands.hpp"

#include "guardian/core/boot_history.hpp"
#include "guardian/core/trouble_state.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/time_format.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>

namespace guardian::cli {
namespace {

std::string when(std::int64_t us) {
    return us > 0 ? iso8601_utc(std::chrono::microseconds(us)) : std::string("-");
}

std::string hours(std::int64_t us) {
    return fmt::format("{:.1f}h", static_cast<double>(us) / 3.6e9);
}

} // namespace

int run_boot_history(const HistoryArgs& args) {
    const SystemRoot root(args.root);
    const std::string path = root.path(k_boot_history_path);
    DecodedHistory h;
    if (auto text = read_text_file(path, 4u << 20); text)
        h = decode_boot_history(*text);
    else if (text.error().code != ENOENT) {
        fmt::print(stderr, "guardianctl: {}\n", text.error().message);
        return k_exit_cannot_check;
    }
    std::vector<BootEntry> boots = h.boots;
    if (args.limit > 0 && boots.size() > args.limit)
        boots.erase(boots.begin(), boots.end() - static_cast<std::ptrdiff_t>(args.limit));
    const auto releases = summarize_by_release(h.boots);
    if (args.json) {
        nlohmann::json jb = nlohmann::json::array();
        for (const auto& b : boots)
            jb.push_back(boot_entry_to_json(b));
        nlohmann::json jr = nlohmann::json::array();
        for (const auto& r : releases) {
            const auto rate = unclean_per_1000_hours(r);
            jr.push_back({{"release", r.release},
                          {"boots", r.boots},
                          {"unclean", r.unclean},
                          {"uptime_us", r.uptime_us},
                          {"unclean_per_1000_hours", rate ? nlohmann::json(*rate) : nullptr},
                          {"known_bugs", r.known_bugs}});
        }
        fmt::print("{}\n", nlohmann::json{{"boots", jb},
                                          {"releases", jr},
                                          {"rejected_records", h.rejected},
                                          {"torn_tail", h.torn_tail}}
                               .dump(1));
        return k_exit_ok;
    }
    if (h.rejected > 0 || h.torn_tail)
        fmt::print(stderr, "guardianctl: {}: {} damaged record(s) skipped{}\n", path, h.rejected,
                   h.torn_tail ? ", a torn last line" : "");
    if (boots.empty()) {
        fmt::print("no boot recorded yet (no {})\n", k_boot_history_path);
        return k_exit_ok;
    }
    fmt::print("{:<20}  {:<24}  {:>8}  {:<20}  {}\n", "START (UTC)", "KERNEL", "UPTIME",
               "LAST ALIVE (UTC)", "END");
    for (const auto& b : boots)
        fmt::print("{:<20}  {:<24}  {:>8}  {:<20}  {}\n", when(b.start_us), b.kernel_release,
                   hours(b.uptime_us), when(b.last_alive_us), describe_end(b));
    fmt::print("\nper kernel release:\n");
    for (const auto& r : releases) {
        const auto rate = unclean_per_1000_hours(r);
        fmt::print("  {:<24}  {} boot(s), {} unclean, {} up{}\n", r.release, r.boots, r.unclean,
                   hours(r.uptime_us),
                   rate ? fmt::format(", {:.2f} unclean per 1000 h", *rate) : std::string());
    }
    return k_exit_ok;
}

} // namespace guardian::cli

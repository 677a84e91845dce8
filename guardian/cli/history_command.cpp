// guardianctl history: one line per verification guardiand recorded in
// /var/lib/guardian/history.jsonl, newest last. A damaged line (a crash mid-
// append, a hand edit) is reported with its line number and skipped.
#include "guardian/cli/commands.hpp"
#include "guardian/cli/daemon_state.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/paths.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace guardian::cli {

int run_history(const HistoryArgs& args) {
    const SystemRoot root(args.root);
    const std::string path = root.path(k_history_file);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        if (args.json)
            fmt::print("{}\n", nlohmann::json{{"entries", nlohmann::json::array()},
                                              {"malformed", nlohmann::json::array()}}
                                   .dump(1));
        else
            fmt::print("no verification recorded yet (no {})\n", k_history_file);
        return k_exit_ok;
    }
    // The history grows by one short line per restore; 64 MiB is years of them.
    auto text = read_text_file(path, 64u << 20);
    if (!text) {
        fmt::print(stderr, "guardianctl: {}\n", text.error().message);
        return k_exit_cannot_check;
    }
    const auto lines = parse_history(*text, args.limit);
    nlohmann::json entries = nlohmann::json::array();
    nlohmann::json malformed = nlohmann::json::array();
    for (const auto& l : lines) {
        if (!l.error.empty()) {
            malformed.push_back({{"line", l.line_number}, {"error", l.error}});
            fmt::print(stderr, "guardianctl: {}:{}: {}; skipped\n", k_history_file, l.line_number,
                       l.error);
            continue;
        }
        entries.push_back(l.entry);
        if (!args.json)
            fmt::print("{}\n", history_row(l.entry));
    }
    if (args.json)
        fmt::print("{}\n", nlohmann::json{{"entries", entries}, {"malformed", malformed}}.dump(1));
    else if (entries.empty())
        fmt::print("no verification recorded yet\n");
    return k_exit_ok;
}

} // namespace guardian::cli

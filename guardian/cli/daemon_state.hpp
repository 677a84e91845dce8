// What guardianctl reads of guardiand's own files: /run/guardian/state.json
// (current state, last verdict, incident) and /var/lib/guardian/history.jsonl
// (one JSON object per verification). The daemon writes both
// (guardian/daemon/state_file.cpp); the text rendering here is tolerant of
// missing keys so an older or newer daemon's file still shows.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace guardian::cli {

inline constexpr const char* k_state_file = "/run/guardian/state.json";
inline constexpr const char* k_history_file = "/var/lib/guardian/history.jsonl";
inline constexpr const char* k_pid_file = "/run/guardian/guardiand.pid";

// The text block `guardianctl status` prints for a parsed state.json.
[[nodiscard]] std::string render_state(const nlohmann::json& state);

// One verification (a history line or state.json's last_verification) as
// "TIME  VERDICT  coordinated|restore  first reason".
[[nodiscard]] std::string history_row(const nlohmann::json& verification);

struct HistoryLine {
    std::size_t line_number = 0;
    nlohmann::json entry; // an object, when error is empty
    std::string error;    // why the line was skipped
};

// Parses history.jsonl text: every non-empty line is one JSON object; a line
// that is not is kept with its number and the reason. Keeps only the last
// `limit` valid entries (0: all); malformed lines are all kept.
[[nodiscard]] std::vector<HistoryLine> parse_history(const std::string& text, std::size_t limit);

} // namespace guardian::cli

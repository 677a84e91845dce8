// guardian-host's commands over guardian-hostd's ledger: one guest's
// timeline (`history`) and the fleet's crash rates per kernel (`fleet`).
// The ledger is opened read-only for each command (WAL: the service keeps
// writing meanwhile). Guest-written text (kernel names, verdicts, incident
// records, console excerpts) is escaped for the terminal and made valid
// UTF-8 for JSON, and marked as the guest's wherever a person reads it.
#pragma once

#include "guardian/fleet/kernel_rates.hpp"
#include "guardian/ledger/ledger.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace guardian::host {

inline constexpr const char* default_ledger = "/var/lib/guardian-host/ledger.sqlite";

// Whether an event's text was written by the guest (or its console).
[[nodiscard]] bool guest_written(std::string_view kind) noexcept;

[[nodiscard]] std::string render_history(const ledger::GuestSummary& guest,
                                         const std::vector<ledger::TimelineEntry>& events);
[[nodiscard]] nlohmann::json history_json(const ledger::GuestSummary& guest,
                                          const std::vector<ledger::TimelineEntry>& events);

[[nodiscard]] std::string render_fleet(const fleet::KernelComparison& c);
[[nodiscard]] nlohmann::json fleet_json(const fleet::KernelComparison& c);

// The commands: exit codes 0 (shown), 1 (no such guest), 2 (ledger error).
[[nodiscard]] int run_history(const std::string& ledger_path, const std::string& guest, bool json);
[[nodiscard]] int run_fleet(const std::string& ledger_path, fleet::Outcome outcome, bool json);
// The exposition (host/fleet_prometheus.hpp) to `output` (atomically) or stdout.
[[nodiscard]] int run_fleet_prometheus(const std::string& ledger_path, fleet::Outcome outcome,
                                       const std::string& output);

} // namespace guardian::host

// Timestamps as guardian writes them everywhere (fingerprints, xenstore, state
// files): ISO 8601, UTC, whole seconds, e.g. "2026-11-21T17:30:00Z".
#pragma once

#include <chrono>
#include <string>

namespace guardian {

[[nodiscard]] std::string iso8601_utc(std::chrono::system_clock::time_point t);
// The same from nanoseconds since the epoch (CLOCK_REALTIME samples).
[[nodiscard]] std::string iso8601_utc(std::chrono::nanoseconds since_epoch);
[[nodiscard]] inline std::string now_iso8601() {
    return iso8601_utc(std::chrono::system_clock::now());
}

} // namespace guardian

// What a provider's monitoring sees of guardian: one gauge set per guest, the
// same metric names whether dom0 writes them for every domain
// (`guardian-host status --prometheus`, from each guest's data/guardian/) or a
// guest writes them for itself (`guardianctl status --prometheus`, from
// guardiand's state.json). The series are documented in README.md "For
// providers"; rendered by prometheus.hpp.
//
// Everything a guest publishes is untrusted: values outside the documented
// sets become "unknown", unparsable timestamps are left out, nothing throws.
#pragma once

#include "guardian/core/domain_report.hpp"
#include "guardian/core/guest_contract.hpp"
#include "guardian/core/prometheus.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian {

// The possible values of each StateSet, in output order.
[[nodiscard]] const std::vector<std::string_view>& guardian_states();  // + "unknown"
[[nodiscard]] const std::vector<std::string_view>& suspend_safeties(); // safe unsafe unknown
[[nodiscard]] const std::vector<std::string_view>& verdicts();         // healthy ... none unknown

struct FilesystemStatus {
    std::string device;
    std::string mount_point;
    bool guarded = false;           // in guardiand's guarded set now
    std::optional<bool> checked;    // last verification read it
    std::optional<double> findings; // last verification's counts
    std::optional<double> geometry_changes;
    std::optional<double> frozen_changes; // only after a frozen comparison
};

struct GuestStatus {
    std::string domid; // labels: domid, name, uuid (empty when not known)
    std::string name;
    std::string uuid;
    bool present = false; // the guest runs guardian
    std::string version;
    std::string kernel;
    std::string state = "unknown";                 // one of guardian_states()
    std::string suspend_safety = "unknown";        // one of suspend_safeties()
    std::string last_verdict = "none";             // one of verdicts()
    std::optional<std::int64_t> last_verdict_time; // Unix seconds
    std::optional<std::int64_t> last_restore_time;
    std::optional<double> last_verification_seconds; // restore noticed -> verdict
    bool incident = false;
    std::vector<FilesystemStatus> filesystems; // guest side only
};

// "2026-11-21T17:12:00Z" (iso8601_utc's form, nothing else) as Unix seconds.
using contract::parse_iso8601_utc;

// `value` when it is one of `allowed`, else "unknown".
[[nodiscard]] std::string normalize_state(std::string_view value,
                                          const std::vector<std::string_view>& allowed);

// The uuid in a toolstack "vm" node ("/vm/<uuid>"): it survives a restore or
// migration, the domid does not. "" for anything else.
[[nodiscard]] std::string uuid_from_vm_node(std::string_view vm);

// dom0's view: from a domain's data/guardian/ nodes (docs/xenstore-schema.md).
[[nodiscard]] GuestStatus guest_status_from_report(const DomainReport& d);

// A guest's own view: guardiand's state.json (guardian/daemon/state_file.cpp)
// laid over `base` (labels, and what xenstore said, if anything). A value that
// is not a JSON object leaves `base` as it is.
[[nodiscard]] GuestStatus guest_status_from_state(const nlohmann::json& state, GuestStatus base);

// The per-guest families, one gauge set per guest in `guests`.
[[nodiscard]] std::vector<prometheus::MetricFamily>
guest_metric_families(const std::vector<GuestStatus>& guests, std::int64_t now);

// The whole textfile for dom0: the guests plus guardian_host_domains and
// guardian_host_scrape_timestamp_seconds.
[[nodiscard]] std::string render_host_metrics(const std::vector<GuestStatus>& guests,
                                              std::int64_t now);
// The whole textfile inside a guest: that guest plus
// guardian_guest_scrape_timestamp_seconds.
[[nodiscard]] std::string render_guest_metrics(const GuestStatus& guest, std::int64_t now);

} // namespace guardian

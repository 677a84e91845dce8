// The guest-provider contract: everything guardiand publishes under the
// guest's data/guardian/ and every word of the coordinated-freeze handshake,
// defined once (docs/design.md "The guest-provider contract"). Writers
// (guardiand through xen::ReportPublisher, the boot report) encode here;
// readers (guardian-host, guardianctl status, the Prometheus metrics) decode
// here. Pure: names, encoders, decoders.
//
// Compatibility rule: a decoder accepts what any earlier release wrote
// (fixtures in tests/fixtures/) and what a newer one may add. Unknown nodes
// are kept verbatim and otherwise ignored; expected nodes that are absent are
// named in the decode result, never guessed. A value in a known node that is
// not in the documented form decodes as "unknown", never as a made-up value.
// A change of meaning bumps k_report_schema (the "schema" node).
#pragma once

#include "guardian/core/incident.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::contract {

// data/guardian/schema: 1 since the first release.
inline constexpr std::string_view k_report_schema = "1";

// The nodes, relative to the domain's home. Every data/guardian/ name in
// guardian's code is one of these.
namespace node {
inline constexpr std::string_view base = "data/guardian";
// The report (built by core/report.cpp, published by xen::ReportPublisher).
inline constexpr std::string_view version = "version";
inline constexpr std::string_view state = "state";
inline constexpr std::string_view kernel = "kernel";
inline constexpr std::string_view suspend_safety = "suspend-safety";
inline constexpr std::string_view suspend_safety_reason = "suspend-safety-reason";
inline constexpr std::string_view last_restore = "last-restore";
inline constexpr std::string_view last_restore_changes = "last-restore-changes";
inline constexpr std::string_view last_verification = "last-verification";
inline constexpr std::string_view last_verdict_reason = "last-verdict-reason";
inline constexpr std::string_view last_verification_timing = "last-verification-timing";
inline constexpr std::string_view vbd_count = "vbd-count";
inline constexpr std::string_view schema = "schema";
inline constexpr std::string_view updated = "updated"; // written last
inline constexpr std::string_view vbd_dir = "vbd";     // vbd/<id>/{backend,features,state,device}
inline constexpr std::string_view vbd_backend = "backend";
inline constexpr std::string_view vbd_features = "features";
inline constexpr std::string_view vbd_state = "state";
inline constexpr std::string_view vbd_device = "device";
// Written apart from the report.
inline constexpr std::string_view methods = "methods";         // how each step works here
inline constexpr std::string_view incident = "incident";       // the critical verdict's reason
inline constexpr std::string_view boot_report = "boot-report"; // one line per boot
// The handshake: dom0 writes request, the guest answers in freeze.
inline constexpr std::string_view request = "request";
inline constexpr std::string_view freeze = "freeze";
} // namespace node

// "data/guardian/<name>": relative to the domain's home.
[[nodiscard]] std::string node_path(std::string_view name);
// "<home>/data/guardian/<name>": dom0's absolute path for domain `domid`.
[[nodiscard]] std::string domain_node_path(std::string_view domid, std::string_view name);
[[nodiscard]] std::string domain_base_path(std::string_view domid);

// ---- guardiand's state (the "state" node and state.json) -------------------

enum class DaemonState { starting, watching, verifying, frozen, incident, stopped };

[[nodiscard]] std::string_view to_string(DaemonState s) noexcept;
[[nodiscard]] std::optional<DaemonState> parse_daemon_state(std::string_view text) noexcept;
// Every state, in the order the metrics list them.
[[nodiscard]] const std::array<DaemonState, 6>& daemon_states() noexcept;

// ---- the coordinated-freeze handshake ---------------------------------------
// request: "freeze <1-3600 seconds> <nonce>" or "thaw".
// freeze:  "frozen <nonce>", "failed <nonce|-> <reason>",
//          "thawed <nonce> <outcome>", "auto-thawed <nonce>",
//          "critical <nonce>" (accepted from older guests; not written now).

inline constexpr long k_max_freeze_seconds = 3600;

struct FreezeRequest {
    enum class Kind { freeze, thaw, malformed, unknown };
    Kind kind = Kind::unknown;
    long seconds = 0;
    std::string nonce; // may be empty when malformed
};

[[nodiscard]] std::string encode_freeze_request(long seconds, std::string_view nonce);
[[nodiscard]] std::string encode_thaw_request();
[[nodiscard]] FreezeRequest decode_freeze_request(std::string_view text);
// The answer to a request that could not be read: "failed - bad request ..."
// or "failed - unknown request ...", with at most 64 bytes of it quoted.
[[nodiscard]] std::string refuse_request(std::string_view text, FreezeRequest::Kind why);

enum class FreezeAnswerKind { frozen, failed, thawed, auto_thawed, critical };

struct FreezeAnswer {
    FreezeAnswerKind kind = FreezeAnswerKind::failed;
    std::string nonce;  // "-" (or empty when encoding) when the request had none
    std::string detail; // failed: the reason; thawed: the outcome (a verdict, "cancelled", ...)
    friend bool operator==(const FreezeAnswer&, const FreezeAnswer&) = default;
};

// The outcome words of "thawed <nonce> <outcome>" besides the verdicts
// (healthy, warning, critical).
namespace thaw_outcome {
inline constexpr std::string_view cancelled = "cancelled"; // dom0 sent "thaw"
inline constexpr std::string_view stopped = "stopped";     // guardiand stopped
inline constexpr std::string_view failed = "failed";       // the frozen fingerprint failed
} // namespace thaw_outcome

[[nodiscard]] std::string_view to_string(FreezeAnswerKind k) noexcept;
[[nodiscard]] std::string encode(const FreezeAnswer& a);
[[nodiscard]] std::optional<FreezeAnswer> decode_freeze_answer(std::string_view text);
// No further answer follows for that nonce.
[[nodiscard]] bool is_terminal(FreezeAnswerKind k) noexcept;

// ---- values of single nodes ---------------------------------------------------

// incident: the verdict's reason, prefixed with the steps that overran their
// deadline; at most 1000 bytes.
inline constexpr std::size_t k_max_incident = 1000;
[[nodiscard]] std::string encode_incident(const IncidentRecord& record);
struct IncidentNode {
    std::string timed_out; // "shutdown /srv, fsck-mark /srv", or empty
    std::string reason;
};
[[nodiscard]] IncidentNode decode_incident(std::string_view text);

// last-verification: "<ISO-8601 UTC> <healthy|warning|critical>".
[[nodiscard]] std::string encode_last_verification(std::chrono::nanoseconds realtime,
                                                   std::string_view verdict);
// last-restore: "<ISO-8601 UTC> <signals>".
[[nodiscard]] std::string encode_last_restore(std::chrono::nanoseconds realtime,
                                              std::string_view signals);
struct TimedValue {
    std::optional<std::int64_t> time; // Unix seconds, when the first word is a timestamp
    std::string rest;                 // everything after the first space
};
[[nodiscard]] TimedValue decode_timed_value(std::string_view text);
// last-verification's verdict: "healthy", "warning", "critical", or "unknown"
// for anything not in the documented form; "none" for an empty value.
[[nodiscard]] std::string decode_last_verdict(std::string_view text);
// "... verdict +<ms> ms" of last-verification-timing, in seconds.
[[nodiscard]] std::optional<double> decode_verdict_delay(std::string_view timing);

// "2026-11-21T17:12:00Z" (iso8601_utc's form, nothing else) as Unix seconds.
[[nodiscard]] std::optional<std::int64_t> parse_iso8601_utc(std::string_view text);

// ---- the report as a reader sees it -------------------------------------------

struct DecodedReport {
    bool present = false; // "version" is there: the guest runs guardian
    std::string version;
    std::string schema;
    std::string state; // a DaemonState word, or "unknown"
    std::string kernel;
    std::string suspend_safety; // safe, unsafe, unknown
    std::string suspend_safety_reason;
    std::string last_restore;
    std::string last_restore_changes;
    std::string last_verification;
    std::string last_verdict_reason;
    std::string last_verification_timing;
    std::string incident;
    std::string methods;
    std::string boot_report;
    std::string freeze;
    std::string vbd_count;
    std::string updated;
    std::map<std::string, std::string> vbd_nodes; // "vbd/<id>/<name>" -> value
    std::map<std::string, std::string> unknown;   // nodes this release does not know: kept
    std::vector<std::string> missing;             // expected nodes that were absent
};

// The nodes a reader must fetch to decode a report without the vbd details
// (the metrics read only these, one request each, for thousands of domains).
[[nodiscard]] const std::vector<std::string_view>& summary_nodes();
// The summary plus what the provider's ledger keeps of a report
// (guardian-hostd): the verdict's reason, what a restore changed, the boot
// report.
[[nodiscard]] const std::vector<std::string_view>& ledger_nodes();

// From data/guardian/ as read ("name" or "vbd/<id>/name" -> value).
[[nodiscard]] DecodedReport decode_report(const std::map<std::string, std::string>& nodes);

} // namespace guardian::contract

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
inline constexpr std::string_view distribution = "distribution"; // os-release's; absent: unknown
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
// Kernel trouble and boot history (docs/kernel-trouble.md), part of the report.
inline constexpr std::string_view trouble_counts = "trouble-counts"; // this boot's events by kind
inline constexpr std::string_view trouble_last = "trouble-last";     // the last few signatures
inline constexpr std::string_view previous_boot = "previous-boot";   // its end, attributed
inline constexpr std::string_view known_bugs = "known-bugs";         // known bugs that apply
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

// ---- kernel trouble and the previous boot (docs/xenstore-schema.md) ----------
// Every value is bounded (at most k_max_trouble_value bytes) and made of
// printable ASCII words; words the guest took from kernel text (function
// names, releases) are cut to k_max_trouble_word and anything outside
// [A-Za-z0-9._:+~@/-] becomes '_', so a value always splits back into the
// fields it was built from.

inline constexpr std::size_t k_max_trouble_value = 1000;
inline constexpr std::size_t k_max_trouble_word = 64;
inline constexpr std::size_t k_max_trouble_last = 4; // entries of trouble-last
inline constexpr std::size_t k_max_known_bugs = 16;  // entries of known-bugs

// trouble-counts: "<kind>=<n> ..." for each kind seen this boot (in the
// order of core/kmsg_signatures' TroubleKind), then "suppressed=<n>" and
// "forged=<n>" when not zero; "none" when nothing was seen.
struct TroubleCountsNode {
    std::vector<std::pair<std::string, std::uint64_t>> kinds; // kind word -> events
    std::uint64_t suppressed = 0; // held back by the rate limit (still counted in kinds)
    std::uint64_t forged = 0;     // trouble-looking lines not from the kernel
    bool valid = true;            // false: a word was not "<name>=<number>"
    friend bool operator==(const TroubleCountsNode&, const TroubleCountsNode&) = default;
};
[[nodiscard]] std::string encode_trouble_counts(const TroubleCountsNode& counts);
[[nodiscard]] TroubleCountsNode decode_trouble_counts(std::string_view text);

// trouble-last: the newest k_max_trouble_last events, oldest first, joined by
// "; ": "<ISO-8601 UTC> <kind> <signature> <function|-> <known bug|->".
struct TroubleNote {
    std::int64_t time = 0; // Unix seconds
    std::string kind;
    std::string signature; // 16 hex digits
    std::string function;  // "" when none
    std::string known_bug; // the first known bug it matches, "" when none
    friend bool operator==(const TroubleNote&, const TroubleNote&) = default;
};
[[nodiscard]] std::string encode_trouble_last(const std::vector<TroubleNote>& notes);
// Entries not in that form are skipped.
[[nodiscard]] std::vector<TroubleNote> decode_trouble_last(std::string_view text);

// previous-boot: how the boot before this one ended, "none" when guardian
// knows no earlier boot; else "end=<end> boot=<id> release=<uname -r>
// last-alive=<ISO-8601 UTC> uptime=<seconds>" and, when the end is
// attributed to trouble, " trouble=<kind> signature=<sig> function=<f>
// known-bug=<id>" (absent fields are left out).
struct PreviousBootNode {
    std::string end; // core/boot_history's BootEnd words: orderly, panic, no-trace, ...
    std::string boot_id;
    std::string release;
    std::int64_t last_alive = 0; // Unix seconds, 0 when unknown
    std::int64_t uptime = 0;     // seconds
    std::string trouble_kind;
    std::string signature;
    std::string function;
    std::string known_bug;
    friend bool operator==(const PreviousBootNode&, const PreviousBootNode&) = default;
};
[[nodiscard]] std::string encode_previous_boot(const std::optional<PreviousBootNode>& boot);
// nullopt for "none" and for a value without "end=".
[[nodiscard]] std::optional<PreviousBootNode> decode_previous_boot(std::string_view text);

// known-bugs: the known kernel bugs (data/kernel-risk.json) that apply to
// this kernel, "<id>=<exposure>[@<fixed in>]" separated by spaces (exposure:
// affected, latent, unknown; not-affected ones are left out), at most
// k_max_known_bugs; "none" when none applies.
struct KnownBugNote {
    std::string id;
    std::string exposure;
    std::string fixed_in; // "" when not known
    friend bool operator==(const KnownBugNote&, const KnownBugNote&) = default;
};
[[nodiscard]] std::string encode_known_bugs(const std::vector<KnownBugNote>& bugs);
[[nodiscard]] std::vector<KnownBugNote> decode_known_bugs(std::string_view text);

// A word as the trouble values carry it (see above); "-" for an empty one.
[[nodiscard]] std::string trouble_word(std::string_view text);

// ---- the report as a reader sees it -------------------------------------------

struct DecodedReport {
    bool present = false; // "version" is there: the guest runs guardian
    std::string version;
    std::string schema;
    std::string state; // a DaemonState word, or "unknown"
    std::string kernel;
    std::string distribution;   // "" when absent: unknown, or a release before it
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
    std::string trouble_counts;
    std::string trouble_last;
    std::string previous_boot;
    std::string known_bugs;
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
// (guardian-hostd): the distribution, the verdict's reason, what a restore
// changed, the boot report, the kernel trouble.
[[nodiscard]] const std::vector<std::string_view>& ledger_nodes();

// From data/guardian/ as read ("name" or "vbd/<id>/name" -> value).
[[nodiscard]] DecodedReport decode_report(const std::map<std::string, std::string>& nodes);

} // namespace guardian::contract

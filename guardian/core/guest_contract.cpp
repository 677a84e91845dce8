#include "guardian/core/guest_contract.hpp"

#include "guardian/util/time_format.hpp"

#include <algorithm>
#include <charconv>

namespace guardian::contract {
namespace {

std::string_view first_word(std::string_view s) {
    return s.substr(0, s.find(' '));
}

// The text after the first space ("" without one).
std::string_view after_first_word(std::string_view s) {
    const auto pos = s.find(' ');
    return pos == std::string_view::npos ? std::string_view{} : s.substr(pos + 1);
}

std::string quoted_prefix(std::string_view text) {
    return std::string(text.substr(0, 64));
}

} // namespace

std::string node_path(std::string_view name) {
    return std::string(node::base) + "/" + std::string(name);
}

std::string domain_base_path(std::string_view domid) {
    return "/local/domain/" + std::string(domid) + "/" + std::string(node::base);
}

std::string domain_node_path(std::string_view domid, std::string_view name) {
    return domain_base_path(domid) + "/" + std::string(name);
}

// ---- state -----------------------------------------------------------------

std::string_view to_string(DaemonState s) noexcept {
    switch (s) {
    case DaemonState::starting:
        return "starting";
    case DaemonState::watching:
        return "watching";
    case DaemonState::verifying:
        return "verifying";
    case DaemonState::frozen:
        return "frozen";
    case DaemonState::incident:
        return "incident";
    case DaemonState::stopped:
        return "stopped";
    }
    return "unknown";
}

const std::array<DaemonState, 6>& daemon_states() noexcept {
    static constexpr std::array<DaemonState, 6> all{DaemonState::starting,  DaemonState::watching,
                                                    DaemonState::verifying, DaemonState::frozen,
                                                    DaemonState::incident,  DaemonState::stopped};
    return all;
}

std::optional<DaemonState> parse_daemon_state(std::string_view text) noexcept {
    for (const DaemonState s : daemon_states())
        if (to_string(s) == text)
            return s;
    return std::nullopt;
}

// ---- freeze handshake -------------------------------------------------------

namespace {
constexpr std::string_view k_freeze = "freeze";
constexpr std::string_view k_thaw = "thaw";
constexpr std::string_view k_frozen = "frozen";
constexpr std::string_view k_failed = "failed";
constexpr std::string_view k_thawed = "thawed";
constexpr std::string_view k_auto_thawed = "auto-thawed";
constexpr std::string_view k_critical = "critical";

std::vector<std::string_view> words(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n'))
            ++i;
        const std::size_t start = i;
        while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n')
            ++i;
        if (i > start)
            out.push_back(s.substr(start, i - start));
    }
    return out;
}
} // namespace

std::string encode_freeze_request(long seconds, std::string_view nonce) {
    return std::string(k_freeze) + " " + std::to_string(seconds) + " " + std::string(nonce);
}

std::string encode_thaw_request() {
    return std::string(k_thaw);
}

FreezeRequest decode_freeze_request(std::string_view text) {
    const auto w = words(text);
    FreezeRequest r;
    if (w.empty()) {
        r.kind = FreezeRequest::Kind::unknown;
        return r;
    }
    if (w[0] == k_thaw) {
        r.kind = FreezeRequest::Kind::thaw;
        return r;
    }
    if (w[0] != k_freeze) {
        r.kind = FreezeRequest::Kind::unknown;
        return r;
    }
    if (w.size() > 2)
        r.nonce = std::string(w[2]);
    const std::string_view arg = w.size() > 1 ? w[1] : std::string_view{};
    long seconds = 0;
    const auto res = std::from_chars(arg.data(), arg.data() + arg.size(), seconds);
    if (res.ec != std::errc{} || seconds <= 0 || seconds > k_max_freeze_seconds ||
        r.nonce.empty()) {
        r.kind = FreezeRequest::Kind::malformed;
        return r;
    }
    r.kind = FreezeRequest::Kind::freeze;
    r.seconds = seconds;
    return r;
}

std::string refuse_request(std::string_view text, FreezeRequest::Kind why) {
    if (why == FreezeRequest::Kind::malformed) {
        const auto r = decode_freeze_request(text);
        return encode(FreezeAnswer{FreezeAnswerKind::failed, r.nonce,
                                   "bad request '" + quoted_prefix(text) +
                                       "' (expected: freeze <1-3600 seconds> <nonce>)"});
    }
    return encode(FreezeAnswer{FreezeAnswerKind::failed, "",
                               "unknown request '" + quoted_prefix(text) + "'"});
}

std::string_view to_string(FreezeAnswerKind k) noexcept {
    switch (k) {
    case FreezeAnswerKind::frozen:
        return k_frozen;
    case FreezeAnswerKind::failed:
        return k_failed;
    case FreezeAnswerKind::thawed:
        return k_thawed;
    case FreezeAnswerKind::auto_thawed:
        return k_auto_thawed;
    case FreezeAnswerKind::critical:
        return k_critical;
    }
    return k_failed;
}

std::string encode(const FreezeAnswer& a) {
    std::string out(to_string(a.kind));
    out += " " + (a.nonce.empty() ? std::string("-") : a.nonce);
    if (!a.detail.empty() &&
        (a.kind == FreezeAnswerKind::failed || a.kind == FreezeAnswerKind::thawed))
        out += " " + a.detail;
    return out;
}

std::optional<FreezeAnswer> decode_freeze_answer(std::string_view text) {
    const std::string_view verb = first_word(text);
    const std::string_view rest = after_first_word(text);
    FreezeAnswer a;
    bool known = false;
    for (const auto k :
         {FreezeAnswerKind::frozen, FreezeAnswerKind::failed, FreezeAnswerKind::thawed,
          FreezeAnswerKind::auto_thawed, FreezeAnswerKind::critical})
        if (to_string(k) == verb) {
            a.kind = k;
            known = true;
        }
    if (!known || rest.empty())
        return std::nullopt;
    a.nonce = std::string(first_word(rest));
    a.detail = std::string(after_first_word(rest));
    if (a.nonce.empty())
        return std::nullopt;
    return a;
}

bool is_terminal(FreezeAnswerKind k) noexcept {
    return k != FreezeAnswerKind::frozen;
}

// ---- single nodes -----------------------------------------------------------

namespace {
constexpr std::string_view k_timed_out_prefix = "timed out (device not answering): ";
}

std::string encode_incident(const IncidentRecord& record) {
    const std::string hung = timed_out_steps(record);
    if (hung.empty())
        return record.reason.substr(0, k_max_incident);
    std::string text = std::string(k_timed_out_prefix) + hung.substr(0, 400) + "; ";
    text += record.reason.substr(0, k_max_incident - text.size());
    return text;
}

IncidentNode decode_incident(std::string_view text) {
    IncidentNode n;
    if (text.starts_with(k_timed_out_prefix)) {
        const std::string_view rest = text.substr(k_timed_out_prefix.size());
        const auto sep = rest.find("; ");
        if (sep != std::string_view::npos) {
            n.timed_out = std::string(rest.substr(0, sep));
            n.reason = std::string(rest.substr(sep + 2));
            return n;
        }
    }
    n.reason = std::string(text);
    return n;
}

std::string encode_last_verification(std::chrono::nanoseconds realtime, std::string_view verdict) {
    return iso8601_utc(realtime) + " " + std::string(verdict);
}

std::string encode_last_restore(std::chrono::nanoseconds realtime, std::string_view signals) {
    return iso8601_utc(realtime) + " " + std::string(signals);
}

TimedValue decode_timed_value(std::string_view text) {
    return TimedValue{parse_iso8601_utc(first_word(text)), std::string(after_first_word(text))};
}

std::string decode_last_verdict(std::string_view v) {
    if (v.empty())
        return "none";
    // Anything but "<ISO-8601> <verdict>" is not guardian's format.
    const auto t = decode_timed_value(v);
    if (!t.time || t.rest.find(' ') != std::string::npos)
        return "unknown";
    for (const std::string_view known : {"healthy", "warning", "critical"})
        if (t.rest == known)
            return t.rest;
    return "unknown";
}

std::optional<double> decode_verdict_delay(std::string_view timing) {
    constexpr std::string_view key = "verdict +";
    const auto pos = timing.find(key);
    if (pos == std::string_view::npos)
        return std::nullopt;
    // "+412.0 ms" as VerificationTiming::describe() writes it; "+412 ms"
    // from hand-written reports. (Before the contract the reader took only
    // the second form, so the duration metric never saw guardiand's own.)
    std::size_t i = pos + key.size();
    std::uint64_t ms = 0;
    std::size_t digits = 0;
    for (; i < timing.size() && timing[i] >= '0' && timing[i] <= '9' && digits < 12; ++i, ++digits)
        ms = ms * 10 + static_cast<std::uint64_t>(timing[i] - '0');
    if (digits == 0)
        return std::nullopt;
    double fraction = 0;
    if (i < timing.size() && timing[i] == '.') {
        double scale = 0.1;
        std::size_t fdigits = 0;
        for (++i; i < timing.size() && timing[i] >= '0' && timing[i] <= '9' && fdigits < 6;
             ++i, ++fdigits, scale /= 10)
            fraction += scale * (timing[i] - '0');
        if (fdigits == 0)
            return std::nullopt;
    }
    if (timing.substr(i, 3) != " ms")
        return std::nullopt;
    return (static_cast<double>(ms) + fraction) / 1000.0;
}

std::optional<std::int64_t> parse_iso8601_utc(std::string_view t) {
    // Exactly YYYY-MM-DDTHH:MM:SSZ.
    if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
        t[16] != ':' || t[19] != 'Z')
        return std::nullopt;
    const auto num = [&](std::size_t pos, std::size_t len) -> std::optional<int> {
        int v = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            if (t[i] < '0' || t[i] > '9')
                return std::nullopt;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    const auto y = num(0, 4), mo = num(5, 2), d = num(8, 2);
    const auto h = num(11, 2), mi = num(14, 2), s = num(17, 2);
    if (!y || !mo || !d || !h || !mi || !s || *h > 23 || *mi > 59 || *s > 60)
        return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year{*y},
                                          std::chrono::month{static_cast<unsigned>(*mo)},
                                          std::chrono::day{static_cast<unsigned>(*d)}};
    if (!ymd.ok())
        return std::nullopt;
    const auto days = std::chrono::sys_days{ymd}.time_since_epoch().count();
    return static_cast<std::int64_t>(days) * 86400 + *h * 3600 + *mi * 60 + *s;
}

// ---- the report --------------------------------------------------------------

const std::vector<std::string_view>& summary_nodes() {
    static const std::vector<std::string_view> n{node::version,
                                                 node::state,
                                                 node::kernel,
                                                 node::suspend_safety,
                                                 node::last_restore,
                                                 node::last_verification,
                                                 node::last_verification_timing,
                                                 node::incident};
    return n;
}

const std::vector<std::string_view>& ledger_nodes() {
    static const std::vector<std::string_view> n = [] {
        std::vector<std::string_view> all = summary_nodes();
        all.insert(all.end(), {node::distribution, node::last_verdict_reason,
                               node::last_restore_changes, node::boot_report, node::trouble_counts,
                               node::trouble_last, node::previous_boot, node::known_bugs});
        return all;
    }();
    return n;
}

DecodedReport decode_report(const std::map<std::string, std::string>& nodes) {
    DecodedReport r;
    const std::vector<std::pair<std::string_view, std::string*>> known{
        {node::version, &r.version},
        {node::schema, &r.schema},
        {node::state, &r.state},
        {node::kernel, &r.kernel},
        {node::distribution, &r.distribution},
        {node::suspend_safety, &r.suspend_safety},
        {node::suspend_safety_reason, &r.suspend_safety_reason},
        {node::last_restore, &r.last_restore},
        {node::last_restore_changes, &r.last_restore_changes},
        {node::last_verification, &r.last_verification},
        {node::last_verdict_reason, &r.last_verdict_reason},
        {node::last_verification_timing, &r.last_verification_timing},
        {node::incident, &r.incident},
        {node::methods, &r.methods},
        {node::boot_report, &r.boot_report},
        {node::trouble_counts, &r.trouble_counts},
        {node::trouble_last, &r.trouble_last},
        {node::previous_boot, &r.previous_boot},
        {node::known_bugs, &r.known_bugs},
        {node::freeze, &r.freeze},
        {node::vbd_count, &r.vbd_count},
        {node::updated, &r.updated}};
    // Always written by guardiand; the others appear when there is news.
    const std::vector<std::string_view> expected{node::version, node::schema, node::state,
                                                 node::kernel, node::suspend_safety};
    const std::string vbd_prefix = std::string(node::vbd_dir) + "/";
    for (const auto& entry : nodes) {
        const std::string& name = entry.first;
        const std::string& value = entry.second;
        const auto it = std::find_if(known.begin(), known.end(),
                                     [&](const auto& k) { return k.first == name; });
        if (it != known.end())
            *it->second = value;
        else if (name.starts_with(vbd_prefix) || name == node::vbd_dir)
            r.vbd_nodes[name] = value;
        else if (name != node::request) // dom0's own, not the guest's report
            r.unknown[name] = value;
    }
    for (const auto name : expected)
        if (!nodes.contains(std::string(name)))
            r.missing.emplace_back(name);
    r.present = nodes.contains(std::string(node::version));
    if (r.present)
        r.state = parse_daemon_state(r.state) ? r.state : "unknown";
    return r;
}

} // namespace guardian::contract

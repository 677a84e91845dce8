#include "guardian/core/boot_history.hpp"

#include "guardian/core/trouble_signature.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace guardian {
namespace {

constexpr std::string_view k_tag = "G1";
constexpr std::size_t k_fields = 13; // after the tag, before the checksum

constexpr std::array<std::string_view, 8> end_names = {
    "running", "orderly", "emergency-reboot", "crash", "panic", "watchdog", "destroyed", "no-trace",
};

void escape_into(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : s.substr(0, 512)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '%') {
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 0xf];
        } else {
            out += c;
        }
    }
}

std::optional<std::string> unescape(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size())
            return std::nullopt;
        unsigned v = 0;
        const auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
        if (r.ec != std::errc{} || r.ptr != s.data() + i + 3)
            return std::nullopt;
        out += static_cast<char>(v);
        i += 2;
    }
    return out;
}

template <typename Int> bool parse_int(std::string_view s, Int& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

std::optional<BootEntry> decode_line(std::string_view line) {
    // The checksum covers everything up to and including the last TAB.
    const auto last_tab = line.rfind('\t');
    if (last_tab == std::string_view::npos || line.size() - last_tab - 1 != 16)
        return std::nullopt;
    if (hex64(fnv1a64(line.substr(0, last_tab + 1))) != line.substr(last_tab + 1))
        return std::nullopt;
    std::vector<std::string_view> f;
    std::string_view rest = line.substr(0, last_tab);
    while (true) {
        const auto tab = rest.find('\t');
        f.push_back(rest.substr(0, tab));
        if (tab == std::string_view::npos)
            break;
        rest = rest.substr(tab + 1);
    }
    if (f.size() != k_fields + 1 || f[0] != k_tag)
        return std::nullopt;
    std::array<std::string, k_fields> s;
    for (std::size_t i = 0; i < k_fields; ++i) {
        auto u = unescape(f[i + 1]);
        if (!u)
            return std::nullopt;
        s[i] = std::move(*u);
    }
    BootEntry e;
    e.boot_id = std::move(s[0]);
    e.kernel_release = std::move(s[1]);
    e.kernel_version = std::move(s[2]);
    e.distribution = std::move(s[3]);
    const auto end = boot_end_from_string(s[7]);
    if (e.boot_id.empty() || !end || !parse_int(s[4], e.start_us) ||
        !parse_int(s[5], e.last_alive_us) || !parse_int(s[6], e.uptime_us) ||
        !parse_int(s[12], e.trouble_count))
        return std::nullopt;
    e.end = *end;
    e.trouble_kind = std::move(s[8]);
    e.trouble_signature = std::move(s[9]);
    e.trouble_function = std::move(s[10]);
    e.known_bug = std::move(s[11]);
    return e;
}

void keep_newest(std::vector<BootEntry>& boots) {
    if (boots.size() > k_boot_history_kept)
        boots.erase(boots.begin(), boots.begin() + static_cast<std::ptrdiff_t>(
                                                       boots.size() - k_boot_history_kept));
}

bool fatal(std::string_view kind) {
    return trouble_is_fatal(kind);
}

BootEnd end_for(std::string_view kind) {
    if (kind == "panic")
        return BootEnd::panic;
    if (kind == "rcu_stall" || kind == "soft_lockup" || kind == "hard_lockup" ||
        kind == "hung_task")
        return BootEnd::watchdog;
    return BootEnd::crash;
}

} // namespace

bool trouble_is_fatal(std::string_view kind) noexcept {
    return kind == "oops" || kind == "kernel_bug" || kind == "bug" || kind == "panic" ||
           kind == "machine_check" || kind == "bad_page" || kind == "rcu_stall" ||
           kind == "soft_lockup" || kind == "hard_lockup" || kind == "hung_task";
}

std::string distribution_from_os_release(std::string_view text) {
    std::string pretty, name, version;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos)
            nl = text.size();
        const std::string_view line = text.substr(start, nl - start);
        start = nl + 1;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            continue;
        std::string_view value = line.substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front())
            value = value.substr(1, value.size() - 2);
        const std::string_view key = line.substr(0, eq);
        if (key == "PRETTY_NAME")
            pretty = value;
        else if (key == "NAME")
            name = value;
        else if (key == "VERSION_ID")
            version = value;
    }
    if (!pretty.empty())
        return pretty;
    return version.empty() ? name : name + " " + version;
}

std::string_view to_string(BootEnd e) noexcept {
    const auto i = static_cast<std::size_t>(e);
    return i < end_names.size() ? end_names[i] : "no-trace";
}

std::optional<BootEnd> boot_end_from_string(std::string_view s) noexcept {
    for (std::size_t i = 0; i < end_names.size(); ++i)
        if (end_names[i] == s)
            return static_cast<BootEnd>(i);
    return std::nullopt;
}

bool unclean(BootEnd e) noexcept {
    return e != BootEnd::running && e != BootEnd::orderly && e != BootEnd::emergency_reboot;
}

std::string encode_boot_record(const BootEntry& e) {
    std::string line(k_tag);
    auto field = [&](std::string_view v) {
        line += '\t';
        escape_into(line, v);
    };
    field(e.boot_id);
    field(e.kernel_release);
    field(e.kernel_version);
    field(e.distribution);
    field(std::to_string(e.start_us));
    field(std::to_string(e.last_alive_us));
    field(std::to_string(e.uptime_us));
    field(to_string(e.end));
    field(e.trouble_kind);
    field(e.trouble_signature);
    field(e.trouble_function);
    field(e.known_bug);
    field(std::to_string(e.trouble_count));
    line += '\t';
    line += hex64(fnv1a64(line));
    line += '\n';
    return line;
}

void upsert_boot(std::vector<BootEntry>& boots, const BootEntry& e) {
    const auto it = std::find_if(boots.begin(), boots.end(),
                                 [&](const BootEntry& b) { return b.boot_id == e.boot_id; });
    if (it != boots.end())
        *it = e;
    else
        boots.push_back(e);
}

DecodedHistory decode_boot_history(std::string_view text) {
    DecodedHistory h;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        if (nl == std::string_view::npos) {
            h.torn_tail = true; // an append cut short: its previous snapshot stands
            break;
        }
        const auto line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (line.empty())
            continue;
        if (auto e = decode_line(line)) {
            ++h.records;
            upsert_boot(h.boots, *e);
        } else {
            ++h.rejected;
        }
    }
    keep_newest(h.boots);
    return h;
}

std::string encode_boot_history(const std::vector<BootEntry>& boots) {
    std::string out;
    const std::size_t first =
        boots.size() > k_boot_history_kept ? boots.size() - k_boot_history_kept : 0;
    for (std::size_t i = first; i < boots.size(); ++i)
        out += encode_boot_record(boots[i]);
    return out;
}

bool boot_history_needs_compaction(const DecodedHistory& h) noexcept {
    return h.torn_tail || h.rejected > 0 || h.records > 2 * h.boots.size() + 64;
}

Attribution attribute_end(const BootEntry& previous, const EndEvidence& ev) {
    Attribution a;
    if (previous.end != BootEnd::running) {
        a.end = previous.end; // recorded while it happened
        a.reason = "recorded by the boot itself";
        return a;
    }
    if (ev.emergency_reboot) {
        a.end = BootEnd::emergency_reboot;
        a.reason = "guardian's emergency reboot";
        return a;
    }
    if (ev.orderly_shutdown) {
        a.end = BootEnd::orderly;
        a.reason = "orderly shutdown or reboot";
        return a;
    }
    std::vector<TroubleSeen> seen = ev.trouble;
    std::stable_sort(seen.begin(), seen.end(),
                     [](const TroubleSeen& x, const TroubleSeen& y) { return x.at_us < y.at_us; });
    if (seen.empty()) {
        a.end = ev.host_destroyed ? BootEnd::destroyed : BootEnd::no_trace;
        a.reason =
            ev.host_destroyed ? "destroyed by the host, no kernel trouble before it" : "no trace";
        return a;
    }
    const TroubleSeen& last = seen.back();
    // A panic is usually the end of a report that came just before it
    // ("Fatal exception" after an oops, "softlockup: hung tasks"): that
    // report names the bug.
    const auto last_fatal = std::find_if(seen.rbegin(), seen.rend(),
                                         [](const TroubleSeen& t) { return fatal(t.kind); });
    if (last_fatal == seen.rend()) {
        a.end = ev.host_destroyed ? BootEnd::destroyed : BootEnd::no_trace;
        a.trouble = last;
        a.reason = "unclean; the last trouble before it was " + last.kind + " (not fatal itself)";
        return a;
    }
    a.trouble = *last_fatal;
    a.end = end_for(last_fatal->kind);
    if (last_fatal->kind == "panic") {
        const auto cause = std::find_if(last_fatal + 1, seen.rend(), [&](const TroubleSeen& t) {
            return fatal(t.kind) && t.kind != "panic" && last_fatal->at_us - t.at_us <= 60'000'000;
        });
        if (cause != seen.rend())
            a.trouble = *cause;
    }
    a.reason = "unclean after " + a.trouble->kind +
               (a.trouble->function.empty() ? "" : " in " + a.trouble->function);
    return a;
}

bool complete_from_own_record(std::vector<TroubleSeen>& seen, const BootEntry& previous) {
    if (previous.trouble_kind.empty() || previous.trouble_signature.empty())
        return false;
    const auto same = std::find_if(seen.rbegin(), seen.rend(), [&](const TroubleSeen& t) {
        return t.kind == previous.trouble_kind &&
               (t.function == previous.trouble_function || t.function.empty());
    });
    if (same == seen.rend() || same->signature == previous.trouble_signature)
        return false;
    same->signature = previous.trouble_signature;
    same->function = previous.trouble_function;
    if (!previous.known_bug.empty())
        same->known_bug = previous.known_bug;
    return true;
}

BootEntry with_attribution(BootEntry e, const Attribution& a) {
    e.end = a.end;
    if (a.trouble) {
        e.trouble_kind = a.trouble->kind;
        e.trouble_signature = a.trouble->signature;
        e.trouble_function = a.trouble->function;
        e.known_bug = a.trouble->known_bug;
    }
    return e;
}

std::string describe_end(const BootEntry& e) {
    if (!unclean(e.end))
        return std::string(to_string(e.end));
    std::string s = "unclean (" + std::string(to_string(e.end)) + ")";
    if (e.trouble_kind.empty())
        return s;
    s += " after " + e.trouble_kind;
    if (!e.trouble_function.empty())
        s += " in " + e.trouble_function;
    if (!e.trouble_signature.empty() || !e.known_bug.empty()) {
        s += " (";
        if (!e.trouble_signature.empty())
            s += "signature " + e.trouble_signature;
        if (!e.known_bug.empty())
            s += std::string(e.trouble_signature.empty() ? "" : "; ") + "known bug " + e.known_bug;
        s += ")";
    }
    return s;
}

std::vector<ReleaseSummary> summarize_by_release(const std::vector<BootEntry>& boots) {
    std::vector<ReleaseSummary> out;
    // Newest boot first, so releases come in order of their newest boot.
    for (auto b = boots.rbegin(); b != boots.rend(); ++b) {
        auto it = std::find_if(out.begin(), out.end(), [&](const ReleaseSummary& r) {
            return r.release == b->kernel_release;
        });
        if (it == out.end()) {
            out.push_back(
                {b->kernel_release, 0, 0, std::vector<std::size_t>(end_names.size()), 0, {}, {}});
            it = out.end() - 1;
        }
        ++it->boots;
        ++it->by_end[static_cast<std::size_t>(b->end)];
        if (unclean(b->end))
            ++it->unclean;
        it->uptime_us += std::max<std::int64_t>(0, b->uptime_us);
        if (!b->trouble_signature.empty()) {
            auto s = std::find_if(it->signatures.begin(), it->signatures.end(),
                                  [&](const auto& p) { return p.first == b->trouble_signature; });
            if (s == it->signatures.end())
                it->signatures.emplace_back(b->trouble_signature, 1);
            else
                ++s->second;
        }
        if (!b->known_bug.empty() && std::find(it->known_bugs.begin(), it->known_bugs.end(),
                                               b->known_bug) == it->known_bugs.end())
            it->known_bugs.push_back(b->known_bug);
    }
    for (auto& r : out) {
        std::stable_sort(r.signatures.begin(), r.signatures.end(),
                         [](const auto& x, const auto& y) { return x.second > y.second; });
        if (r.signatures.size() > 8)
            r.signatures.resize(8);
    }
    return out;
}

std::optional<double> unclean_per_1000_hours(const ReleaseSummary& s) noexcept {
    if (s.uptime_us <= 0)
        return std::nullopt;
    const double hours = static_cast<double>(s.uptime_us) / 3.6e9;
    return static_cast<double>(s.unclean) * 1000.0 / hours;
}

bool heartbeat_due(std::int64_t now_us, std::int64_t last_written_us, std::int64_t interval_us,
                   bool frozen, bool critical_verdict) noexcept {
    if (frozen || critical_verdict || interval_us <= 0)
        return false;
    return now_us - last_written_us >= interval_us;
}

} // namespace guardian

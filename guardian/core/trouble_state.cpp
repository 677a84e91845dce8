#include "guardian/core/trouble_state.hpp"

#include <algorithm>

namespace guardian {
namespace {

using nlohmann::json;

const json* member(const json& j, const char* key) {
    if (!j.is_object())
        return nullptr;
    const auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

std::string text(const json& j, const char* key) {
    const auto* m = member(j, key);
    return m != nullptr && m->is_string() ? m->get<std::string>() : std::string();
}

std::uint64_t count(const json& j, const char* key) {
    const auto* m = member(j, key);
    return m != nullptr && m->is_number_unsigned() ? m->get<std::uint64_t>() : 0;
}

std::int64_t integer(const json& j, const char* key) {
    const auto* m = member(j, key);
    return m != nullptr && m->is_number_integer() ? m->get<std::int64_t>() : 0;
}

json per_kind(const std::array<std::uint64_t, trouble_kind_count>& v) {
    json out = json::object();
    for (std::size_t i = 0; i < v.size(); ++i)
        out[std::string(to_string(static_cast<TroubleKind>(i)))] = v[i];
    return out;
}

void read_per_kind(const json* j, std::array<std::uint64_t, trouble_kind_count>& out) {
    if (j == nullptr || !j->is_object())
        return;
    for (const auto& [name, value] : j->items())
        if (const auto k = trouble_kind_from_string(name); k && value.is_number_unsigned())
            out[static_cast<std::size_t>(*k)] = value.get<std::uint64_t>();
}

BugExposure exposure_from(std::string_view s) {
    for (const auto e : {BugExposure::affected, BugExposure::latent, BugExposure::not_affected})
        if (to_string(e) == s)
            return e;
    return BugExposure::unknown;
}

} // namespace

json boot_entry_to_json(const BootEntry& e) {
    return {{"boot_id", e.boot_id},
            {"release", e.kernel_release},
            {"version", e.kernel_version},
            {"distribution", e.distribution},
            {"start_us", e.start_us},
            {"last_alive_us", e.last_alive_us},
            {"uptime_us", e.uptime_us},
            {"end", to_string(e.end)},
            {"trouble_kind", e.trouble_kind},
            {"trouble_signature", e.trouble_signature},
            {"trouble_function", e.trouble_function},
            {"known_bug", e.known_bug},
            {"trouble_count", e.trouble_count},
            {"end_description", describe_end(e)}};
}

std::optional<BootEntry> boot_entry_from_json(const json& j) {
    if (!j.is_object() || text(j, "boot_id").empty())
        return std::nullopt;
    BootEntry e;
    e.boot_id = text(j, "boot_id");
    e.kernel_release = text(j, "release");
    e.kernel_version = text(j, "version");
    e.distribution = text(j, "distribution");
    e.start_us = integer(j, "start_us");
    e.last_alive_us = integer(j, "last_alive_us");
    e.uptime_us = integer(j, "uptime_us");
    e.end = boot_end_from_string(text(j, "end")).value_or(BootEnd::running);
    e.trouble_kind = text(j, "trouble_kind");
    e.trouble_signature = text(j, "trouble_signature");
    e.trouble_function = text(j, "trouble_function");
    e.known_bug = text(j, "known_bug");
    e.trouble_count =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(count(j, "trouble_count"), UINT32_MAX));
    return e;
}

json trouble_to_json(const TroubleSnapshot& s) {
    json sigs = json::array();
    for (const auto& c : s.counts.by_signature)
        sigs.push_back({{"kind", to_string(c.kind)},
                        {"signature", c.signature},
                        {"function", c.function},
                        {"count", c.count}});
    json last = json::array();
    for (const auto& n : s.last)
        last.push_back({{"time", n.time},
                        {"kind", n.kind},
                        {"signature", n.signature},
                        {"function", n.function},
                        {"known_bug", n.known_bug}});
    json bugs = json::array();
    for (const auto& b : s.known_bugs)
        bugs.push_back({{"id", b.bug_id},
                        {"exposure", to_string(b.exposure)},
                        {"fixed_in", b.fixed_in},
                        {"unmet_conditions", b.unmet_conditions},
                        {"reason", b.reason}});
    return {{"seen", per_kind(s.counts.seen)},
            {"suppressed", per_kind(s.counts.suppressed)},
            {"signatures", sigs},
            {"other_signatures", s.counts.other_signatures},
            {"forged", s.counts.forged},
            {"truncated", s.counts.truncated},
            {"last", last},
            {"known_bugs", bugs},
            {"previous_boot", s.previous_boot ? boot_entry_to_json(*s.previous_boot) : json()},
            {"kmsg", s.kmsg_method}};
}

TroubleSnapshot trouble_from_json(const json& j) {
    TroubleSnapshot s;
    read_per_kind(member(j, "seen"), s.counts.seen);
    read_per_kind(member(j, "suppressed"), s.counts.suppressed);
    if (const auto* sigs = member(j, "signatures"); sigs != nullptr && sigs->is_array())
        for (const auto& c : *sigs)
            if (const auto k = trouble_kind_from_string(text(c, "kind")))
                s.counts.by_signature.push_back(
                    {*k, text(c, "signature"), text(c, "function"), count(c, "count")});
    s.counts.other_signatures = count(j, "other_signatures");
    s.counts.forged = count(j, "forged");
    s.counts.truncated = count(j, "truncated");
    if (const auto* last = member(j, "last"); last != nullptr && last->is_array())
        for (const auto& n : *last)
            s.last.push_back({integer(n, "time"), text(n, "kind"), text(n, "signature"),
                              text(n, "function"), text(n, "known_bug")});
    if (const auto* bugs = member(j, "known_bugs"); bugs != nullptr && bugs->is_array())
        for (const auto& b : *bugs) {
            BugVerdict v;
            v.bug_id = text(b, "id");
            v.exposure = exposure_from(text(b, "exposure"));
            v.fixed_in = text(b, "fixed_in");
            v.reason = text(b, "reason");
            if (const auto* u = member(b, "unmet_conditions"); u != nullptr && u->is_array())
                for (const auto& c : *u)
                    if (c.is_string())
                        v.unmet_conditions.push_back(c.get<std::string>());
            if (!v.bug_id.empty())
                s.known_bugs.push_back(std::move(v));
        }
    if (const auto* p = member(j, "previous_boot"))
        s.previous_boot = boot_entry_from_json(*p);
    s.kmsg_method = text(j, "kmsg");
    return s;
}

json parts_to_json(const std::vector<PartStatus>& parts) {
    json out = json::array();
    for (const auto& p : parts)
        out.push_back({{"part", p.part}, {"active", p.active}, {"detail", p.detail}});
    return out;
}

std::vector<PartStatus> parts_from_json(const json& j) {
    std::vector<PartStatus> out;
    if (!j.is_array())
        return out;
    for (const auto& p : j) {
        const auto* active = member(p, "active");
        if (text(p, "part").empty())
            continue;
        out.push_back({text(p, "part"),
                       active != nullptr && active->is_boolean() && active->get<bool>(),
                       text(p, "detail")});
    }
    return out;
}

std::vector<contract::KnownBugNote> known_bug_notes(const std::vector<BugVerdict>& verdicts) {
    std::vector<contract::KnownBugNote> out;
    for (const auto& v : verdicts) {
        if (v.exposure == BugExposure::not_affected)
            continue;
        // A version only ("6.1.113"); "no fix known" leaves the field out.
        const bool version =
            !v.fixed_in.empty() && v.fixed_in.front() >= '0' && v.fixed_in.front() <= '9';
        out.push_back(
            {v.bug_id, std::string(to_string(v.exposure)), version ? v.fixed_in : std::string()});
    }
    return out;
}

std::optional<contract::PreviousBootNode> previous_boot_node(const std::optional<BootEntry>& p) {
    if (!p)
        return std::nullopt;
    contract::PreviousBootNode n;
    n.end = std::string(to_string(p->end));
    n.boot_id = p->boot_id;
    n.release = p->kernel_release;
    n.last_alive = p->last_alive_us / 1'000'000;
    n.uptime = p->uptime_us / 1'000'000;
    n.trouble_kind = p->trouble_kind;
    n.signature = p->trouble_signature;
    n.function = p->trouble_function;
    n.known_bug = p->known_bug;
    return n;
}

contract::TroubleCountsNode counts_node(const TroubleCounts& counts) {
    contract::TroubleCountsNode n;
    for (std::size_t i = 0; i < trouble_kind_count; ++i) {
        if (counts.seen[i] > 0)
            n.kinds.emplace_back(std::string(to_string(static_cast<TroubleKind>(i))),
                                 counts.seen[i]);
        n.suppressed += counts.suppressed[i];
    }
    n.forged = counts.forged;
    return n;
}

} // namespace guardian

#include "guardian/core/trouble_sources.hpp"

#include "guardian/core/kernel_trouble.hpp"
#include "guardian/core/known_bugs.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

namespace guardian {
namespace {

template <typename Int> bool parse_int(std::string_view s, Int& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

// "Panic#1 Part1" -> reason, count, part.
bool parse_header(std::string_view line, PstoreDump& d) {
    const auto hash = line.find('#');
    const auto sp = line.find(" Part");
    if (hash == std::string_view::npos || sp == std::string_view::npos || sp < hash)
        return false;
    d.reason = std::string(line.substr(0, hash));
    static constexpr std::string_view reasons[] = {"Panic", "Oops",     "Emergency", "Restart",
                                                   "Halt",  "Poweroff", "Unknown"};
    if (std::find(std::begin(reasons), std::end(reasons), d.reason) == std::end(reasons))
        return false;
    return parse_int(line.substr(hash + 1, sp - hash - 1), d.count) &&
           parse_int(line.substr(sp + 5), d.part);
}

// A journal field as text: a string, or journald's array of byte values
// for a message that is not valid UTF-8.
std::optional<std::string> text_field(const nlohmann::json& j, const char* name) {
    const auto it = j.find(name);
    if (it == j.end())
        return std::nullopt;
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_array()) {
        std::string out;
        for (const auto& b : *it) {
            if (!b.is_number_unsigned() || b.get<unsigned>() > 255)
                return std::nullopt;
            out += static_cast<char>(b.get<unsigned>());
        }
        return out;
    }
    return std::nullopt;
}

template <typename Int> bool int_field(const nlohmann::json& j, const char* name, Int& out) {
    const auto s = text_field(j, name);
    return s && parse_int(*s, out);
}

} // namespace

std::optional<PstoreDump> parse_pstore_dmesg(std::string_view text) {
    PstoreDump d;
    const auto nl = text.find('\n');
    if (!parse_header(text.substr(0, nl), d))
        return std::nullopt;
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!text.empty()) {
        const auto end = text.find('\n');
        const auto line = text.substr(0, end);
        if (auto r = parse_syslog_line(line))
            d.records.push_back(std::move(*r));
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
    return d;
}

std::optional<KmsgRecord> kmsg_record_from_journal_json(std::string_view line) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return std::nullopt;
    auto message = text_field(j, "MESSAGE");
    if (!message)
        return std::nullopt;
    KmsgRecord r;
    r.message = std::move(*message);
    if (!r.message.empty() && r.message.back() == '\n')
        r.message.pop_back();
    if (!int_field(j, "PRIORITY", r.priority))
        r.priority = 6;
    if (!int_field(j, "SYSLOG_FACILITY", r.facility))
        r.facility = text_field(j, "_TRANSPORT").value_or("") == "kernel" ? 0 : 1;
    if (!int_field(j, "_SOURCE_MONOTONIC_TIMESTAMP", r.timestamp_us))
        (void)int_field(j, "__MONOTONIC_TIMESTAMP", r.timestamp_us);
    (void)int_field(j, "_KERNEL_SEQNUM", r.sequence);
    return r;
}

std::vector<std::string> guest_conditions(const std::vector<MountEntry>& mounts,
                                          const GuestShape& shape) {
    std::vector<std::string> out;
    for (const auto& m : mounts) {
        if (m.fs_type.empty())
            continue;
        std::string c = "fs:" + m.fs_type;
        if (std::find(out.begin(), out.end(), c) == out.end())
            out.push_back(std::move(c));
    }
    if (shape.xen_pv)
        out.emplace_back("xen:pv");
    if (shape.blkfront)
        out.emplace_back("xen:blkfront");
    if (shape.netfront)
        out.emplace_back("xen:netfront");
    return out;
}

std::vector<TroubleSeen> trouble_seen(const std::vector<KmsgRecord>& records,
                                      const RiskTable* table) {
    TroubleAssemblerOptions o;
    o.burst = 1u << 30; // count every report: a previous boot is read once
    TroubleAssembler assembler(o);
    std::vector<TroubleEvent> events;
    for (const auto& r : records)
        for (auto& e : assembler.feed(r))
            events.push_back(std::move(e));
    for (auto& e : assembler.flush())
        events.push_back(std::move(e));
    std::vector<TroubleSeen> out;
    for (const auto& e : events) {
        TroubleSeen t;
        t.kind = std::string(to_string(e.kind));
        t.signature = e.signature;
        t.function = e.function;
        if (table != nullptr)
            if (const auto bugs = match_known_bugs(*table, e); !bugs.empty())
                t.known_bug = bugs.front();
        t.at_us = static_cast<std::int64_t>(e.timestamp_us);
        out.push_back(std::move(t));
    }
    return out;
}

} // namespace guardian

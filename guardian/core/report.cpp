#include "guardian/core/report.hpp"

#include "guardian/core/guest_contract.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace guardian {
namespace {

// Node names built from vbd ids: digits only (xenstore ids are device numbers).
bool valid_vbd_id(const std::string& id) {
    return !id.empty() && id.size() <= 10 &&
           std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The most non-vbd nodes build_report writes (4 of trouble, 1 distribution).
constexpr std::size_t k_fixed_nodes = 18;
constexpr std::size_t k_nodes_per_vbd = 4;

} // namespace

std::string bounded_value(std::string_view text, std::size_t limit) {
    std::string out;
    out.reserve(std::min(text.size(), limit));
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n' || c == '\r' || c == '\t')
            out += ' ';
        else if (u < 0x20 || u > 0x7e)
            out += '?';
        else
            out += c;
    }
    if (out.size() > limit) {
        out.resize(limit >= 3 ? limit - 3 : 0);
        out += std::string("...").substr(0, std::min<std::size_t>(3, limit));
    }
    return out;
}

std::string VerificationTiming::describe() const {
    using std::chrono::duration;
    const auto ms = [](std::chrono::nanoseconds d) {
        return fmt::format("+{:.1f} ms", duration<double, std::milli>(d).count());
    };
    // Millisecond precision: the whole point is sub-second latencies.
    const auto secs = std::chrono::floor<std::chrono::seconds>(detected_realtime);
    const auto milli =
        std::chrono::duration_cast<std::chrono::milliseconds>(detected_realtime - secs);
    std::string when = iso8601_utc(secs);
    when.insert(when.size() - 1, fmt::format(".{:03d}", milli.count()));
    return fmt::format("detected {}; features {}; {}; verdict {}", when, ms(features),
                       first_read ? "first disk read " + ms(*first_read)
                                  : std::string("no disk read"),
                       ms(verdict));
}

std::size_t max_report_nodes(std::size_t vbds) {
    const std::size_t n = std::min(vbds, k_max_report_vbds);
    // + data/guardian itself, + vbd/, + one directory per vbd.
    return k_fixed_nodes + 1 + 1 + n * (k_nodes_per_vbd + 1);
}

ReportNodes build_report(const ReportInput& in) {
    ReportNodes n;
    n[std::string(contract::node::version)] = bounded_value(in.version, 64);
    n[std::string(contract::node::state)] = std::string(contract::to_string(in.state));
    n[std::string(contract::node::kernel)] = bounded_value(in.kernel, 64);
    // Absent when unknown, as in the reports of releases before it (the
    // trouble nodes likewise): for the same input the report stays what
    // they wrote (tests/fixtures/release-0.1).
    if (!in.distribution.empty())
        n[std::string(contract::node::distribution)] = bounded_value(in.distribution, 64);
    n[std::string(contract::node::suspend_safety)] = std::string(to_string(in.verdict.safety));
    n[std::string(contract::node::suspend_safety_reason)] = bounded_value(in.verdict.reason);
    if (in.last_restore) {
        n[std::string(contract::node::last_restore)] = bounded_value(
            contract::encode_last_restore(in.last_restore->realtime, in.last_restore->signals));
        std::string changes;
        for (const auto& c : in.last_restore->changes) {
            if (!changes.empty())
                changes += "; ";
            changes += c.compact();
            if (changes.size() > k_max_report_value)
                break;
        }
        n[std::string(contract::node::last_restore_changes)] = bounded_value(changes);
    } else {
        n[std::string(contract::node::last_restore)] = "";
        n[std::string(contract::node::last_restore_changes)] = "";
    }
    if (in.last_verification) {
        n[std::string(contract::node::last_verification)] =
            bounded_value(contract::encode_last_verification(in.last_verification->realtime,
                                                             in.last_verification->result));
        n[std::string(contract::node::last_verdict_reason)] =
            bounded_value(in.last_verification->reason);
        n[std::string(contract::node::last_verification_timing)] =
            bounded_value(in.last_verification->timing, 256);
    } else {
        n[std::string(contract::node::last_verification)] = "";
        n[std::string(contract::node::last_verdict_reason)] = "";
        n[std::string(contract::node::last_verification_timing)] = "";
    }
    // Encoded bounded (k_max_trouble_value) by the contract itself.
    if (const auto& t = in.trouble) {
        n[std::string(contract::node::trouble_counts)] = contract::encode_trouble_counts(t->counts);
        n[std::string(contract::node::trouble_last)] = contract::encode_trouble_last(t->last);
        n[std::string(contract::node::previous_boot)] = contract::encode_previous_boot(t->previous);
        n[std::string(contract::node::known_bugs)] = contract::encode_known_bugs(t->known_bugs);
    }
    std::size_t vbds = 0;
    std::size_t skipped = 0;
    for (const auto& v : in.vbds) {
        if (!valid_vbd_id(v.id) || vbds == k_max_report_vbds) {
            ++skipped;
            continue;
        }
        ++vbds;
        const std::string p = std::string(contract::node::vbd_dir) + "/" + v.id + "/";
        n[p + std::string(contract::node::vbd_backend)] = bounded_value(v.backend_path, 256);
        n[p + std::string(contract::node::vbd_features)] = bounded_value(feature_summary(v));
        n[p + std::string(contract::node::vbd_state)] =
            bounded_value(v.frontend_state.value_or("-"), 16);
        std::string dev = v.device.empty() ? "-" : v.device;
        dev += " sectors=" + (v.size_sectors ? std::to_string(*v.size_sectors) : "-");
        if (!v.partitions.empty()) {
            dev += " partitions=";
            for (std::size_t i = 0; i < v.partitions.size(); ++i)
                dev += (i ? "," : "") + v.partitions[i];
        }
        n[p + std::string(contract::node::vbd_device)] = bounded_value(dev, 256);
    }
    n[std::string(contract::node::vbd_count)] =
        std::to_string(vbds) + (skipped ? " (" + std::to_string(skipped) + " not reported)" : "");
    n[std::string(contract::node::schema)] = std::string(contract::k_report_schema);
    n[std::string(contract::node::updated)] = iso8601_utc(in.updated);
    return n;
}

} // namespace guardian

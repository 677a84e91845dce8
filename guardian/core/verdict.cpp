#include "guardian/core/verdict.hpp"

#include <algorithm>

namespace guardian {

std::string_view to_string(Verdict v) noexcept {
    switch (v) {
    case Verdict::healthy:
        return "healthy";
    case Verdict::warning:
        return "warning";
    case Verdict::critical:
        return "critical";
    }
    return "unknown";
}

std::string VerdictResult::summary() const {
    return reasons.empty() ? std::string("no change found") : reasons.front();
}

VerdictResult judge(const VerdictInput& in) {
    VerdictResult r;
    auto raise = [&r](Verdict v, std::string reason) {
        r.verdict = std::max(r.verdict, v);
        r.reasons.push_back(std::move(reason));
    };
    auto affect = [&r](const std::string& dev) {
        if (std::find(r.affected_devices.begin(), r.affected_devices.end(), dev) ==
            r.affected_devices.end())
            r.affected_devices.push_back(dev);
    };
    auto affect_all = [&] {
        for (const auto& fs : in.filesystems)
            affect(fs.device);
    };

    switch (in.features.severity) {
    case FeatureChangeSeverity::critical:
        // The block protocol itself is suspect: every filesystem on it is.
        raise(Verdict::critical, "block protocol: " + in.features.reason);
        affect_all();
        r.block_path_writes_unsafe = in.features.writes_unsafe;
        break;
    case FeatureChangeSeverity::warning:
        raise(Verdict::warning, "block protocol: " + in.features.reason);
        break;
    case FeatureChangeSeverity::none:
        break;
    }

    for (const auto& fs : in.filesystems) {
        if (!fs.scan_error.empty())
            raise(Verdict::warning, fs.device + ": could not verify: " + fs.scan_error);
        if (!fs.geometry.empty()) {
            raise(Verdict::critical,
                  fs.device + ": static geometry changed (" + describe(fs.geometry.front()) +
                      (fs.geometry.size() > 1
                           ? ", and " + std::to_string(fs.geometry.size() - 1) + " more"
                           : "") +
                      ")");
            affect(fs.device);
        }
        if (!fs.findings.empty()) {
            raise(Verdict::critical,
                  fs.device + ": " + std::to_string(fs.findings.size()) +
                      " damaged metadata object(s), first: " + describe(fs.findings.front()));
            affect(fs.device);
        }
        if (fs.frozen_compared && !fs.frozen_diff.empty()) {
            raise(Verdict::critical, fs.device + ": metadata changed while frozen (" +
                                         describe(fs.frozen_diff.front()) + ")");
            affect(fs.device);
        }
        if (fs.errors_count_growth > 0) {
            raise(Verdict::critical, fs.device + ": ext4 recorded " +
                                         std::to_string(fs.errors_count_growth) +
                                         " new error(s) since the restore");
            affect(fs.device);
        }
    }

    for (const auto& m : in.kmsg) {
        std::string reason = "kernel log: " + std::string(to_string(m.signature));
        if (!m.device.empty())
            reason += " on " + m.device;
        raise(Verdict::critical, reason);
        // A named device maps to the filesystems on it; otherwise all of them.
        bool matched = false;
        for (const auto& fs : in.filesystems)
            if (!m.device.empty() && fs.device.find(m.device) != std::string::npos) {
                affect(fs.device);
                matched = true;
            }
        if (!matched)
            affect_all();
    }
    return r;
}

} // namespace guardian

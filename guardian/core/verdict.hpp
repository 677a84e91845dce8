// The verdict after a restore: healthy, warning (recorded, no action) or
// critical (the policy acts). Pure: every piece of evidence the daemon
// gathered, fastest first, goes in; one verdict with its reasons comes out.
#pragma once

#include "guardian/core/findings.hpp"
#include "guardian/core/fingerprint.hpp"
#include "guardian/core/kmsg_signatures.hpp"
#include "guardian/core/risk_table.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace guardian {

enum class Verdict { healthy, warning, critical };
[[nodiscard]] std::string_view to_string(Verdict v) noexcept;

// What was learnt about one guarded filesystem.
struct FsEvidence {
    std::string device;      // "/dev/xvda1"
    std::string mount_point; // "/"
    std::string uuid;
    bool checked = false;                // a scan ran
    std::string scan_error;              // it could not run (e.g. device gone)
    std::vector<Difference> geometry;    // static geometry vs baseline (any = critical)
    std::vector<Finding> findings;       // checksum findings (any = critical)
    std::vector<Difference> frozen_diff; // coordinated mode: byte-exact vs pre-freeze
    bool frozen_compared = false;
    unsigned long errors_count_growth = 0; // /sys/fs/ext4/<dev>/errors_count since baseline
};

struct VerdictInput {
    FeatureChangeJudgement features;
    std::vector<FsEvidence> filesystems;
    std::vector<KmsgMatch> kmsg; // signatures seen in the window
};

struct VerdictResult {
    Verdict verdict = Verdict::healthy;
    std::vector<std::string> reasons;          // one line each; empty when healthy
    std::vector<std::string> affected_devices; // filesystems the policy must protect
    // The block path writes wrong data (FeatureChangeJudgement::writes_unsafe):
    // protecting must write nothing through it (docs/design.md, "Writing nothing").
    bool block_path_writes_unsafe = false;

    [[nodiscard]] std::string summary() const; // first reason, or "no change found"
};

[[nodiscard]] VerdictResult judge(const VerdictInput& in);

} // namespace guardian

// The ext4 metadata engine: one pass over a filesystem's metadata that both
// verifies it (checksums, per mode) and fingerprints it (geometry + region
// digests). libext2fs supplies the format's semantics; the reads are planned
// and issued here, in parallel, with O_DIRECT on devices so what is checked is
// what is on the disk, not what is in the page cache.
#pragma once

#include "guardian/core/findings.hpp"
#include "guardian/core/fingerprint.hpp"
#include "guardian/util/result.hpp"

#include <cstddef>
#include <string>

namespace guardian::ext4 {

struct ScanOptions {
    std::string path; // block device or image file
    CheckMode mode = CheckMode::live;
    bool direct_io = true;                 // O_DIRECT where the file allows it
    bool fingerprint = true;               // compute region digests (geometry is always recorded)
    unsigned queue_depth = 32;             // reads in flight at once
    std::size_t memory_budget = 32u << 20; // bytes of metadata buffered at once
};

struct ScanResult {
    CheckReport report;
    Fingerprint fingerprint;
};

// Errors (guardianctl exit 2): cannot open or read, not ext2/3/4, truncated
// image, unsupported feature set. Damage is not an error: it is a finding.
[[nodiscard]] Result<ScanResult> scan(const ScanOptions& options);

} // namespace guardian::ext4

// `guardiand --boot-report`, run once per boot by guardian-boot.service after
// the fsck units: collects what fsck did at this boot (journal), the previous
// boot's incident (journal) and each guarded-looking filesystem's superblock
// (libext2fs, read-only), logs one boot_report journal entry, publishes one
// line to xenstore data/guardian/boot-report and, after an incident, runs the
// `incident` hooks (the daemon could not: nothing is exec'd once writes stop).
#pragma once

#include "guardian/core/boot_report.hpp"
#include "guardian/core/config.hpp"
#include "guardian/util/log.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <string>

namespace guardian::xen {
class XenStore;
}

namespace guardian::boot {

struct BootReportOptions {
    SystemRoot root;             // /proc (boot id, boot time, mounts) is read under it
    Config config;               // guard / skip / hook_dir / hook_timeout
    std::string journal_dir;     // empty: the system journal
    xen::XenStore* xs = nullptr; // null: not a Xen guest, nothing published
};

// This boot's id as journald writes it (32 hex digits, no dashes).
[[nodiscard]] Result<std::string> read_boot_id(const SystemRoot& root);
// When this boot started (btime of /proc/stat), seconds since the epoch.
[[nodiscard]] Result<std::int64_t> read_boot_time(const SystemRoot& root);

// Collects the report; what cannot be collected becomes a note in it.
[[nodiscard]] BootReport collect_boot_report(const BootReportOptions& options);

// collect_boot_report, then log, publish and run hooks. Returns the exit
// status: 0 (also after an incident: the report is the job), 1 when not even
// the boot id could be read.
[[nodiscard]] int run_boot_report(const BootReportOptions& options, Logger& log);

} // namespace guardian::boot

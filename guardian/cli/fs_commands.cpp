// check, snapshot and compare: the filesystem half of guardianctl.
#include "guardian/cli/commands.hpp"

#include "guardian/core/findings_json.hpp"
#include "guardian/core/fingerprint.hpp"
#include "guardian/ext4/scan.hpp"
#include "guardian/sys/blkid_probe.hpp"
#include "guardian/sys/mounts.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/time_format.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <vector>

namespace guardian::cli {
namespace {

struct Job {
    std::string path;
    bool is_device = false;
    std::optional<MountEntry> mount;
};

void say_error(const std::string& message) {
    fmt::print(stderr, "guardianctl: {}\n", message);
}

// Which filesystems a command is about. Errors are one-line reasons.
Result<std::vector<Job>> resolve_targets(const Target& t, const SystemRoot& root) {
    std::vector<Job> jobs;
    auto mounts = sys::read_mounts(root);
    if (t.all_mounted) {
        if (!mounts)
            return mounts.error();
        for (const auto& m : sys::mounted_ext_filesystems(*mounts))
            jobs.push_back({m.source, true, m});
        return jobs;
    }
    Job j;
    j.is_device = !t.device.empty();
    j.path = j.is_device ? t.device : t.image;
    if (j.is_device && mounts)
        j.mount = sys::find_mount_of_device(*mounts, j.path);
    jobs.push_back(std::move(j));
    return jobs;
}

Result<CheckMode> resolve_mode(const std::string& requested, const Job& job) {
    if (requested != "auto") {
        const auto m = check_mode_from_string(requested);
        if (!m)
            return Error{"--mode must be live, stable or auto, not '" + requested + "'", 0};
        if (*m == CheckMode::stable && job.mount && !job.mount->read_only())
            say_error(fmt::format("warning: {} is mounted read-write on {}; in stable mode bitmap "
                                  "checksums may disagree until the journal is checkpointed "
                                  "(freeze it first, or use --mode live)",
                                  job.path, job.mount->mount_point));
        return *m;
    }
    // A read-write mounted filesystem changes under us: only live mode is honest.
    return (job.mount && !job.mount->read_only()) ? CheckMode::live : CheckMode::stable;
}

// libblkid first, so "this is vfat" is said in those words rather than as a
// bad-magic error from the ext4 reader.
Status require_ext(const std::string& path) {
    auto id = sys::probe_filesystem(path);
    if (!id)
        return id.error();
    if (id->type.empty())
        return Error{path + ": no filesystem signature found (not ext2/3/4)", 0};
    if (!is_ext_family(id->type))
        return Error{path + ": is " + id->type + ", not ext2/3/4", 0};
    return ok_status();
}

Result<ext4::ScanResult> scan_job(const Job& job, CheckMode mode, bool buffered, bool fingerprint) {
    GUARDIAN_TRY(require_ext(job.path));
    ext4::ScanOptions opts;
    opts.path = job.path;
    opts.mode = mode;
    opts.direct_io = !buffered;
    opts.fingerprint = fingerprint;
    return ext4::scan(opts);
}

void print_report_text(const CheckReport& r) {
    const std::string what =
        fmt::format("{} ({}{}{}, {} mode)", r.identity.source, r.identity.type,
                    r.identity.uuid.empty() ? "" : " ", r.identity.uuid, to_string(r.mode));
    const double secs = static_cast<double>(r.stats.seconds_x1e6) / 1e6;
    const double mib = static_cast<double>(r.stats.bytes_read) / (1024.0 * 1024.0);
    if (r.intact())
        fmt::print("{}: intact ({} inodes, {:.1f} MiB of metadata in {:.3f} s)\n", what,
                   r.stats.inodes_checked, mib, secs);
    else
        fmt::print("{}: DAMAGED, {} finding{}\n", what, r.findings.size(),
                   r.findings.size() == 1 ? "" : "s");
    for (const auto& f : r.findings)
        fmt::print("  {}\n", describe(f));
    for (const auto& n : r.not_verified)
        fmt::print("  not verified: {}\n", n);
}

} // namespace

int run_check(const CheckArgs& args) {
    const SystemRoot root(args.root);
    auto jobs = resolve_targets(args.target, root);
    if (!jobs) {
        say_error(jobs.error().message);
        return k_exit_cannot_check;
    }
    if (jobs->empty()) {
        say_error("no mounted ext2/3/4 filesystem on a block device");
        if (args.json)
            fmt::print("{}\n", nlohmann::json{{"findings", nlohmann::json::array()},
                                              {"filesystems", nlohmann::json::array()}}
                                   .dump(1));
        return k_exit_ok;
    }
    bool damage = false;
    bool failed = false;
    nlohmann::json all_findings = nlohmann::json::array();
    nlohmann::json filesystems = nlohmann::json::array();
    for (const auto& job : *jobs) {
        auto mode = resolve_mode(args.mode, job);
        if (!mode) {
            say_error(mode.error().message);
            return k_exit_cannot_check;
        }
        auto result = scan_job(job, *mode, args.buffered, /*fingerprint=*/false);
        if (!result) {
            std::string msg = result.error().message;
            if (job.mount)
                msg += " (the filesystem mounted on " + job.mount->mount_point + ")";
            // Root in a container or a sandbox may still be refused the device.
            if (result.error().code == EPERM || result.error().code == EACCES)
                msg += "; reading a block device needs root, and a container may not expose it";
            say_error(msg);
            failed = true;
            filesystems.push_back({{"source", job.path}, {"error", msg}});
            continue;
        }
        const CheckReport& r = result->report;
        damage = damage || !r.intact();
        auto j = check_report_to_json(r);
        for (auto f : j["findings"]) {
            f["source"] = r.identity.source;
            all_findings.push_back(std::move(f));
        }
        filesystems.push_back(std::move(j));
        if (!args.json)
            print_report_text(r);
    }
    if (args.json) {
        nlohmann::json out;
        if (jobs->size() == 1 && !filesystems[0].contains("error"))
            out = filesystems[0];
        out["findings"] = all_findings;
        if (args.target.all_mounted)
            out["filesystems"] = filesystems;
        fmt::print("{}\n", out.dump(1));
    }
    if (damage)
        return k_exit_damage;
    return failed ? k_exit_cannot_check : k_exit_ok;
}

int run_snapshot(const SnapshotArgs& args) {
    auto jobs = resolve_targets(args.target, SystemRoot());
    if (!jobs) {
        say_error(jobs.error().message);
        return k_exit_cannot_check;
    }
    const Job& job = jobs->front();
    auto mode = resolve_mode(args.mode, job);
    if (!mode) {
        say_error(mode.error().message);
        return k_exit_cannot_check;
    }
    auto result = scan_job(job, *mode, args.buffered, /*fingerprint=*/true);
    if (!result) {
        say_error(result.error().message);
        return k_exit_cannot_check;
    }
    Fingerprint& fp = result->fingerprint;
    fp.taken_at = now_iso8601();
    if (auto st = write_file_atomic(args.output, fingerprint_to_json(fp)); !st) {
        say_error(st.error().message);
        return k_exit_cannot_check;
    }
    fmt::print(stderr, "guardianctl: wrote fingerprint of {} ({} regions, {} mode) to {}\n",
               job.path, fp.regions.size(), to_string(fp.mode), args.output);
    if (!result->report.intact())
        fmt::print(stderr,
                   "guardianctl: note: the check found {} damaged object(s); run "
                   "`guardianctl check` for details\n",
                   result->report.findings.size());
    return k_exit_ok;
}

int run_compare(const CompareArgs& args) {
    auto load = [](const std::string& path) -> Result<Fingerprint> {
        auto text = read_text_file(path, 256u << 20);
        if (!text)
            return text.error();
        auto fp = fingerprint_from_json(*text);
        if (!fp)
            return Error{path + ": " + fp.error().message, 0};
        return fp;
    };
    auto before = load(args.before);
    if (!before) {
        say_error(before.error().message);
        return k_exit_cannot_check;
    }
    auto after = load(args.after);
    if (!after) {
        say_error(after.error().message);
        return k_exit_cannot_check;
    }
    const auto diffs = compare(*before, *after);
    if (args.json) {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& d : diffs) {
            nlohmann::json j{{"structure", to_string(d.structure)},
                             {"kind", d.kind == Difference::Kind::changed ? "changed"
                                      : d.kind == Difference::Kind::added ? "added"
                                                                          : "removed"},
                             {"before", d.before},
                             {"after", d.after}};
            if (d.group)
                j["group"] = *d.group;
            if (!d.field.empty())
                j["field"] = d.field;
            arr.push_back(std::move(j));
        }
        fmt::print("{}\n",
                   nlohmann::json{{"identical", diffs.empty()}, {"differences", arr}}.dump(1));
    } else if (diffs.empty()) {
        fmt::print("identical\n");
    } else {
        fmt::print("{} difference{}:\n", diffs.size(), diffs.size() == 1 ? "" : "s");
        for (const auto& d : diffs)
            fmt::print("  {}\n", describe(d));
    }
    return diffs.empty() ? k_exit_ok : k_exit_damage;
}

} // namespace guardian::cli

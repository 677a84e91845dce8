// guardianctl: the command-line front end. It only parses arguments and hands
// them to the subcommands; everything else lives in the modules it links.
#include "guardian/cli/commands.hpp"

#include "guardian/util/cli_parse.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <exception>

namespace {

using guardian::cli::Target;

void add_target_options(CLI::App& cmd, Target& t, bool allow_all_mounted) {
    auto* group = cmd.add_option_group("target", "what to read (exactly one)");
    group->add_option("--device", t.device, "a block device, e.g. /dev/xvda1");
    group->add_option("--image", t.image, "a filesystem image file");
    if (allow_all_mounted)
        group->add_flag("--all-mounted", t.all_mounted,
                        "every mounted ext2/3/4 filesystem on a block device");
    group->require_option(1);
}

constexpr const char* k_footer = R"(
Exit status: 0 intact (check) or identical (compare); 1 damage found or
different; 2 could not check (not ext4, unreadable, truncated, bad usage).

Modes: `live` trusts only self-contained checksums (superblock, group
descriptors, inodes, extent, directory, htree, xattr and journal blocks) and
is safe on a mounted, busy filesystem. `stable` also checks block and inode
bitmap checksums, which lag on disk until the journal is checkpointed: use it
on unmounted or frozen filesystems. `auto` (default) picks live for a
read-write mounted device and stable otherwise.

Examples:
  guardianctl check --all-mounted
  guardianctl check --device /dev/xvda1 --mode live --json
  guardianctl snapshot --image disk.img -o before.json
  guardianctl compare before.json after.json
  guardianctl status
  guardianctl status --prometheus -o /var/lib/prometheus/node-exporter/guardian.prom
  guardianctl history --limit 5
)";

} // namespace

int main(int argc, char** argv) try {
    CLI::App app{"guardianctl: verify and fingerprint ext4 metadata, the way guardiand does "
                 "after a Xen restore"};
    app.footer(k_footer);
    app.set_version_flag("--version", std::string("guardianctl ") + GUARDIAN_VERSION);
    app.require_subcommand(1);

    guardian::cli::CheckArgs check;
    auto* c = app.add_subcommand("check", "verify a filesystem's metadata checksums and geometry");
    add_target_options(*c, check.target, true);
    c->add_option("--mode", check.mode, "live | stable | auto")
        ->check(CLI::IsMember({"live", "stable", "auto"}));
    c->add_flag("--json", check.json, "machine-readable output (schema in README)");
    c->add_flag("--buffered", check.buffered, "read through the page cache instead of O_DIRECT");
    c->add_option("--root", check.root, "system root for /proc (for tests)")->group("");

    guardian::cli::SnapshotArgs snap;
    auto* s = app.add_subcommand("snapshot", "write a metadata fingerprint file (JSON)");
    add_target_options(*s, snap.target, false);
    s->add_option("-o,--output", snap.output, "fingerprint file to write")->required();
    s->add_option("--mode", snap.mode, "live | stable | auto")
        ->check(CLI::IsMember({"live", "stable", "auto"}));
    s->add_flag("--buffered", snap.buffered, "read through the page cache instead of O_DIRECT");

    guardian::cli::CompareArgs cmp;
    auto* m = app.add_subcommand("compare", "compare two fingerprint files region by region");
    m->add_option("BEFORE", cmp.before, "earlier fingerprint")->required();
    m->add_option("AFTER", cmp.after, "later fingerprint")->required();
    m->add_flag("--json", cmp.json, "machine-readable output");

    guardian::cli::StatusArgs status;
    auto* st =
        app.add_subcommand("status", "this guest's vbds, kernel verdict and guardiand state");
    auto* st_json = st->add_flag("--json", status.json, "machine-readable output");
    auto* st_prom = st->add_flag("--prometheus", status.prometheus,
                                 "Prometheus text format (node_exporter textfile collector)");
    st_prom->excludes(st_json);
    st->add_option("-o,--output", status.output,
                   "with --prometheus: write this file atomically (mode 0644)")
        ->needs(st_prom);
    st->add_option("--risk-table", status.risk_table, "kernel risk table (JSON)")
        ->capture_default_str();
    st->add_option("--root", status.root, "system root for /proc and /sys (for tests)")->group("");

    guardian::cli::HistoryArgs history;
    auto* h = app.add_subcommand("history", "guardiand's verifications, newest last");
    h->add_flag("--json", history.json, "machine-readable output");
    h->add_flag("--boots", history.boots,
                "the boot history: each boot's kernel, how it ended and the trouble its end is "
                "attributed to, then unclean ends per kernel release");
    h->add_option("--limit", history.limit, "show the newest N (0: all)")->capture_default_str();
    h->add_option("--root", history.root, "system root for /var/lib (for tests)")->group("");

    guardian::cli::SleepHookArgs sleep;
    auto* sh = app.add_subcommand(
        "sleep-hook",
        "tell guardiand about ACPI sleep/resume (systemd-sleep hook; always exits 0)");
    sh->add_option("PHASE", sleep.phase, "pre (going to sleep) | post (resumed)")
        ->required()
        ->check(CLI::IsMember({"pre", "post"}));
    sh->add_option("KIND", sleep.kind, "suspend | hibernate | hybrid-sleep | ...")
        ->capture_default_str();
    sh->add_option("--root", sleep.root, "system root for /run and /proc (for tests)")->group("");

    if (const auto done = guardian::parse_command_line(app, argc, argv))
        return *done;
    if (c->parsed())
        return guardian::cli::run_check(check);
    if (s->parsed())
        return guardian::cli::run_snapshot(snap);
    if (st->parsed())
        return guardian::cli::run_status(status);
    if (h->parsed())
        return history.boots ? guardian::cli::run_boot_history(history)
                             : guardian::cli::run_history(history);
    if (sh->parsed())
        return guardian::cli::run_sleep_hook(sleep);
    return guardian::cli::run_compare(cmp);
} catch (const std::exception& e) {
    fmt::print(stderr, "guardianctl: internal error: {}\n", e.what());
    return guardian::cli::k_exit_cannot_check;
}

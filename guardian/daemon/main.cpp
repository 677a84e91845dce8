// guardiand: wires the adapters to the core and runs the one event loop.
#include "guardian/boot/boot_record.hpp"
#include "guardian/boot/boot_report_run.hpp"
#include "guardian/config/config_files.hpp"
#include "guardian/core/message_ids.hpp"
#include "guardian/core/risk_table.hpp"
#include "guardian/daemon/daemon.hpp"
#include "guardian/journal/journal_logger.hpp"
#include "guardian/sys/clocks.hpp"
#include "guardian/sys/kernel_info.hpp"
#include "guardian/systemd/event_loop.hpp"
#include "guardian/systemd/notify.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/log.hpp"
#include "guardian/util/memory_lock.hpp"
#include "guardian/xen/blkfront_capture.hpp"
#include "guardian/xen/xs_client.hpp"

#include "guardian/util/cli_parse.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <unistd.h>

namespace {

using namespace guardian; // NOLINT: a main file, not a header

// sysexits.h EX_CONFIG: the unit's RestartPreventExitStatus= names it.
constexpr int k_exit_config = 78;

struct Options {
    bool foreground = false;
    bool check_config = false;
    bool dump_config = false;
    bool no_mlock = false;
    bool boot_report = false;
    std::string journal_dir; // --boot-report: journal files to read instead of the system's
    std::string root;
    std::string guard_exe = std::string(GUARDIAN_LIBEXECDIR) + "/guardian-freeze-guard";
};

// The daemon's Timers port on the event loop.
class LoopTimers final : public daemon::Timers {
public:
    explicit LoopTimers(systemd::EventLoop& loop, Logger& log) : m_loop(loop), m_log(log) {}
    void set(daemon::TimerSlot slot, std::chrono::nanoseconds from_now,
             std::function<void()> cb) override {
        if (auto st = m_loop.set_timer(static_cast<int>(slot), from_now, std::move(cb)); !st)
            m_log.error("timer: " + st.error().message);
    }
    void cancel(daemon::TimerSlot slot) override { m_loop.cancel_timer(static_cast<int>(slot)); }

private:
    systemd::EventLoop& m_loop;
    Logger& m_log;
};

KernelVerdict load_verdict(const std::string& path, const sys::KernelInfo& kernel,
                           const SystemRoot& root, Logger& log) {
    auto text = read_text_file(path, 4u << 20);
    if (!text) {
        log.warning("kernel risk table: " + text.error().message + "; suspend safety unknown");
        return KernelVerdict{
            Safety::unknown, "", "no kernel risk table: " + text.error().message, {}};
    }
    auto table = parse_risk_table(*text);
    if (!table) {
        log.error(path + ": " + table.error().message);
        return KernelVerdict{Safety::unknown, "", "kernel risk table unreadable", {}};
    }
    // The loaded xen-blkfront build is evidence too (risk table `modules`).
    return judge_kernel(*table, kernel.release, kernel.package_version,
                        xen::read_blkfront_module(root));
}

// Not in the foreground: natively to the system log when stderr is the
// journal's stream, and also when stderr is no terminal at all (systemd
// before 231 sets no $JOURNAL_STREAM; a SysV init script sends stderr to
// /dev/null): JournalLogger falls back from journald to syslog to /dev/kmsg.
std::unique_ptr<Logger> make_logger(const Options& o, Priority level, const SystemRoot& root) {
    if (!o.foreground && (journal::stderr_is_journal() || ::isatty(2) == 0))
        return std::make_unique<journal::JournalLogger>(level, "guardiand", root);
    return std::make_unique<StderrLogger>(level, /*prefixes=*/!o.foreground);
}

// /run/guardian/guardiand.pid: how `guardianctl sleep-hook` finds the daemon
// to signal. Written only once SIGUSR1/SIGUSR2 are handled (their default
// action would kill the daemon), removed at exit.
class PidFile {
public:
    explicit PidFile(std::string path) : m_path(std::move(path)) {}
    PidFile(const PidFile&) = delete;
    PidFile& operator=(const PidFile&) = delete;
    ~PidFile() {
        if (m_written) {
            std::error_code ec;
            std::filesystem::remove(m_path, ec);
        }
    }
    [[nodiscard]] Status write() {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(m_path).parent_path(), ec);
        GUARDIAN_TRY(write_file_atomic(m_path, std::to_string(::getpid()) + "\n"));
        m_written = true;
        return ok_status();
    }

private:
    std::string m_path;
    bool m_written = false;
};

int run_boot_report(const Options& o, const SystemRoot& root) {
    auto config = load_config(root);
    auto log_ptr = make_logger(o, config ? config->config.log_level : Priority::info, root);
    boot::BootReportOptions bo;
    bo.root = root;
    if (config)
        bo.config = config->config;
    else
        // The report matters most after an incident: report with the
        // defaults rather than not at all.
        log_ptr->error("configuration: " + config.error().message + "; using the defaults",
                       {{"MESSAGE_ID", std::string(message_id::config_error)}});
    bo.journal_dir = o.journal_dir;
    std::unique_ptr<xen::XenStore> xs;
    if (auto opened = xen::open_xenstore(root); opened)
        xs = std::move(opened).value();
    bo.xs = xs.get();
    return boot::run_boot_report(bo, *log_ptr);
}

int run(const Options& o) {
    const SystemRoot root(o.root);
    if (o.boot_report)
        return run_boot_report(o, root);
    auto config = load_config(root);
    if (!config) {
        // Refuse to start: a daemon that may reboot the machine must not
        // guess what its operator meant.
        StderrLogger log(Priority::info, !o.foreground);
        log.log(Priority::err, "configuration: " + config.error().message,
                {{"MESSAGE_ID", std::string(message_id::config_error)}});
        return k_exit_config; // RestartPreventExitStatus= in the unit: no restart loop
    }
    if (o.check_config || o.dump_config) {
        if (o.dump_config)
            fmt::print("{}", render_config(*config));
        else
            fmt::print("configuration OK\n");
        return 0;
    }
    auto log_ptr = make_logger(o, config->config.log_level, root);
    Logger& log = *log_ptr;

    // Everything the emergency path touches must already be in memory when
    // the writes stop (no page-ins from a disk we no longer trust).
    if (!o.no_mlock)
        if (const Status locked = lock_memory(); !locked)
            log.warning(locked.error().message + "; the emergency path may page in from disk");

    auto kernel = sys::read_kernel_info(root);
    if (!kernel) {
        log.error("kernel release: " + kernel.error().message);
        return 1;
    }
    daemon::DaemonSettings settings;
    settings.config = config->config;
    settings.kernel = *kernel;
    settings.distribution = sys::read_distribution(root);
    settings.verdict = load_verdict(config->config.risk_table, *kernel, root, log);
    settings.guard_exe = o.guard_exe;
    log.info(fmt::format("kernel {}: suspend {} ({})", kernel->release,
                         to_string(settings.verdict.safety), settings.verdict.reason));

    auto loop = systemd::EventLoop::create();
    if (!loop) {
        log.error(loop.error().message);
        return 1;
    }
    std::unique_ptr<xen::XenStore> xs;
    if (auto opened = xen::open_xenstore(root); opened)
        xs = std::move(opened).value();
    else
        log.notice("not watching xenstore: " + opened.error().message);

    SystemClocks clocks;
    LoopTimers timers(*loop, log);
    protect::RealFsActions fs_actions;
    protect::ImmediateRebooter immediate;
    protect::OrderlyRebooter orderly;
    protect::SignalProcessHalter halter;
    daemon::DaemonPorts ports{xs.get(),
                              &clocks,
                              &log,
                              &timers,
                              config->config.reboot == RebootMode::orderly
                                  ? static_cast<protect::Rebooter*>(&orderly)
                                  : &immediate,
                              &fs_actions,
                              root,
                              &immediate,
                              &halter};
    daemon::Daemon d(ports, settings);
    systemd::notify_status("taking the baseline");
    if (auto st = d.start(); !st) {
        log.error("start: " + st.error().message);
        return 1;
    }
    // The boot report's trace of this boot if its journal never reaches the
    // disk (see core/boot_report.hpp).
    if (auto rec = boot::record_boot_start(
            root,
            std::chrono::duration_cast<std::chrono::microseconds>(clocks.now().realtime).count());
        !rec)
        log.warning("boot record: " + rec.error().message);

    Status wired = ok_status();
    auto wire = [&wired](Status st) {
        if (wired.ok() && !st.ok())
            wired = std::move(st);
    };
    if (xs)
        wire(loop->watch_readable(xs->watch_fd(), [&d] { d.on_xenstore_readable(); }));
    if (d.kmsg_fd() >= 0)
        wire(loop->watch_readable(d.kmsg_fd(), [&d] { d.on_kmsg_readable(); }));
    auto clock_watch = ClockChangeWatcher::create();
    if (!clock_watch) {
        log.error("clock watcher: " + clock_watch.error().message);
        return 1;
    }
    wire(loop->watch_readable(clock_watch->fd(), [&] {
        auto set = clock_watch->consume();
        if (set && *set)
            d.on_clock_set();
    }));
    for (int sig : {SIGTERM, SIGINT})
        wire(loop->on_signal(sig, [&] {
            systemd::notify_stopping();
            d.shutdown();
            loop->exit(0);
        }));
    wire(loop->on_signal(SIGUSR1, [&d] { d.on_sleep_hook(false); }));
    wire(loop->on_signal(SIGUSR2, [&d] { d.on_sleep_hook(true); }));
    if (!wired.ok()) {
        log.error(wired.error().message);
        return 1;
    }
    PidFile pid_file(root.path(settings.run_dir + "/guardiand.pid"));
    if (auto st = pid_file.write(); !st)
        log.warning("pid file (the sleep hook cannot reach us): " + st.error().message);
    if (auto st = loop->enable_watchdog(); !st)
        log.warning(st.error().message);

    systemd::notify_ready(xs ? "watching for restores" : "not a Xen guest: watching sleep/resume");
    if (auto st = loop->run(); !st) {
        log.error(st.error().message);
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) try {
    Options o;
    CLI::App app{"guardiand: notices every Xen restore or migration of this guest, checks that "
                 "the disks and the block protocol still match, stops writes and forces a full "
                 "fsck when they do not, and reports to the provider through xenstore "
                 "data/guardian/"};
    app.set_version_flag("--version", std::string("guardiand ") + GUARDIAN_VERSION);
    app.footer(R"(
Configuration: /etc/guardian/guardian.conf and /etc/guardian/conf.d/*.conf
(see guardian.conf(5) and `guardiand --dump-config`). Signals: SIGTERM stops
(thawing anything frozen), SIGUSR1/SIGUSR2 are the systemd-sleep hook's
"going to sleep" / "resumed".)");
    app.add_flag("--foreground", o.foreground, "log to stderr without syslog priority prefixes");
    app.add_flag("--check-config", o.check_config, "parse the configuration and exit (0 if valid)");
    app.add_flag("--dump-config", o.dump_config, "print the effective configuration and exit");
    app.add_flag("--no-mlock", o.no_mlock, "do not lock memory (tests)");
    app.add_flag("--boot-report", o.boot_report,
                 "report what fsck did at this boot and the previous boot's incident, then exit "
                 "(guardian-boot.service)");
    app.add_option("--journal-dir", o.journal_dir, "journal files to read (tests)")->group("");
    app.add_option("--freeze-guard", o.guard_exe, "path of guardian-freeze-guard")
        ->capture_default_str();
    app.add_option("--root", o.root, "system root for /proc, /sys, /dev, /etc (tests)")->group("");
    if (const auto done = guardian::parse_command_line(app, argc, argv))
        return *done;
    return run(o);
} catch (const std::exception& e) {
    fmt::print(stderr, "guardiand: fatal: {}\n", e.what());
    return 1;
}

// guardiand: wires the adapters to the core and runs the one event loop.
#include "guardian/core/risk_table.hpp"
#include "guardian/daemon/restore_watch.hpp"
#include "guardian/sys/clocks.hpp"
#include "guardian/sys/kernel_info.hpp"
#include "guardian/systemd/event_loop.hpp"
#include "guardian/util/fd.hpp"
#include "guardian/util/log.hpp"
#include "guardian/xen/xs_client.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <csignal>
#include <memory>

namespace {

using namespace guardian; // NOLINT: a main file, not a header

struct Options {
    bool foreground = false;
    std::string root;
    std::string risk_table = std::string(GUARDIAN_DATADIR) + "/kernel-risk.json";
    double settle_seconds = 10.0;
};

constexpr int k_settle_timer = 1;

KernelVerdict load_verdict(const Options& o, const sys::KernelInfo& kernel, Logger& log) {
    auto text = read_text_file(o.risk_table, 4u << 20);
    if (!text) {
        log.warning("kernel risk table: " + text.error().message + "; suspend safety unknown");
        return KernelVerdict{
            Safety::unknown, "", "no kernel risk table: " + text.error().message, {}};
    }
    auto table = parse_risk_table(*text);
    if (!table) {
        log.error(o.risk_table + ": " + table.error().message);
        return KernelVerdict{Safety::unknown, "", "kernel risk table unreadable", {}};
    }
    return judge_kernel(*table, kernel.release, kernel.package_version);
}

int run(const Options& o) {
    StderrLogger log(Priority::info, /*prefixes=*/!o.foreground);
    const SystemRoot root(o.root);

    auto kernel = sys::read_kernel_info(root);
    if (!kernel) {
        log.error("kernel release: " + kernel.error().message);
        return 1;
    }
    const KernelVerdict verdict = load_verdict(o, *kernel, log);
    log.info(fmt::format("kernel {}: suspend {} ({})", kernel->release, to_string(verdict.safety),
                         verdict.reason));

    auto loop = systemd::EventLoop::create();
    if (!loop) {
        log.error(loop.error().message);
        return 1;
    }
    SystemClocks clocks;
    std::unique_ptr<xen::XenStore> xs;
    std::unique_ptr<daemon::RestoreWatch> watch;

    if (auto opened = xen::open_xenstore(); opened) {
        xs = std::move(opened).value();
        watch = std::make_unique<daemon::RestoreWatch>(
            *xs, clocks, log, root,
            daemon::RestoreWatchSettings{GUARDIAN_VERSION, kernel->release, verdict, {}});
        if (auto st = watch->start(); !st) {
            log.error("xenstore: " + st.error().message);
            return 1;
        }
        auto* w = watch.get();
        auto* l = &*loop;
        const auto settle = std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(o.settle_seconds));
        auto arm_settle = [w, l, settle, &log] {
            if (!w->settling())
                return;
            if (auto st = l->set_timer(k_settle_timer, settle, [w] { w->on_settle_timeout(); });
                !st)
                log.warning(st.error().message);
        };
        if (auto st = loop->watch_readable(xs->watch_fd(),
                                           [w, arm_settle] {
                                               w->on_xenstore_readable();
                                               arm_settle();
                                           });
            !st) {
            log.error(st.error().message);
            return 1;
        }
    } else {
        log.notice("not watching xenstore: " + opened.error().message);
    }

    auto clock_watch = ClockChangeWatcher::create();
    if (!clock_watch) {
        log.error("clock watcher: " + clock_watch.error().message);
        return 1;
    }
    if (auto st = loop->watch_readable(clock_watch->fd(),
                                       [&] {
                                           auto set = clock_watch->consume();
                                           if (set && *set && watch)
                                               watch->on_clock_set();
                                       });
        !st) {
        log.error(st.error().message);
        return 1;
    }
    for (int sig : {SIGTERM, SIGINT}) {
        if (auto st = loop->on_signal(sig,
                                      [&] {
                                          systemd::notify_stopping();
                                          if (watch) {
                                              watch->set_state("stopped");
                                              (void)watch->publish(); // best effort on the way out
                                          }
                                          loop->exit(0);
                                      });
            !st) {
            log.error(st.error().message);
            return 1;
        }
    }
    if (auto st = loop->enable_watchdog(); !st)
        log.warning(st.error().message);

    systemd::notify_ready(watch ? "watching for restores" : "no xenstore: idle");
    log.info("guardiand ready");
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
                 "the disks and the block protocol still match, and reports to the provider "
                 "through xenstore data/guardian/"};
    app.set_version_flag("--version", std::string("guardiand ") + GUARDIAN_VERSION);
    app.add_flag("--foreground", o.foreground, "log to stderr without syslog priority prefixes");
    app.add_option("--risk-table", o.risk_table, "kernel risk table (JSON)")->capture_default_str();
    app.add_option("--settle", o.settle_seconds,
                   "seconds to wait for vbds to reconnect after a restore before judging")
        ->capture_default_str();
    app.add_option("--root", o.root, "system root for /proc, /sys, /dev (tests)")->group("");
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        (void)app.exit(e);
        return 2;
    }
    return run(o);
} catch (const std::exception& e) {
    fmt::print(stderr, "guardiand: fatal: {}\n", e.what());
    return 1;
}

// guardian-hostd: the provider's dom0 service. Wires xenstore, the
// hypervisor and the ledger to hostd::Service and runs one event loop.
#include "guardian/hostd/service.hpp"
#include "guardian/journal/journal_logger.hpp"
#include "guardian/systemd/event_loop.hpp"
#include "guardian/systemd/notify.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/xen/xs_client.hpp"

#include "guardian/util/cli_parse.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <unistd.h>

namespace {

using namespace guardian; // NOLINT: a main file, not a header

struct Options {
    std::string ledger = "/var/lib/guardian-host/ledger.sqlite";
    std::string xen_log_dir = "/var/log/xen";
    std::string console_log_dir; // "" = <xen_log_dir>/console
    bool foreground = false;
    bool verbose = false;
    bool no_hypervisor = false;
    ledger::Limits limits;
};

enum TimerSlot { reconnect_timer = 1, prune_timer = 2, tick_timer = 3 };

double wall_clock() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

hostd::ServiceOptions service_options(const Options& o) {
    hostd::ServiceOptions s;
    s.xen_log_dir = o.xen_log_dir;
    s.console_excerpt_bytes = 2048;
    s.console_dir = o.console_log_dir;
    return s;
}

// The service and its xenstore connection; rebuilt when xenstored restarts.
struct Connected {
    std::unique_ptr<xen::XsClient> xs;
    std::unique_ptr<hostd::Service> service;
};

int run(const Options& o) {
    std::unique_ptr<Logger> log_ptr;
    const Priority level = o.verbose ? Priority::debug : Priority::info;
    if (!o.foreground && (journal::stderr_is_journal() || ::isatty(2) == 0))
        log_ptr = std::make_unique<journal::JournalLogger>(level, "guardian-hostd", SystemRoot());
    else
        log_ptr = std::make_unique<StderrLogger>(level, !o.foreground);
    Logger& log = *log_ptr;

    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(o.ledger).parent_path(), ec);
    auto ledger = ledger::Ledger::open(o.ledger, o.limits);
    if (!ledger) {
        log.error(ledger.error().message);
        return 1;
    }
    std::unique_ptr<hostd::Hypervisor> hypervisor;
    if (!o.no_hypervisor) {
        if (auto hv = hostd::open_hypervisor(); hv)
            hypervisor = std::move(hv).value();
        else
            log.warning(hv.error().message + "; shutdown reasons from xl's log only");
    }
    auto loop = systemd::EventLoop::create();
    if (!loop) {
        log.error(loop.error().message);
        return 1;
    }

    Connected c;
    std::function<void()> connect;
    // Drops the connection and tries again in a second: xenstored restarts
    // (or an upgrade) must not end the service's memory.
    auto lost = [&](const std::string& why) {
        log.warning("xenstore: " + why + "; reconnecting");
        systemd::notify_status("xenstore connection lost; reconnecting");
        c = Connected{};
        (void)loop->set_timer(reconnect_timer, std::chrono::seconds(1), [&] { connect(); });
    };
    connect = [&] {
        auto xs = xen::XsClient::open();
        if (!xs) {
            lost(xs.error().message);
            return;
        }
        c.xs = std::move(xs).value();
        c.service = std::make_unique<hostd::Service>(*c.xs, hypervisor.get(), *ledger, log,
                                                     service_options(o), wall_clock);
        if (auto st = c.service->start(); !st) {
            lost(st.error().message);
            return;
        }
        if (auto st = loop->watch_readable(c.xs->watch_fd(),
                                           [&] {
                                               if (auto ev = c.service->on_watch_events(); !ev)
                                                   lost(ev.error().message);
                                           });
            !st) {
            lost(st.error().message);
            return;
        }
        systemd::notify_status(fmt::format("recording {} into {}", "domains", o.ledger));
    };
    // Reports a flooding guest made us hold back, every 10 s.
    std::function<void()> tick = [&] {
        if (c.service) {
            if (auto st = c.service->tick(); !st)
                lost(st.error().message);
        }
        (void)loop->set_timer(tick_timer, std::chrono::seconds(10), tick);
    };
    // Retention, once a day.
    std::function<void()> prune = [&] {
        if (auto n = ledger->prune(wall_clock()); !n)
            log.warning("ledger prune: " + n.error().message);
        (void)loop->set_timer(prune_timer, std::chrono::hours(24), prune);
    };

    for (int sig : {SIGTERM, SIGINT})
        if (auto st = loop->on_signal(sig,
                                      [&] {
                                          systemd::notify_stopping();
                                          loop->exit(0);
                                      });
            !st) {
            log.error(st.error().message);
            return 1;
        }
    connect();
    prune();
    tick();
    if (auto st = loop->enable_watchdog(); !st)
        log.warning(st.error().message);
    systemd::notify_ready("recording domains into " + o.ledger);
    if (auto st = loop->run(); !st) {
        log.error(st.error().message);
        return 1;
    }
    return loop->exit_code();
}

} // namespace

int main(int argc, char** argv) try {
    Options o;
    CLI::App app{"guardian-hostd: the provider's memory on dom0. Watches xenstore for domains "
                 "coming and going and records each guest (by VM UUID), the domains it ran as "
                 "and how each ended (the hypervisor's shutdown reason, or xl's log) in a "
                 "durable SQLite ledger that guardian-host reads"};
    app.set_version_flag("--version", std::string("guardian-hostd ") + GUARDIAN_VERSION);
    app.footer(R"(
xenstore: XENSTORED_PATH if set, else xenstored's socket. Runs as
guardian-hostd.service; `guardian-host history DOMAIN` reads the ledger.)");
    app.add_option("--ledger", o.ledger, "the ledger file (SQLite)")->capture_default_str();
    app.add_option("--xen-log-dir", o.xen_log_dir,
                   "where xl-<name>.log and console/guest-<name>.log are")
        ->capture_default_str();
    app.add_option("--console-log-dir", o.console_log_dir,
                   "where xenconsoled --log=guest writes guest-<name>.log (its --log-dir; "
                   "default: <xen-log-dir>/console)");
    app.add_option("--retention-days", o.limits.retention_days,
                   "drop events and ended boots older than this")
        ->capture_default_str()
        ->check(CLI::Range(1.0, 36500.0));
    app.add_option("--max-events-per-guest", o.limits.max_events_per_guest,
                   "per-guest bound: the oldest events beyond it go (and are counted)")
        ->capture_default_str()
        ->check(CLI::Range(100, 10000000));
    app.add_flag("--foreground", o.foreground, "log to stderr without syslog priority prefixes");
    app.add_flag("-v,--verbose", o.verbose,
                 "log every batch of xenstore watch events and every report read (debug "
                 "priority): what to look at when a guest's reports do not reach the ledger");
    app.add_flag("--no-hypervisor", o.no_hypervisor,
                 "do not ask libxenctrl for shutdown reasons (tests)")
        ->group("");
    if (const auto done = guardian::parse_command_line(app, argc, argv))
        return *done;
    return run(o);
} catch (const std::exception& e) {
    fmt::print(stderr, "guardian-hostd: fatal: {}\n", e.what());
    return 1;
}

// guardian-host: the dom0 side. Reads what each guest's guardian reports in
// its xenstore data/guardian/ and answers the provider's questions about it.
#include "guardian/core/domain_report.hpp"
#include "guardian/core/guest_contract.hpp"
#include "guardian/core/guest_text.hpp"
#include "guardian/core/verdict.hpp"
#include "guardian/host/domain_reads.hpp"
#include "guardian/host/ledger_commands.hpp"
#include "guardian/host/preflight_command.hpp"
#include "guardian/host/prometheus_status.hpp"
#include "guardian/xen/xs_client.hpp"

#include "guardian/util/cli_parse.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <random>
#include <thread>

namespace {

using guardian::DomainReport;
using guardian::Result;
namespace contract = guardian::contract;
using contract::FreezeAnswerKind;

// Waits until `pred` accepts the value of `path` (absent reads as ""), or the
// timeout; returns the last value read. A dom0 command-line tool may poll.
std::string wait_for_value(guardian::xen::XenStore& xs, const std::string& path,
                           const std::function<bool(const std::string&)>& pred,
                           std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    std::string value;
    for (;;) {
        auto v = xs.read(path);
        value = v ? *v : std::string();
        if (pred(value) || std::chrono::steady_clock::now() > end)
            return value;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

std::string make_nonce() {
    std::random_device rd;
    return fmt::format("{:08x}", rd());
}

int run_freeze(guardian::xen::XenStore& xs, const std::string& domid, unsigned timeout,
               unsigned wait) {
    const auto node = [&](std::string_view name) {
        return contract::domain_node_path(domid, name);
    };
    auto version = xs.read(node(contract::node::version));
    if (!version) {
        fmt::print(stderr, "guardian-host: domain {} does not run guardian\n", domid);
        return 1;
    }
    const std::string nonce = make_nonce();
    if (auto st = xs.write(node(contract::node::request),
                           contract::encode_freeze_request(timeout, nonce));
        !st) {
        fmt::print(stderr, "guardian-host: {}\n", st.error().message);
        return 2;
    }
    // Ours, or a refusal of a request the guest could not read ("-").
    const auto answers_us = [&](const std::optional<contract::FreezeAnswer>& a) {
        return a &&
               ((a->kind == FreezeAnswerKind::frozen && a->nonce == nonce) ||
                (a->kind == FreezeAnswerKind::failed && (a->nonce == nonce || a->nonce == "-")));
    };
    const std::string answer = wait_for_value(
        xs, node(contract::node::freeze),
        [&](const std::string& v) { return answers_us(contract::decode_freeze_answer(v)); },
        std::chrono::seconds(wait));
    if (const auto a = contract::decode_freeze_answer(answer);
        a && a->kind == FreezeAnswerKind::frozen && a->nonce == nonce) {
        fmt::print("frozen {} (deadline {} s): save or migrate the domain now, then run "
                   "`guardian-host verify <new domid>`\n",
                   nonce, timeout);
        return 0;
    }
    fmt::print(stderr, "guardian-host: freeze of domain {} {}\n", domid,
               answer.empty() ? "not acknowledged in time"
                              : "refused: guest says " + guardian::for_terminal(answer));
    return 1;
}

int run_verify(guardian::xen::XenStore& xs, const std::string& domid, unsigned wait) {
    const auto node = [&](std::string_view name) {
        return contract::domain_node_path(domid, name);
    };
    // After a coordinated save the guest answers in freeze; otherwise the
    // verdict of its own restore detection lands in last-verification.
    auto terminal = [](const std::string& v) {
        const auto a = contract::decode_freeze_answer(v);
        return a && contract::is_terminal(a->kind);
    };
    const std::string verifying(contract::to_string(contract::DaemonState::verifying));
    const std::string freeze = wait_for_value(
        xs, node(contract::node::freeze),
        [&](const std::string& v) {
            if (terminal(v))
                return true;
            auto last = xs.read(node(contract::node::last_verification));
            auto state = xs.read(node(contract::node::state));
            return v.empty() && last && !last->empty() && state && *state != verifying;
        },
        std::chrono::seconds(wait));
    const std::string last = [&] {
        auto v = xs.read(node(contract::node::last_verification));
        return v ? *v : std::string();
    }();
    const std::string healthy_word(guardian::to_string(guardian::Verdict::healthy));
    const auto answer = contract::decode_freeze_answer(freeze);
    const bool healthy = terminal(freeze) ? (answer->kind == FreezeAnswerKind::thawed &&
                                             answer->detail == healthy_word)
                                          : contract::decode_last_verdict(last) == healthy_word;
    // The guest's own words, escaped: they cannot rewrite this line.
    const auto said = [](const std::string& s) { return guardian::for_terminal(s, 200); };
    fmt::print("domain {}: {}{}\n", domid, healthy ? "healthy" : "NOT healthy",
               freeze.empty()
                   ? (last.empty() ? " (no verdict in time)" : " (guest says " + said(last) + ")")
                   : " (guest says " + said(freeze) + "; " + said(last) + ")");
    return healthy ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) try {
    CLI::App app{"guardian-host: read what guardian in each Xen guest reports (dom0 side)"};
    app.set_version_flag("--version", std::string("guardian-host ") + GUARDIAN_VERSION);
    app.require_subcommand(1);
    app.footer(R"(
Examples:
  guardian-host status               every domain, as a table
  guardian-host status 3 --json      domain 3, as JSON
  guardian-host status --prometheus -o /var/lib/prometheus/node-exporter/guardian.prom
  guardian-host preflight 3 && xl save 3 /var/lib/xen/save/3.chk
  guardian-host freeze 3 --timeout 120 && xl save 3 3.chk && xl restore 3.chk
  guardian-host verify 4             (the restored domain's new id)
  guardian-host history web1         web1's domains, verdicts, incidents, crashes
  guardian-host fleet                crash rates per kernel, with exact intervals

preflight exits 0 only when every domain's kernel is known safe to suspend
and restore: the guest's guardian reports it safe, or (a guest without
guardian) the kernel guardian-hostd found in its console's boot banner is safe
by the risk table; 1 when any is unsafe or unknown; 2 when xenstore cannot be
read. Its SOURCE column says where each verdict comes from.)");

    std::vector<std::string> ids;
    bool json = false;
    auto* status = app.add_subcommand("status", "table of every (or the given) domain's report");
    status->add_option("DOMID", ids, "domain ids (default: all)");
    bool prometheus = false;
    std::string prom_output;
    auto* json_flag = status->add_flag("--json", json, "JSON output");
    auto* prom_flag = status->add_flag(
        "--prometheus", prometheus,
        "Prometheus text format (node_exporter textfile collector), one gauge set per domain");
    prom_flag->excludes(json_flag);
    status
        ->add_option("-o,--output", prom_output,
                     "with --prometheus: write this file atomically (mode 0644), e.g. "
                     "/var/lib/prometheus/node-exporter/guardian.prom")
        ->needs(prom_flag);

    guardian::host::PreflightArgs pf;
    pf.risk_table = guardian::host::default_risk_table;
    auto* pre = app.add_subcommand(
        "preflight", "is each domain safe to save/restore? verdict, its source (guardian report, "
                     "console banner, key evidence, unknown), kernel and reason; exit 0 only if "
                     "all are safe");
    pre->add_option("DOMID", pf.domids, "domain ids (default: all)");
    pre->add_flag("--json", pf.json, "JSON output");

    std::string fr_id;
    unsigned fr_timeout = 60;
    unsigned wait = 60;
    auto* freeze = app.add_subcommand(
        "freeze", "ask the guest to freeze its filesystems before a save or migration");
    freeze->add_option("DOMID", fr_id, "domain id")->required();
    freeze->add_option("--timeout", fr_timeout, "seconds the guest stays frozen at most")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    freeze->add_option("--wait", wait, "seconds to wait for the guest's answer")
        ->capture_default_str();

    std::string vf_id;
    auto* verify = app.add_subcommand(
        "verify", "after the restore: wait for the guest's verdict; exit 0 only if healthy");
    verify->add_option("DOMID", vf_id, "domain id (after a restore: the new one)")->required();
    verify->add_option("--wait", wait, "seconds to wait for the verdict")->capture_default_str();

    // guardian-hostd's ledger: what outlives the guests' xenstore trees.
    std::string ledger_path = guardian::host::default_ledger;
    std::string hist_guest;
    bool hist_json = false;
    auto* history = app.add_subcommand(
        "history", "one guest's timeline from guardian-hostd's ledger: its domains and how each "
                   "ended, verdicts, incidents, crashes (survives the guest's reboots)");
    history->add_option("GUEST", hist_guest, "the guest's name or VM UUID")->required();
    history->add_flag("--json", hist_json, "JSON output");
    history->add_option("--ledger", ledger_path, "guardian-hostd's ledger")->capture_default_str();

    bool fleet_json = false;
    bool fleet_prom = false;
    bool fleet_unclean = false;
    std::string fleet_output;
    auto* fleet = app.add_subcommand(
        "fleet", "per kernel release: guests, guest-days, unclean ends and crashes, the rate per "
                 "1,000 guest-days with its exact 95% interval and the ratio against the rest "
                 "of the fleet (docs/fleet-statistics.md says how to read them)");
    auto* fleet_json_flag = fleet->add_flag("--json", fleet_json, "JSON output");
    auto* fleet_prom_flag = fleet->add_flag(
        "--prometheus", fleet_prom,
        "Prometheus text format: per-kernel counts that add up across hosts (the rules in "
        "/usr/share/guardian-host/guardian-fleet.rules.yml turn them into fleet-wide rates)");
    fleet_prom_flag->excludes(fleet_json_flag);
    fleet
        ->add_option("-o,--output", fleet_output,
                     "with --prometheus: write this file atomically (mode 0644)")
        ->needs(fleet_prom_flag);
    fleet->add_flag("--unclean", fleet_unclean,
                    "rate the unclean ends (crash, watchdog, destroy) instead of the crashes");
    fleet->add_option("--ledger", ledger_path, "guardian-hostd's ledger")->capture_default_str();

    pre->add_option("--ledger", ledger_path,
                    "guardian-hostd's ledger (the kernels of guests without guardian)")
        ->capture_default_str();
    pre->add_option("--risk-table", pf.risk_table, "the kernel risk table")->capture_default_str();

    if (const auto done = guardian::parse_command_line(app, argc, argv))
        return *done;

    if (history->parsed())
        return guardian::host::run_history(ledger_path, hist_guest, hist_json);
    if (fleet->parsed()) {
        const auto outcome = fleet_unclean ? guardian::fleet::Outcome::unclean_ends
                                           : guardian::fleet::Outcome::crashes;
        if (fleet_prom)
            return guardian::host::run_fleet_prometheus(ledger_path, outcome, fleet_output);
        return guardian::host::run_fleet(ledger_path, outcome, fleet_json);
    }

    auto xs = guardian::xen::open_xenstore();
    if (!xs) {
        fmt::print(stderr, "guardian-host: {}\n", xs.error().message);
        return 2;
    }
    if (freeze->parsed())
        return run_freeze(**xs, fr_id, fr_timeout, wait);
    if (verify->parsed())
        return run_verify(**xs, vf_id, wait);
    if (pre->parsed()) {
        pf.ledger = ledger_path;
        return guardian::host::run_preflight(**xs, pf);
    }
    if (ids.empty()) {
        auto all = guardian::host::all_domids(**xs);
        if (!all) {
            fmt::print(stderr, "guardian-host: {}\n", all.error().message);
            return 2;
        }
        ids = std::move(all).value();
    }
    if (prometheus)
        return guardian::host::run_status_prometheus(**xs, ids, prom_output);
    std::vector<DomainReport> domains;
    for (const auto& id : ids) {
        auto d = guardian::host::read_domain(**xs, id);
        if (!d) {
            fmt::print(stderr, "guardian-host: domain {}: {}\n", id,
                       guardian::for_terminal(d.error().message));
            return 2;
        }
        domains.push_back(std::move(d).value());
    }
    if (json)
        fmt::print("{}\n", guardian::status_to_json(domains).dump(1, ' ', guardian::k_json_ascii));
    else
        fmt::print("{}", guardian::render_status_table(domains));
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "guardian-host: fatal: {}\n", e.what());
    return 2;
}

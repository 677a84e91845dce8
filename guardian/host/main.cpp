// guardian-host: the dom0 side. Reads what each guest's guardian reports in
// its xenstore data/guardian/ and answers the provider's questions about it.
#include "guardian/core/domain_report.hpp"
#include "guardian/xen/subtree.hpp"
#include "guardian/xen/xs_client.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace {

using guardian::DomainReport;
using guardian::Result;

Result<DomainReport> read_domain(guardian::xen::XenStore& xs, const std::string& domid) {
    DomainReport d;
    d.domid = domid;
    const std::string home = "/local/domain/" + domid;
    if (auto name = xs.read(home + "/name"); name)
        d.name = *name;
    auto nodes = guardian::xen::read_subtree(xs, home + "/data/guardian");
    if (!nodes)
        return std::move(nodes).error();
    d.nodes = std::move(nodes).value();
    return d;
}

Result<std::vector<std::string>> all_domids(guardian::xen::XenStore& xs) {
    auto ids = xs.directory("/local/domain");
    if (!ids)
        return std::move(ids).error();
    std::vector<std::string> out = std::move(ids).value();
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    return out;
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
  guardian-host preflight 3 && xl save 3 /var/lib/xen/save/3.chk

preflight exits 0 only when the guest runs guardian and reports its kernel
safe to suspend and restore; 1 when it reports unsafe or unknown (or runs no
guardian); 2 when xenstore cannot be read.)");

    std::vector<std::string> ids;
    bool json = false;
    auto* status = app.add_subcommand("status", "table of every (or the given) domain's report");
    status->add_option("DOMID", ids, "domain ids (default: all)");
    status->add_flag("--json", json, "JSON output");

    std::string pf_id;
    auto* pre = app.add_subcommand("preflight", "exit 0 only if DOMID is safe to save/restore");
    pre->add_option("DOMID", pf_id, "domain id")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        (void)app.exit(e);
        return 2;
    }

    auto xs = guardian::xen::open_xenstore();
    if (!xs) {
        fmt::print(stderr, "guardian-host: {}\n", xs.error().message);
        return 2;
    }
    if (pre->parsed()) {
        auto d = read_domain(**xs, pf_id);
        if (!d) {
            fmt::print(stderr, "guardian-host: {}\n", d.error().message);
            return 2;
        }
        const auto r = guardian::preflight(*d);
        fmt::print("{}: {}\n", r.ok ? "safe" : "NOT SAFE", r.reason);
        return r.ok ? 0 : 1;
    }
    if (ids.empty()) {
        auto all = all_domids(**xs);
        if (!all) {
            fmt::print(stderr, "guardian-host: {}\n", all.error().message);
            return 2;
        }
        ids = std::move(all).value();
    }
    std::vector<DomainReport> domains;
    for (const auto& id : ids) {
        auto d = read_domain(**xs, id);
        if (!d) {
            fmt::print(stderr, "guardian-host: domain {}: {}\n", id, d.error().message);
            return 2;
        }
        domains.push_back(std::move(d).value());
    }
    if (json)
        fmt::print("{}\n", guardian::status_to_json(domains).dump(1));
    else
        fmt::print("{}", guardian::render_status_table(domains));
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "guardian-host: fatal: {}\n", e.what());
    return 2;
}

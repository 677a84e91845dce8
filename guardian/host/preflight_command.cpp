#include "guardian/host/preflight_command.hpp"

#include "guardian/core/guest_kernel_evidence.hpp"
#include "guardian/core/guest_text.hpp"
#include "guardian/host/domain_reads.hpp"
#include "guardian/ledger/ledger.hpp"
#include "guardian/util/fd.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <optional>

namespace guardian::host {

namespace {

std::optional<std::int64_t> domid_number(const std::string& s) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0)
        return std::nullopt;
    return v;
}

// What guardian-hostd's ledger knows of the kernel running in `domid`.
void from_ledger(ledger::Ledger& l, const std::string& domid, HostKernelEvidence& e) {
    const auto id = domid_number(domid);
    if (!id)
        return;
    auto k = l.domain_kernel(*id);
    if (!k) {
        e.ledger_error = k.error().message;
        return;
    }
    if (!k->has_value())
        return;
    e.followed = true;
    e.kernel = (*k)->kernel;
    e.kernel_version = (*k)->kernel_version;
    e.kernel_source = (*k)->kernel_source;
    e.console_note = (*k)->console_note.value_or("");
}

} // namespace

int run_preflight(xen::XenStore& xs, const PreflightArgs& args) {
    std::vector<std::string> ids = args.domids;
    if (ids.empty()) {
        auto all = all_domids(xs);
        if (!all) {
            fmt::print(stderr, "guardian-host: {}\n", all.error().message);
            return 2;
        }
        // Every guest: dom0 is never saved or migrated.
        for (auto& id : *all)
            if (id != "0")
                ids.push_back(std::move(id));
    }
    // Neither the ledger nor the risk table is needed for guests that run
    // guardian: without them the others are "unknown", and say why.
    std::optional<ledger::Ledger> ledger;
    std::string ledger_error;
    if (auto l = ledger::Ledger::open_read_only(args.ledger); l)
        ledger.emplace(std::move(l).value());
    else
        ledger_error = l.error().message;
    std::optional<RiskTable> table;
    std::string table_error;
    if (auto text = read_text_file(args.risk_table, 4U << 20); !text)
        table_error = text.error().message;
    else if (auto t = parse_risk_table(*text); !t)
        table_error = args.risk_table + ": " + t.error().message;
    else
        table.emplace(std::move(t).value());

    std::vector<PreflightRow> rows;
    for (const auto& id : ids) {
        auto d = read_domain(xs, id);
        if (!d) {
            fmt::print(stderr, "guardian-host: domain {}: {}\n", for_terminal(id),
                       for_terminal(d.error().message));
            return 2;
        }
        HostKernelEvidence e;
        if (!d->has_guardian() || !d->unreadable.empty()) {
            if (ledger)
                from_ledger(*ledger, id, e);
            else
                e.ledger_error = ledger_error;
            if (e.kernel.empty())
                e.frontend_nodes = frontend_nodes(xs, id);
        }
        PreflightVerdict v = judge_preflight(*d, e, table ? &*table : nullptr, table_error);
        rows.push_back({std::move(d).value(), std::move(v)});
    }
    if (args.json)
        fmt::print("{}\n", preflight_to_json(rows).dump(1, ' ', k_json_ascii));
    else
        fmt::print("{}", render_preflight_table(rows));
    for (const auto& r : rows)
        if (!r.verdict.ok)
            return 1;
    return 0;
}

} // namespace guardian::host

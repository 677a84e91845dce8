#include "guardian/host/prometheus_status.hpp"

#include "guardian/host/exposition_output.hpp"

#include "guardian/core/guest_metrics.hpp"
#include "guardian/xen/subtree.hpp"

#include <fmt/format.h>

#include <chrono>
#include <set>

namespace guardian::host {
namespace {

// An absent node reads as empty (guardian never publishes an empty version);
// any other failure (xenstored gone) is an error for the whole run.
Result<std::string> read_or_empty(xen::XenStore& xs, const std::string& path) {
    auto v = xs.read(path);
    if (!v && xen::is_not_found(v.error()))
        return std::string();
    return v;
}

Result<GuestStatus> read_guest(xen::XenStore& xs, const std::string& domid) {
    const std::string home = "/local/domain/" + domid;
    DomainReport d;
    d.domid = domid;
    GUARDIAN_TRY_ASSIGN(d.name, read_or_empty(xs, home + "/name"));
    // Only the nodes the metrics use, one read each, rather than the whole
    // subtree: a guest that stuffs its data/guardian/ with junk must not make
    // dom0 fail the whole file.
    GUARDIAN_TRY_ASSIGN(d.nodes, xen::read_summary_nodes(xs, domid));
    GuestStatus g = guest_status_from_report(d);
    GUARDIAN_TRY_ASSIGN(std::string vm, read_or_empty(xs, home + "/vm"));
    g.uuid = uuid_from_vm_node(vm);
    return g;
}

} // namespace

int run_status_prometheus(xen::XenStore& xs, const std::vector<std::string>& ids,
                          const std::string& output) {
    std::vector<GuestStatus> guests;
    std::set<std::string> seen;
    for (const auto& id : ids) {
        if (!seen.insert(id).second)
            continue;
        auto g = read_guest(xs, id);
        if (!g) {
            fmt::print(stderr, "guardian-host: domain {}: {}\n", id, g.error().message);
            return 2;
        }
        guests.push_back(std::move(g).value());
    }
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return emit_exposition(render_host_metrics(guests, now), output);
}

} // namespace guardian::host

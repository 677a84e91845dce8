#include "guardian/host/domain_reads.hpp"

#include "guardian/core/guest_contract.hpp"
#include "guardian/core/guest_kernel_evidence.hpp"
#include "guardian/xen/subtree.hpp"

#include <algorithm>
#include <cerrno>
#include <set>

namespace guardian::host {

Result<DomainReport> read_domain(xen::XenStore& xs, const std::string& domid) {
    DomainReport d;
    d.domid = domid;
    const std::string home = "/local/domain/" + domid;
    if (auto name = xs.read(home + "/name"); name)
        d.name = *name;
    auto nodes = xen::read_subtree(xs, contract::domain_base_path(domid));
    if (!nodes && nodes.error().code == E2BIG) {
        // One guest's oversized subtree is that guest's row, not the end
        // of the report on every other domain.
        d.unreadable = nodes.error().message;
        return d;
    }
    if (!nodes)
        return std::move(nodes).error();
    d.nodes = std::move(nodes).value();
    return d;
}

Result<std::vector<std::string>> all_domids(xen::XenStore& xs) {
    auto ids = xs.directory("/local/domain");
    if (!ids)
        return std::move(ids).error();
    std::vector<std::string> out = std::move(ids).value();
    std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() < b.size() : a < b;
    });
    return out;
}

std::map<std::string, std::string> frontend_nodes(xen::XenStore& xs, const std::string& domid) {
    // The guest writes its frontend directories: as many as it likes, so
    // only so many devices are looked at.
    constexpr std::size_t max_devices = 32;
    std::map<std::string, std::string> out;
    std::set<std::string_view> devices;
    for (const auto& e : frontend_key_evidence())
        devices.insert(e.device);
    for (const std::string_view dev : devices) {
        const std::string base = "/local/domain/" + domid + "/device/" + std::string(dev);
        auto ids = xs.directory(base);
        if (!ids)
            continue;
        for (std::size_t i = 0; i < ids->size() && i < max_devices; ++i) {
            for (const auto& e : frontend_key_evidence()) {
                if (e.device != dev)
                    continue;
                const std::string rel =
                    std::string(dev) + "/" + (*ids)[i] + "/" + std::string(e.key);
                if (auto v = xs.read(base + "/" + (*ids)[i] + "/" + std::string(e.key)); v)
                    out[rel] = *v;
            }
        }
    }
    return out;
}

} // namespace guardian::host

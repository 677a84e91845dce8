#include "guardian/xen/subtree.hpp"

#include "guardian/core/guest_contract.hpp"

#include <vector>

namespace guardian::xen {

Result<std::map<std::string, std::string>> read_subtree(XenStore& xs, const std::string& base,
                                                        std::size_t max_nodes, unsigned max_depth) {
    std::map<std::string, std::string> out;
    struct Item {
        std::string rel;
        unsigned depth;
    };
    std::vector<Item> todo{{"", 0}};
    std::size_t visited = 0;
    while (!todo.empty()) {
        const Item item = todo.back();
        todo.pop_back();
        if (++visited > max_nodes)
            return Error{base + ": more than " + std::to_string(max_nodes) + " nodes", E2BIG};
        const std::string path = item.rel.empty() ? base : base + "/" + item.rel;
        auto children = xs.directory(path);
        if (!children) {
            if (is_not_found(children.error()))
                continue;
            return std::move(children).error();
        }
        if (!item.rel.empty()) {
            auto value = xs.read(path);
            if (value && !value->empty())
                out[item.rel] = *value;
            else if (value && children->empty())
                out[item.rel] = "";
        }
        if (item.depth >= max_depth)
            continue;
        for (const auto& c : *children)
            todo.push_back({item.rel.empty() ? c : item.rel + "/" + c, item.depth + 1});
    }
    return out;
}

Result<std::map<std::string, std::string>>
read_summary_nodes(XenStore& xs, std::string_view domid,
                   const std::vector<std::string_view>& nodes) {
    std::map<std::string, std::string> out;
    for (const std::string_view node : nodes) {
        const std::string path =
            domid.empty() ? contract::node_path(node) : contract::domain_node_path(domid, node);
        auto v = xs.read(path);
        if (!v) {
            if (is_not_found(v.error()))
                continue;
            return std::move(v).error();
        }
        if (!v->empty())
            out[std::string(node)] = std::move(v).value();
    }
    return out;
}

} // namespace guardian::xen

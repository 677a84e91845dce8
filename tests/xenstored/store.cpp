#include "tests/xenstored/store.hpp"
#include "tests/support/xs_path_rules.hpp"

#include <algorithm>
#include <cerrno>

namespace guardian::test::xenstored {
namespace {

// xenstored's limits on path length (XENSTORE_ABS_PATH_MAX / REL_PATH_MAX).
constexpr std::size_t abs_path_max = 3072;

// The directories of a domain's home that libxl makes writable to it.
constexpr std::string_view xl_guest_writable[] = {"data", "drivers", "feature", "attr", "error"};

} // namespace

bool at_or_below(std::string_view path, std::string_view base) {
    if (base == "/")
        return !path.empty() && path.front() == '/';
    if (path.size() < base.size() || path.substr(0, base.size()) != base)
        return false;
    return path.size() == base.size() || path[base.size()] == '/';
}

Store::Store() {
    m_nodes.emplace("/", Node{});
}

std::string Store::canonical(std::string_view path, const std::string& home) {
    if (path.empty() || !xs_valid_chars(path) || path.front() == '@')
        return {};
    std::string abs = path.front() == '/' ? std::string(path) : home + "/" + std::string(path);
    if ((abs.size() > 1 && abs.back() == '/') || abs.find("//") != std::string::npos ||
        abs.size() > abs_path_max)
        return {};
    return abs;
}

void Store::introduce(unsigned domid) {
    const std::string home = "/local/domain/" + std::to_string(domid);
    bool created = false;
    (void)mkdir(0, home, created);
    m_nodes[home].owner = domid;
}

void Store::introduce_xl(unsigned domid) {
    const std::string home = "/local/domain/" + std::to_string(domid);
    bool created = false;
    (void)mkdir(0, home, created);
    m_nodes[home].owner = 0;
    for (const std::string_view dir : xl_guest_writable) {
        (void)mkdir(0, home + "/" + std::string(dir), created);
        m_nodes[home + "/" + std::string(dir)].owner = domid;
    }
    m_xl_domains.push_back(domid);
}

const Node* Store::find(const std::string& abs) const {
    auto it = m_nodes.find(abs);
    return it == m_nodes.end() ? nullptr : &it->second;
}

std::vector<std::string> Store::children(const std::string& abs) const {
    const std::string prefix = abs == "/" ? "/" : abs + "/";
    std::vector<std::string> out;
    for (auto it = m_nodes.lower_bound(prefix); it != m_nodes.end(); ++it) {
        const std::string& p = it->first;
        if (p.compare(0, prefix.size(), prefix) != 0)
            break;
        if (p.size() > prefix.size() && p.find('/', prefix.size()) == std::string::npos)
            out.push_back(p.substr(prefix.size()));
    }
    return out;
}

std::size_t Store::children_size(const std::string& abs) const {
    std::size_t n = 0;
    for (const std::string& c : children(abs))
        n += c.size() + 1;
    return n;
}

std::size_t Store::nodes_owned_by(unsigned domid) const {
    std::size_t n = 0;
    for (const auto& [path, node] : m_nodes)
        n += node.owner == domid ? 1 : 0;
    return n;
}

// Unprivileged domains write only inside their own home; the real daemon
// decides by node permissions, which the toolstack sets up exactly so.
bool Store::may_write(unsigned domid, const std::string& abs) const {
    const std::string home = "/local/domain/" + std::to_string(domid);
    if (domid == 0)
        return true;
    if (std::find(m_xl_domains.begin(), m_xl_domains.end(), domid) == m_xl_domains.end())
        return at_or_below(abs, home);
    return std::any_of(
        std::begin(xl_guest_writable), std::end(xl_guest_writable),
        [&](std::string_view dir) { return at_or_below(abs, home + "/" + std::string(dir)); });
}

// Creates every missing node on the way to `abs` (inclusive). New nodes
// written by dom0 inherit the owner of their parent, so dom0 writing into a
// guest's data/ creates nodes the guest owns, as on a real host.
int Store::create_missing(unsigned domid, const std::string& abs) {
    std::vector<std::string> missing;
    for (std::string p = abs; !m_nodes.contains(p); p = xs_parent_of(p))
        missing.push_back(p);
    if (domid != 0 && nodes_owned_by(domid) + missing.size() > quota_nodes_per_domain)
        return ENOSPC;
    // A new child is written into its parent's record too, and that record
    // has the same size quota (write_node_raw checks every node it writes):
    // an unprivileged domain cannot grow one directory past 2048 bytes.
    if (const std::string& top = missing.back(), parent = xs_parent_of(top);
        domid != 0 && node_record_overhead + m_nodes.at(parent).value.size() +
                              children_size(parent) + (top.size() - parent.size()) >=
                          quota_max_node_size)
        return ENOSPC;
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
        const unsigned owner = domid != 0 ? domid : m_nodes.at(xs_parent_of(*it)).owner;
        m_nodes.emplace(*it, Node{"", owner});
    }
    return 0;
}

int Store::write(unsigned domid, const std::string& abs, std::string_view value, bool& created) {
    created = false;
    if (!may_write(domid, abs))
        return EACCES;
    if (domid != 0 &&
        node_record_overhead + value.size() + children_size(abs) >= quota_max_node_size)
        return ENOSPC;
    if (!m_nodes.contains(abs)) {
        if (int err = create_missing(domid, abs); err != 0)
            return err;
        created = true;
    }
    m_nodes[abs].value = std::string(value);
    ++m_generation;
    return 0;
}

int Store::mkdir(unsigned domid, const std::string& abs, bool& created) {
    created = false;
    if (!may_write(domid, abs))
        return EACCES;
    if (m_nodes.contains(abs))
        return 0;
    if (int err = create_missing(domid, abs); err != 0)
        return err;
    created = true;
    ++m_generation;
    return 0;
}

int Store::remove(unsigned domid, const std::string& abs, bool& removed) {
    removed = false;
    if (abs == "/")
        return EINVAL;
    if (!may_write(domid, abs))
        return EACCES;
    if (!m_nodes.contains(abs))
        return m_nodes.contains(xs_parent_of(abs)) ? 0 : ENOENT;
    const std::string prefix = abs + "/";
    m_nodes.erase(abs);
    for (auto it = m_nodes.lower_bound(prefix);
         it != m_nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0;)
        it = m_nodes.erase(it);
    removed = true;
    ++m_generation;
    return 0;
}

} // namespace guardian::test::xenstored

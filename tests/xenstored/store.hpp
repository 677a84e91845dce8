// The node tree of guardian-test-xenstored: xenstored's path rules, node
// ownership and per-domain quotas, and nothing about connections. Operations
// return 0 or an errno value, because the wire protocol answers with errno
// names and this is the server, not a guardian adapter.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace guardian::test::xenstored {

// xenstored 4.17 defaults (tools/xenstore/xenstored_core.c).
inline constexpr std::size_t quota_nodes_per_domain = 1000;
inline constexpr std::size_t quota_max_node_size = 2048; // whole stored record
inline constexpr std::size_t quota_watches_per_domain = 128;
// The stored record is a header (generation, counts, lengths) plus 8 bytes per
// permission before data and child names; one permission is the usual case.
inline constexpr std::size_t node_record_overhead = 20 + 8;

struct Node {
    std::string value;
    unsigned owner = 0;
};

// True when path is base or lies below it ("/a/b" is below "/a", "/ab" is not).
bool at_or_below(std::string_view path, std::string_view base);

class Store {
public:
    Store();

    // Canonical absolute path for `path` as sent by a domain with `home`, or
    // an empty string when it is invalid (EINVAL on the wire).
    [[nodiscard]] static std::string canonical(std::string_view path, const std::string& home);

    // Creates /local/domain/<domid> owned by the domain, as the toolstack does.
    void introduce(unsigned domid);
    // Creates /local/domain/<domid> as xl lays it out (libxl__domain_make):
    // the home and everything in it owned by dom0 and read-only to the guest
    // (so its name and vm nodes are the toolstack's), except the directories
    // the guest may write (data/, drivers/, feature/, attr/, error/). From
    // then on the domain writes only there.
    void introduce_xl(unsigned domid);

    [[nodiscard]] const Node* find(const std::string& abs) const;
    [[nodiscard]] std::vector<std::string> children(const std::string& abs) const;
    // Bytes of the child-name list xenstored stores with a node.
    [[nodiscard]] std::size_t children_size(const std::string& abs) const;

    // Write/mkdir as `domid` (0 is privileged: no quota, may write anywhere).
    // `created` is set when the node did not exist before.
    [[nodiscard]] int write(unsigned domid, const std::string& abs, std::string_view value,
                            bool& created);
    [[nodiscard]] int mkdir(unsigned domid, const std::string& abs, bool& created);
    // Removes the subtree. Missing node with an existing parent is success.
    [[nodiscard]] int remove(unsigned domid, const std::string& abs, bool& removed);

    [[nodiscard]] std::size_t nodes_owned_by(unsigned domid) const;
    [[nodiscard]] unsigned long long generation() const { return m_generation; }

private:
    [[nodiscard]] bool may_write(unsigned domid, const std::string& abs) const;
    [[nodiscard]] int create_missing(unsigned domid, const std::string& abs);

    std::map<std::string, Node> m_nodes;
    std::vector<unsigned> m_xl_domains; // introduced by introduce_xl()
    unsigned long long m_generation = 0;
};

} // namespace guardian::test::xenstored

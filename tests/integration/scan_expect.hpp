// Comparing the engine's findings with what a test expects. Each structure
// class carries the location fields its contract promises (see
// guardian/ext4/scan.hpp); only those are compared, so a test pins the
// contract and not incidental extras such as the detail text.
#pragma once

#include "guardian/core/findings.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace guardian::test {

inline std::string contract_key(const Finding& f) {
    std::string key{to_string(f.structure)};
    const auto field = [&key](const char* name, const auto& v) {
        key += std::string(" ") + name + "=" + (v ? std::to_string(*v) : std::string("-"));
    };
    switch (f.structure) {
    case Structure::inode:
        field("inode", f.inode);
        field("group", f.group);
        field("block", f.block);
        break;
    case Structure::extent_block:
    case Structure::indirect_block:
    case Structure::directory_block:
    case Structure::htree_block:
    case Structure::xattr_block:
        field("inode", f.inode);
        field("block", f.block);
        break;
    case Structure::block_bitmap:
    case Structure::inode_bitmap:
        field("group", f.group);
        field("block", f.block);
        break;
    case Structure::group_descriptor:
        field("group", f.group);
        break;
    case Structure::journal_superblock:
    case Structure::journal_block:
        field("block", f.block);
        break;
    case Structure::superblock:
    case Structure::geometry:
        break;
    }
    return key;
}

inline std::vector<std::string> contract_keys(const std::vector<Finding>& findings) {
    std::vector<std::string> keys;
    for (const auto& f : findings)
        keys.push_back(contract_key(f));
    std::sort(keys.begin(), keys.end());
    return keys;
}

inline std::string describe_all(const std::vector<Finding>& findings) {
    std::string out;
    for (const auto& f : findings)
        out += "  " + describe(f) + "\n";
    return out.empty() ? "  (none)\n" : out;
}

} // namespace guardian::test

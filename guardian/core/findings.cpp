#include "guardian/core/findings.hpp"

#include <array>

namespace guardian {
namespace {

struct Name {
    Structure s;
    std::string_view name;
};

constexpr std::array<Name, 13> k_names{{
    {Structure::superblock, "superblock"},
    {Structure::geometry, "geometry"},
    {Structure::group_descriptor, "group_descriptor"},
    {Structure::block_bitmap, "block_bitmap"},
    {Structure::inode_bitmap, "inode_bitmap"},
    {Structure::inode, "inode"},
    {Structure::extent_block, "extent_block"},
    {Structure::indirect_block, "indirect_block"},
    {Structure::directory_block, "directory_block"},
    {Structure::htree_block, "htree_block"},
    {Structure::xattr_block, "xattr_block"},
    {Structure::journal_superblock, "journal_superblock"},
    {Structure::journal_block, "journal_block"},
}};

} // namespace

std::string_view to_string(Structure s) noexcept {
    for (const auto& n : k_names)
        if (n.s == s)
            return n.name;
    return "unknown";
}

std::optional<Structure> structure_from_string(std::string_view name) noexcept {
    for (const auto& n : k_names)
        if (n.name == name)
            return n.s;
    return std::nullopt;
}

const std::vector<Structure>& all_structures() {
    static const std::vector<Structure> all = [] {
        std::vector<Structure> v;
        for (const auto& n : k_names)
            v.push_back(n.s);
        return v;
    }();
    return all;
}

std::string_view to_string(CheckMode m) noexcept {
    return m == CheckMode::live ? "live" : "stable";
}

std::optional<CheckMode> check_mode_from_string(std::string_view name) noexcept {
    if (name == "live")
        return CheckMode::live;
    if (name == "stable")
        return CheckMode::stable;
    return std::nullopt;
}

std::string describe(const Finding& f) {
    std::string out{to_string(f.structure)};
    std::string where;
    auto add = [&where](const std::string& part) {
        where += where.empty() ? "" : ", ";
        where += part;
    };
    if (f.inode)
        add("inode " + std::to_string(*f.inode));
    if (f.group)
        add("group " + std::to_string(*f.group));
    if (f.block)
        add("block " + std::to_string(*f.block));
    if (!where.empty())
        out += " (" + where + ")";
    if (!f.detail.empty())
        out += ": " + f.detail;
    return out;
}

} // namespace guardian

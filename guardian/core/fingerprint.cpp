#include "guardian/core/fingerprint.hpp"

#include <algorithm>
#include <tuple>

namespace guardian {
namespace {

using RegionKey = std::tuple<int, std::int64_t>;

RegionKey key_of(const Region& r) {
    return {static_cast<int>(r.structure), r.group ? static_cast<std::int64_t>(*r.group) : -1};
}

std::string region_value(const Region& r) {
    return r.digest + " (" + std::to_string(r.blocks) + " blocks)";
}

} // namespace

std::vector<Difference> compare_geometry(const Fingerprint& before, const Fingerprint& after) {
    std::vector<Difference> out;
    if (before.identity.uuid != after.identity.uuid)
        out.push_back({Difference::Kind::changed, Structure::geometry, std::nullopt,
                       "identity.uuid", before.identity.uuid, after.identity.uuid});
    auto b = before.geometry.begin();
    auto a = after.geometry.begin();
    while (b != before.geometry.end() || a != after.geometry.end()) {
        if (a == after.geometry.end() || (b != before.geometry.end() && b->first < a->first)) {
            out.push_back({Difference::Kind::removed, Structure::geometry, std::nullopt, b->first,
                           b->second, ""});
            ++b;
        } else if (b == before.geometry.end() || a->first < b->first) {
            out.push_back({Difference::Kind::added, Structure::geometry, std::nullopt, a->first, "",
                           a->second});
            ++a;
        } else {
            if (b->second != a->second)
                out.push_back({Difference::Kind::changed, Structure::geometry, std::nullopt,
                               b->first, b->second, a->second});
            ++b;
            ++a;
        }
    }
    return out;
}

std::vector<Difference> compare(const Fingerprint& before, const Fingerprint& after) {
    std::vector<Difference> out = compare_geometry(before, after);

    std::vector<Region> rb = before.regions;
    std::vector<Region> ra = after.regions;
    auto by_key = [](const Region& x, const Region& y) { return key_of(x) < key_of(y); };
    std::sort(rb.begin(), rb.end(), by_key);
    std::sort(ra.begin(), ra.end(), by_key);

    auto b = rb.begin();
    auto a = ra.begin();
    while (b != rb.end() || a != ra.end()) {
        if (a == ra.end() || (b != rb.end() && key_of(*b) < key_of(*a))) {
            out.push_back(
                {Difference::Kind::removed, b->structure, b->group, "", region_value(*b), ""});
            ++b;
        } else if (b == rb.end() || key_of(*a) < key_of(*b)) {
            out.push_back(
                {Difference::Kind::added, a->structure, a->group, "", "", region_value(*a)});
            ++a;
        } else {
            if (b->digest != a->digest || b->blocks != a->blocks)
                out.push_back({Difference::Kind::changed, b->structure, b->group, "",
                               region_value(*b), region_value(*a)});
            ++b;
            ++a;
        }
    }
    return out;
}

std::string describe(const Difference& d) {
    std::string out;
    switch (d.kind) {
    case Difference::Kind::changed:
        out = "changed ";
        break;
    case Difference::Kind::added:
        out = "added ";
        break;
    case Difference::Kind::removed:
        out = "removed ";
        break;
    }
    out += to_string(d.structure);
    if (!d.field.empty())
        out += " " + d.field;
    if (d.group)
        out += " group " + std::to_string(*d.group);
    if (!d.before.empty() || !d.after.empty())
        out +=
            ": " + (d.before.empty() ? "-" : d.before) + " -> " + (d.after.empty() ? "-" : d.after);
    return out;
}

} // namespace guardian

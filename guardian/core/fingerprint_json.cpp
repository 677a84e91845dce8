// Fingerprint <-> JSON. The file is untrusted input (it may be hand-edited or
// truncated): every field is checked and an error names the one that is wrong.
#include "guardian/core/fingerprint.hpp"

#include <nlohmann/json.hpp>

namespace guardian {
namespace {

using nlohmann::json;

json region_to_json(const Region& r) {
    json j{{"structure", to_string(r.structure)}, {"blocks", r.blocks}, {"digest", r.digest}};
    if (r.group)
        j["group"] = *r.group;
    return j;
}

Result<Region> region_from_json(const json& j, std::size_t index) {
    const std::string where = "regions[" + std::to_string(index) + "]";
    if (!j.is_object())
        return Error{where + ": not an object", 0};
    Region r;
    const auto s = j.find("structure");
    if (s == j.end() || !s->is_string())
        return Error{where + ".structure: missing or not a string", 0};
    const auto st = structure_from_string(s->get<std::string>());
    if (!st)
        return Error{where + ".structure: unknown structure '" + s->get<std::string>() + "'", 0};
    r.structure = *st;
    if (const auto g = j.find("group"); g != j.end()) {
        if (!g->is_number_unsigned() || g->get<std::uint64_t>() > UINT32_MAX)
            return Error{where + ".group: not a block group number", 0};
        r.group = g->get<std::uint32_t>();
    }
    const auto b = j.find("blocks");
    if (b == j.end() || !b->is_number_unsigned())
        return Error{where + ".blocks: missing or not a count", 0};
    r.blocks = b->get<std::uint64_t>();
    const auto d = j.find("digest");
    if (d == j.end() || !d->is_string() || d->get<std::string>().size() != 32 ||
        d->get<std::string>().find_first_not_of("0123456789abcdef") != std::string::npos)
        return Error{where + ".digest: missing or not 32 lowercase hex digits", 0};
    r.digest = d->get<std::string>();
    return r;
}

} // namespace

std::string fingerprint_to_json(const Fingerprint& fp, int indent) {
    json regions = json::array();
    for (const auto& r : fp.regions)
        regions.push_back(region_to_json(r));
    const json j{
        {"schema", "guardian-fingerprint"},
        {"version", fp.schema},
        {"identity",
         {{"source", fp.identity.source},
          {"type", fp.identity.type},
          {"uuid", fp.identity.uuid},
          {"label", fp.identity.label}}},
        {"mode", to_string(fp.mode)},
        {"taken_at", fp.taken_at},
        {"geometry", fp.geometry},
        {"regions", regions},
    };
    return j.dump(indent) + "\n";
}

Result<Fingerprint> fingerprint_from_json(const std::string& text) {
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
        return Error{"not valid JSON", 0};
    // Every field is type-checked before it is read: a wrong type is an error
    // naming the field, never an exception.
    auto string_field = [&j](const char* name) -> std::string {
        const auto it = j.find(name);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (!j.is_object() || string_field("schema") != "guardian-fingerprint")
        return Error{"schema: not a guardian fingerprint (expected \"schema\": "
                     "\"guardian-fingerprint\")",
                     0};
    Fingerprint fp;
    const auto v = j.find("version");
    if (v == j.end() || !v->is_number_integer())
        return Error{"version: missing or not an integer", 0};
    fp.schema = v->get<int>();
    if (fp.schema != k_fingerprint_schema)
        return Error{"version: " + std::to_string(fp.schema) +
                         " is not supported (this guardian "
                         "reads version " +
                         std::to_string(k_fingerprint_schema) + ")",
                     0};
    const auto id = j.find("identity");
    if (id == j.end() || !id->is_object())
        return Error{"identity: missing or not an object", 0};
    for (const auto* field : {"source", "type", "uuid", "label"}) {
        const auto f = id->find(field);
        if (f == id->end() || !f->is_string())
            return Error{std::string("identity.") + field + ": missing or not a string", 0};
    }
    fp.identity = {(*id)["source"], (*id)["type"], (*id)["uuid"], (*id)["label"]};
    const auto mode = check_mode_from_string(string_field("mode"));
    if (!mode)
        return Error{"mode: must be \"live\" or \"stable\"", 0};
    fp.mode = *mode;
    if (const auto t = j.find("taken_at"); t != j.end() && !t->is_string())
        return Error{"taken_at: not a string", 0};
    fp.taken_at = string_field("taken_at");
    const auto geo = j.find("geometry");
    if (geo == j.end() || !geo->is_object())
        return Error{"geometry: missing or not an object", 0};
    for (const auto& [key, value] : geo->items()) {
        if (!value.is_string())
            return Error{"geometry." + key + ": not a string", 0};
        fp.geometry[key] = value.get<std::string>();
    }
    const auto regions = j.find("regions");
    if (regions == j.end() || !regions->is_array())
        return Error{"regions: missing or not an array", 0};
    for (std::size_t i = 0; i < regions->size(); ++i) {
        GUARDIAN_TRY_ASSIGN(Region r, region_from_json((*regions)[i], i));
        fp.regions.push_back(std::move(r));
    }
    return fp;
}

} // namespace guardian

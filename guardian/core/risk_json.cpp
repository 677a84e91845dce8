#include "guardian/core/risk_json.hpp"

namespace guardian::risk_json {

Error field_error(const std::string& where, std::string_view field, std::string_view what) {
    return Error{where + "." + std::string(field) + ": " + std::string(what), 0};
}

Result<std::string> get_string(const json& j, const std::string& where, std::string_view field,
                               bool required) {
    const auto it = j.find(field);
    if (it == j.end()) {
        if (required)
            return field_error(where, field, "missing");
        return std::string();
    }
    if (!it->is_string())
        return field_error(where, field, "not a string");
    return it->get<std::string>();
}

Result<UpstreamVersion> get_version(const json& j, const std::string& where,
                                    std::string_view field) {
    GUARDIAN_TRY_ASSIGN(const std::string text, get_string(j, where, field));
    const auto v = parse_upstream_version(text);
    if (!v)
        return field_error(where, field, "not a version like \"4.2\": \"" + text + "\"");
    return *v;
}

Result<KernelDistro> get_distro(const json& j, const std::string& where, std::string_view field) {
    GUARDIAN_TRY_ASSIGN(const std::string name, get_string(j, where, field));
    const auto d = kernel_distro_from_string(name);
    if (!d)
        return field_error(where, field, "unknown distribution \"" + name + "\"");
    return *d;
}

Result<BackportStatus> parse_status(const json& j, const std::string& where) {
    GUARDIAN_TRY_ASSIGN(const std::string status, get_string(j, where, "status"));
    if (status == "affected")
        return BackportStatus::affected;
    if (status == "fixed")
        return BackportStatus::fixed;
    if (status == "unknown")
        return BackportStatus::unknown;
    return field_error(where, "status", "not affected, fixed or unknown: \"" + status + "\"");
}

Result<Backport> parse_backport(const json& j, const std::string& where) {
    if (!j.is_object())
        return Error{where + ": not an object", 0};
    Backport b;
    GUARDIAN_TRY_ASSIGN(b.distro, get_distro(j, where, "distro"));
    GUARDIAN_TRY_ASSIGN(b.match, get_string(j, where, "match", false));
    GUARDIAN_TRY_ASSIGN(b.status, parse_status(j, where));
    GUARDIAN_TRY_ASSIGN(const std::string fixed_in, get_string(j, where, "fixed_in", false));
    if (!fixed_in.empty())
        b.fixed_in = fixed_in;
    if (b.status == BackportStatus::fixed && !b.fixed_in && b.match.empty())
        return field_error(where, "fixed_in",
                           "a \"fixed\" entry needs fixed_in or a match that names the builds");
    GUARDIAN_TRY_ASSIGN(b.evidence, get_string(j, where, "evidence"));
    if (b.evidence.empty())
        return field_error(where, "evidence", "empty: say why");
    return b;
}

} // namespace guardian::risk_json

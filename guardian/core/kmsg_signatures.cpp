#include "guardian/core/kmsg_signatures.hpp"

#include <charconv>

namespace guardian {
namespace {

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

// The device name that follows `marker` ("dev ", "device "), up to a
// delimiter; names are short and made of [a-z0-9].
std::string device_after(std::string_view msg, std::string_view marker) {
    const auto at = msg.find(marker);
    if (at == std::string_view::npos)
        return {};
    std::string out;
    for (std::size_t i = at + marker.size(); i < msg.size() && out.size() < 32; ++i) {
        const char c = msg[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')
            out += c;
        else
            break;
    }
    return out;
}

} // namespace

std::string_view to_string(KmsgSignature s) noexcept {
    switch (s) {
    case KmsgSignature::grant_not_unmapped:
        return "grant_not_unmapped";
    case KmsgSignature::ext4_error:
        return "ext4_error";
    case KmsgSignature::jbd2_error:
        return "jbd2_error";
    case KmsgSignature::io_error_xvd:
        return "io_error_xvd";
    }
    return "unknown";
}

std::optional<KmsgRecord> parse_kmsg_record(std::string_view raw) {
    const auto semi = raw.find(';');
    if (semi == std::string_view::npos)
        return std::nullopt;
    const std::string_view prefix = raw.substr(0, semi);
    KmsgRecord r;
    int prival = 0;
    const auto comma = prefix.find(',');
    if (comma == std::string_view::npos)
        return std::nullopt;
    if (std::from_chars(prefix.data(), prefix.data() + comma, prival).ec != std::errc{})
        return std::nullopt;
    r.priority = prival & 7;
    const auto rest = prefix.substr(comma + 1);
    const auto comma2 = rest.find(',');
    if (std::from_chars(rest.data(),
                        rest.data() + (comma2 == std::string_view::npos ? rest.size() : comma2),
                        r.sequence)
            .ec != std::errc{})
        return std::nullopt;
    std::string_view msg = raw.substr(semi + 1);
    if (const auto nl = msg.find('\n'); nl != std::string_view::npos)
        msg = msg.substr(0, nl); // continuation lines carry key=value metadata
    r.message = std::string(msg);
    return r;
}

std::optional<KmsgMatch> classify_kmsg(std::string_view m) {
    // The kernel's own spelling, typo included (drivers/block/xen-blkfront.c).
    if (contains(m, "backed has not unmapped grant") ||
        contains(m, "backend has not unmapped grant"))
        return KmsgMatch{KmsgSignature::grant_not_unmapped, {}};
    if (contains(m, "EXT4-fs error"))
        return KmsgMatch{KmsgSignature::ext4_error, device_after(m, "(device ")};
    if (contains(m, "Aborting journal on device"))
        return KmsgMatch{KmsgSignature::jbd2_error, device_after(m, "on device ")};
    if (m.rfind("JBD2:", 0) == 0 && (contains(m, "rror") || contains(m, "failed") ||
                                     contains(m, "corrupt") || contains(m, "Invalid")))
        return KmsgMatch{KmsgSignature::jbd2_error, {}};
    if (contains(m, "I/O error") && (contains(m, "dev xvd") || contains(m, "device xvd"))) {
        std::string dev = device_after(m, "dev ");
        if (dev.empty())
            dev = device_after(m, "device ");
        return KmsgMatch{KmsgSignature::io_error_xvd, dev};
    }
    return std::nullopt;
}

} // namespace guardian

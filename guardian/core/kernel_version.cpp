#include "guardian/core/kernel_version.hpp"

#include <array>
#include <charconv>
#include <regex>
#include <utility>

namespace guardian {
namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Reads a decimal number at `pos`, bounded so junk cannot overflow it.
std::optional<unsigned> take_number(std::string_view s, std::size_t& pos) {
    const std::size_t start = pos;
    while (pos < s.size() && is_digit(s[pos]) && pos - start < 9)
        ++pos;
    if (pos == start)
        return std::nullopt;
    unsigned value = 0;
    std::from_chars(s.data() + start, s.data() + pos, value);
    return value;
}

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

bool ends_with_flavour(std::string_view local, std::string_view flavour) {
    return local.size() > flavour.size() && local.ends_with(flavour) &&
           local[local.size() - flavour.size() - 1] == '-';
}

// Debian: "<abi>-<flavour>" with flavours such as amd64, cloud-amd64, 686-pae,
// arm64, rt-amd64. Ubuntu: "<abi>-<flavour>" with generic, lowlatency, aws,
// azure, gcp, kvm, oracle, ... The two are told apart by the flavour name.
constexpr std::array k_debian_flavours{"amd64", "686",        "686-pae", "arm64",
                                       "armmp", "armmp-lpae", "marvell", "4kc-malta",
                                       "s390x", "ppc64el",    "i386"};
constexpr std::array k_ubuntu_flavours{"generic", "generic-lpae", "lowlatency", "aws",    "azure",
                                       "gcp",     "gke",          "kvm",        "oracle", "ibm",
                                       "virtual", "oem",          "raspi",      "xen"};

void classify(KernelRelease& k) {
    const std::string_view local = k.local;
    // Oracle's UEK carries "uek" in its tag ("4.1.12-124.48.6.el7uek").
    if (contains(local, "uek")) {
        k.distro = KernelDistro::oracle_uek;
    } else if (const auto el = local.find(".el");
               el != std::string_view::npos && el + 3 < local.size() && is_digit(local[el + 3])) {
        k.distro = KernelDistro::rhel;
    } else if (contains(local, ".fc") && local.size() > 3) {
        k.distro = KernelDistro::fedora;
    } else if (contains(local, ".amzn")) {
        k.distro = KernelDistro::amazon;
    } else if (local.ends_with("-default") || (local.ends_with("-azure") && contains(local, "."))) {
        k.distro = KernelDistro::suse;
    } else if (local.empty()) {
        k.distro = KernelDistro::upstream;
    } else {
        k.distro = KernelDistro::other;
        for (const char* f : k_ubuntu_flavours)
            if (ends_with_flavour(local, f)) {
                k.distro = KernelDistro::ubuntu;
                k.distro_tag = f;
            }
        for (const char* f : k_debian_flavours)
            if (ends_with_flavour(local, f)) {
                k.distro = KernelDistro::debian;
                k.distro_tag = f;
            }
        return;
    }
    // The tag of the rpm-style kernels: "el7", "el6", "el7uek", "fc39", "amzn2".
    for (std::string_view prefix : {".el", ".fc", ".amzn"}) {
        if (const auto p = local.find(prefix); p != std::string_view::npos) {
            std::size_t end = p + 1;
            while (end < local.size() &&
                   (is_alpha(local[end]) || is_digit(local[end]) || local[end] == '_'))
                ++end;
            k.distro_tag = std::string(local.substr(p + 1, end - p - 1));
            return;
        }
    }
    if (k.distro == KernelDistro::suse)
        k.distro_tag = "default";
}

} // namespace

std::optional<UpstreamVersion> parse_upstream_version(std::string_view text) {
    std::size_t pos = 0;
    UpstreamVersion v;
    const auto major = take_number(text, pos);
    if (!major || pos >= text.size() || text[pos] != '.')
        return std::nullopt;
    ++pos;
    const auto minor = take_number(text, pos);
    if (!minor)
        return std::nullopt;
    v.major = *major;
    v.minor = *minor;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        const auto patch = take_number(text, pos);
        if (!patch)
            return std::nullopt;
        v.patch = *patch;
    }
    if (pos != text.size())
        return std::nullopt;
    return v;
}

std::string to_string(const UpstreamVersion& v) {
    std::string s = std::to_string(v.major) + "." + std::to_string(v.minor);
    if (v.patch != 0)
        s += "." + std::to_string(v.patch);
    return s;
}

std::string_view to_string(KernelDistro d) noexcept {
    switch (d) {
    case KernelDistro::upstream:
        return "upstream";
    case KernelDistro::debian:
        return "debian";
    case KernelDistro::ubuntu:
        return "ubuntu";
    case KernelDistro::rhel:
        return "rhel";
    case KernelDistro::oracle_uek:
        return "oracle-uek";
    case KernelDistro::suse:
        return "suse";
    case KernelDistro::fedora:
        return "fedora";
    case KernelDistro::amazon:
        return "amazon";
    case KernelDistro::other:
        return "other";
    }
    return "other";
}

std::optional<KernelDistro> kernel_distro_from_string(std::string_view name) noexcept {
    for (auto d : {KernelDistro::upstream, KernelDistro::debian, KernelDistro::ubuntu,
                   KernelDistro::rhel, KernelDistro::oracle_uek, KernelDistro::suse,
                   KernelDistro::fedora, KernelDistro::amazon, KernelDistro::other})
        if (to_string(d) == name)
            return d;
    return std::nullopt;
}

std::optional<KernelRelease> parse_kernel_release(std::string_view release) {
    // Bounded: a release string is at most 64 bytes (struct utsname), anything
    // longer is junk, as is anything with control characters.
    if (release.empty() || release.size() > 64)
        return std::nullopt;
    for (char c : release)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
            return std::nullopt;
    std::size_t pos = 0;
    KernelRelease k;
    k.release = std::string(release);
    const auto major = take_number(release, pos);
    if (!major || pos >= release.size() || release[pos] != '.')
        return std::nullopt;
    ++pos;
    const auto minor = take_number(release, pos);
    if (!minor)
        return std::nullopt;
    k.base.major = *major;
    k.base.minor = *minor;
    if (pos < release.size() && release[pos] == '.') {
        ++pos;
        const auto patch = take_number(release, pos);
        if (!patch)
            return std::nullopt;
        k.base.patch = *patch;
    }
    // Ubuntu mainline builds and the like append "+..." or "-..." to the base.
    if (pos < release.size()) {
        if (release[pos] != '-' && release[pos] != '+' && release[pos] != '.' &&
            release[pos] != '_')
            return std::nullopt;
        k.local = std::string(release.substr(pos + 1));
    }
    classify(k);
    return k;
}

int compare_package_versions(std::string_view a, std::string_view b) {
    std::size_t i = 0;
    std::size_t j = 0;
    while (true) {
        while (i < a.size() && !is_digit(a[i]) && !is_alpha(a[i]))
            ++i;
        while (j < b.size() && !is_digit(b[j]) && !is_alpha(b[j]))
            ++j;
        if (i >= a.size() || j >= b.size())
            return (i < a.size()) - (j < b.size());
        const bool num = is_digit(a[i]);
        if (num != is_digit(b[j]))
            return num ? 1 : -1; // rpm: a number is newer than letters
        const std::size_t si = i;
        const std::size_t sj = j;
        while (i < a.size() && (num ? is_digit(a[i]) : is_alpha(a[i])))
            ++i;
        while (j < b.size() && (num ? is_digit(b[j]) : is_alpha(b[j])))
            ++j;
        std::string_view x = a.substr(si, i - si);
        std::string_view y = b.substr(sj, j - sj);
        if (num) {
            while (x.size() > 1 && x.front() == '0')
                x.remove_prefix(1);
            while (y.size() > 1 && y.front() == '0')
                y.remove_prefix(1);
            if (x.size() != y.size())
                return x.size() < y.size() ? -1 : 1;
        }
        if (const int c = x.compare(y); c != 0)
            return c < 0 ? -1 : 1;
    }
}

std::optional<std::string> package_version_from_kernel_version(std::string_view text) {
    static const std::regex debian(R"((?:Debian|Ubuntu) ([0-9][0-9A-Za-z.+~:-]*))");
    std::optional<std::string> last;
    for (auto it = std::cregex_iterator(text.data(), text.data() + text.size(), debian);
         it != std::cregex_iterator(); ++it)
        last = (*it)[1].str();
    return last;
}

} // namespace guardian

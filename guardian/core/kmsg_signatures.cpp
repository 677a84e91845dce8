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
    r.facility = prival >> 3;
    const auto rest = prefix.substr(comma + 1);
    const auto comma2 = rest.find(',');
    if (std::from_chars(rest.data(),
                        rest.data() + (comma2 == std::string_view::npos ? rest.size() : comma2),
                        r.sequence)
            .ec != std::errc{})
        return std::nullopt;
    if (comma2 != std::string_view::npos) {
        const auto ts = rest.substr(comma2 + 1);
        const auto end = ts.find(',');
        // Best effort: a record without a readable timestamp is still a record.
        (void)std::from_chars(ts.data(),
                              ts.data() + (end == std::string_view::npos ? ts.size() : end),
                              r.timestamp_us);
    }
    std::string_view msg = raw.substr(semi + 1);
    if (const auto nl = msg.find('\n'); nl != std::string_view::npos)
        msg = msg.substr(0, nl); // continuation lines carry key=value metadata
    r.message = std::string(msg);
    return r;
}

namespace {

// CONFIG_PRINTK_CALLER adds "[  T123]" (task) or "[    C1]" (CPU) after the
// timestamp; /dev/kmsg carries it as a prefix field instead.
std::string_view skip_caller_id(std::string_view msg) {
    if (msg.empty() || msg[0] != '[')
        return msg;
    const auto end = msg.find(']');
    if (end == std::string_view::npos || end > 12)
        return msg;
    std::string_view id = msg.substr(1, end - 1);
    while (!id.empty() && id.front() == ' ')
        id.remove_prefix(1);
    if (id.size() < 2 || (id[0] != 'T' && id[0] != 'C'))
        return msg;
    for (const char c : id.substr(1))
        if (c < '0' || c > '9')
            return msg;
    return msg.substr(end + 1);
}

} // namespace

std::optional<KmsgRecord> parse_syslog_line(std::string_view line) {
    if (line.size() < 3 || line[0] != '<')
        return std::nullopt;
    const auto close = line.find('>');
    if (close == std::string_view::npos || close > 5)
        return std::nullopt;
    int prival = 0;
    if (std::from_chars(line.data() + 1, line.data() + close, prival).ec != std::errc{} ||
        prival < 0)
        return std::nullopt;
    KmsgRecord r;
    r.priority = prival & 7;
    r.facility = prival >> 3;
    std::string_view msg = line.substr(close + 1);
    // "[ 1234.567890] ": seconds and microseconds; spaces pad the seconds.
    if (!msg.empty() && msg[0] == '[') {
        const auto end = msg.find(']');
        const auto dot = msg.find('.');
        if (end != std::string_view::npos && dot != std::string_view::npos && dot < end) {
            auto secs = msg.substr(1, dot - 1);
            while (!secs.empty() && secs.front() == ' ')
                secs.remove_prefix(1);
            unsigned long long s = 0;
            unsigned long long us = 0;
            const auto frac = msg.substr(dot + 1, end - dot - 1);
            if (std::from_chars(secs.data(), secs.data() + secs.size(), s).ec == std::errc{} &&
                std::from_chars(frac.data(), frac.data() + frac.size(), us).ec == std::errc{}) {
                for (std::size_t n = frac.size(); n < 6; ++n)
                    us *= 10;
                r.timestamp_us = s * 1000000ULL + us;
                msg = msg.substr(end + 1);
                msg = skip_caller_id(msg);
                if (!msg.empty() && msg[0] == ' ')
                    msg.remove_prefix(1);
            }
        }
    }
    if (!msg.empty() && msg.back() == '\n')
        msg.remove_suffix(1);
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

namespace {

// The kernel's report heads, in the order they are tried. `anywhere`: the
// text may follow a prefix ("watchdog: ", "NMI watchdog: ", "rcu: ", a comm).
struct HeadPattern {
    std::string_view text;
    bool anywhere;
    TroubleKind kind;
    bool multi_line;
};

constexpr HeadPattern head_patterns[] = {
    {"BUG: soft lockup", true, TroubleKind::soft_lockup, true},
    {"Watchdog detected hard LOCKUP", true, TroubleKind::hard_lockup, true},
    {"BUG: Bad page state", true, TroubleKind::bad_page, true},
    {"BUG: Bad page map", true, TroubleKind::bad_page, true},
    {"BUG: unable to handle", false, TroubleKind::oops, true},
    {"BUG: kernel NULL pointer dereference", false, TroubleKind::oops, true},
    {"Unable to handle kernel", false, TroubleKind::oops, true}, // arm, arm64
    {"Oops:", false, TroubleKind::oops, true},
    {"Internal error: Oops", false, TroubleKind::oops, true},
    {"general protection fault", false, TroubleKind::oops, true},
    {"kernel BUG at ", false, TroubleKind::kernel_bug, true},
    {"BUG: ", false, TroubleKind::bug, true},
    {"WARNING: ", false, TroubleKind::warning, true},
    {"Kernel panic - not syncing", false, TroubleKind::panic, true},
    {"self-detected stall on CPU", true, TroubleKind::rcu_stall, true},
    {"detected stalls on CPU", true, TroubleKind::rcu_stall, true},
    {"detected expedited stalls on CPU", true, TroubleKind::rcu_stall, true},
    {"INFO: task ", false, TroubleKind::hung_task, true},
    {"page allocation failure: order:", true, TroubleKind::page_alloc_failure, true},
    {"invoked oom-killer:", true, TroubleKind::oom_kill, true},
    {"Out of memory: Kill", false, TroubleKind::oom_kill, false},
    {"Memory cgroup out of memory: Kill", false, TroubleKind::oom_kill, false},
    {"Machine check events logged", true, TroubleKind::machine_check, false},
    {"[Hardware Error]: ", true, TroubleKind::machine_check, false},
};

constexpr std::string_view kind_names[trouble_kind_count] = {
    "oops",
    "kernel_bug",
    "bug",
    "warning",
    "panic",
    "rcu_stall",
    "soft_lockup",
    "hard_lockup",
    "hung_task",
    "bad_page",
    "page_alloc_failure",
    "oom_kill",
    "machine_check",
    "filesystem",
    "block_io",
};

} // namespace

std::string_view to_string(TroubleKind k) noexcept {
    const auto i = static_cast<std::size_t>(k);
    return i < trouble_kind_count ? kind_names[i] : "unknown";
}

std::optional<TroubleKind> trouble_kind_from_string(std::string_view name) noexcept {
    for (std::size_t i = 0; i < trouble_kind_count; ++i)
        if (kind_names[i] == name)
            return static_cast<TroubleKind>(i);
    return std::nullopt;
}

std::optional<TroubleHead> classify_trouble_head(std::string_view m) {
    // "INFO: task x:1 blocked for more than 120 seconds." is the only
    // "INFO: task" line that starts a report.
    for (const auto& p : head_patterns) {
        const bool hit = p.anywhere ? contains(m, p.text) : m.starts_with(p.text);
        if (!hit)
            continue;
        if (p.kind == TroubleKind::hung_task && !contains(m, "blocked for more than"))
            continue;
        return TroubleHead{p.kind, p.multi_line, std::nullopt, {}};
    }
    if (auto fs = classify_kmsg(m)) {
        const bool block = fs->signature == KmsgSignature::grant_not_unmapped ||
                           fs->signature == KmsgSignature::io_error_xvd;
        return TroubleHead{block ? TroubleKind::block_io : TroubleKind::filesystem, false,
                           fs->signature, fs->device};
    }
    // xen-blkfront after XSA-396: a grant the backend still holds ends the
    // disk ("xvda disabled for further use").
    if (contains(m, " disabled for further use")) {
        std::string dev;
        for (const char c : m) {
            if (c == ' ')
                break;
            dev += c;
        }
        return TroubleHead{TroubleKind::block_io, false, std::nullopt, dev.substr(0, 32)};
    }
    return std::nullopt;
}

} // namespace guardian

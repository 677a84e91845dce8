#include "guardian/core/trouble_signature.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace guardian {
namespace {} // namespace

std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

namespace {

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Removes leading "[<ffffffff81079439>]" address groups.
std::string_view skip_addresses(std::string_view s) {
    s = trim_blanks(s);
    while (s.starts_with("[<")) {
        const auto end = s.find(">]");
        if (end == std::string_view::npos)
            break;
        s = trim_blanks(s.substr(end + 2));
    }
    return s;
}

bool symbol_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '$';
}

// Compiler-made clones and split parts differ between builds of one source.
std::string strip_clone_suffix(std::string_view f) {
    const auto dot = f.find('.');
    return std::string(dot == std::string_view::npos ? f : f.substr(0, dot));
}

} // namespace

std::uint64_t fnv1a64(std::string_view text) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string hex64(std::uint64_t v) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = digits[v & 0xf];
        v >>= 4;
    }
    return out;
}

std::string symbol_function(std::string_view symbol) {
    const auto plus = symbol.find("+0x");
    if (plus == std::string_view::npos || plus == 0)
        return {};
    const auto name = symbol.substr(0, plus);
    if (!std::all_of(name.begin(), name.end(), symbol_char))
        return {};
    return strip_clone_suffix(name);
}

std::optional<TraceFrame> parse_trace_frame(std::string_view line) {
    std::string_view s = skip_addresses(line);
    TraceFrame f;
    if (s.starts_with("? ")) {
        f.reliable = false;
        s = trim_blanks(s.substr(2));
    }
    // arm: "callee from caller+0x20/0xac": the caller is this frame's function.
    if (const auto from = s.find(" from "); from != std::string_view::npos)
        s = trim_blanks(s.substr(from + 6));
    const auto end = s.find(' ');
    const std::string_view symbol = s.substr(0, end);
    f.function = symbol_function(symbol);
    if (f.function.empty())
        return std::nullopt;
    if (end != std::string_view::npos) {
        const auto rest = trim_blanks(s.substr(end));
        if (rest.starts_with("[") && rest.size() > 2 && rest.back() == ']' &&
            std::all_of(rest.begin() + 1, rest.end() - 1, symbol_char))
            f.module = std::string(rest.substr(1, rest.size() - 2));
    }
    return f;
}

std::optional<std::string> parse_fault_ip(std::string_view line) {
    std::string_view s = trim_blanks(line);
    std::string_view rest;
    for (const std::string_view tag : {"RIP: ", "IP: ", "EIP: ", "pc : ", "PC is at "}) {
        if (s.starts_with(tag)) {
            rest = s.substr(tag.size());
            break;
        }
    }
    if (rest.empty())
        return std::nullopt;
    // "0010:" / "e030:": the code segment selector.
    if (rest.size() > 5 && rest[4] == ':' && std::all_of(rest.begin(), rest.begin() + 4, is_hex))
        rest = rest.substr(5);
    rest = skip_addresses(rest);
    // 3.x prints the address twice: "[<a>]  [<a>] sym+0x1/0x2".
    rest = skip_addresses(rest);
    const std::string_view symbol = rest.substr(0, rest.find(' '));
    auto fn = symbol_function(symbol);
    if (fn.empty())
        return std::nullopt; // "0x7f585a91b215": user space, or no symbol
    return fn;
}

std::optional<TaskLine> parse_task_line(std::string_view line) {
    std::string_view s = trim_blanks(line);
    TaskLine t;
    auto number_after = [&](std::string_view key, long& out) {
        const auto at = s.find(key);
        if (at == std::string_view::npos)
            return false;
        long v = 0;
        bool any = false;
        for (std::size_t i = at + key.size();
             i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
            v = v * 10 + (s[i] - '0');
            any = true;
        }
        out = v;
        return any;
    };
    std::size_t comm_at = std::string_view::npos;
    std::size_t comm_key = 0;
    if (s.starts_with("CPU: ") && s.find(" PID: ") != std::string_view::npos) {
        long cpu = -1;
        (void)number_after("CPU: ", cpu);
        t.cpu = static_cast<int>(cpu);
        (void)number_after(" PID: ", t.pid);
        comm_at = s.find(" Comm: ");
        comm_key = 7;
    } else if (s.starts_with("Pid: ") && s.find(", comm: ") != std::string_view::npos) {
        (void)number_after("Pid: ", t.pid);
        comm_at = s.find(", comm: ");
        comm_key = 8;
    } else {
        return std::nullopt;
    }
    if (comm_at == std::string_view::npos)
        return t;
    std::string_view after = s.substr(comm_at + comm_key);
    // The comm is at most 15 characters and may contain spaces; the taint
    // marker ends it.
    auto tainted = after.find(" Tainted: ");
    auto not_tainted = after.find(" Not tainted ");
    std::string_view rest;
    if (tainted != std::string_view::npos &&
        (not_tainted == std::string_view::npos || tainted < not_tainted)) {
        t.comm = std::string(trim_blanks(after.substr(0, tainted)));
        rest = trim_blanks(after.substr(tainted + 10));
        // Flags are single upper-case letters separated by spaces, then the release.
        std::string flags;
        while (!rest.empty()) {
            const auto sp = rest.find(' ');
            const auto word = rest.substr(0, sp);
            if (word.size() != 1 || !std::isupper(static_cast<unsigned char>(word[0])))
                break;
            flags += (flags.empty() ? "" : " ") + std::string(word);
            rest = sp == std::string_view::npos ? std::string_view{} : trim_blanks(rest.substr(sp));
        }
        t.taint = flags;
    } else if (not_tainted != std::string_view::npos) {
        t.comm = std::string(trim_blanks(after.substr(0, not_tainted)));
        rest = trim_blanks(after.substr(not_tainted + 13));
    } else {
        t.comm = std::string(trim_blanks(after.substr(0, 16)));
        return t;
    }
    const auto sp = rest.find(' ');
    t.release = std::string(rest.substr(0, sp));
    if (sp != std::string_view::npos)
        t.version = std::string(trim_blanks(rest.substr(sp)).substr(0, 96));
    return t;
}

std::optional<std::vector<std::string>> parse_modules_line(std::string_view line) {
    std::string_view s = trim_blanks(line);
    static constexpr std::string_view key = "Modules linked in:";
    if (!s.starts_with(key))
        return std::nullopt;
    s = s.substr(key.size());
    std::vector<std::string> out;
    while (!s.empty() && out.size() < 128) {
        s = trim_blanks(s);
        const auto sp = s.find(' ');
        std::string_view word = s.substr(0, sp);
        if (const auto paren = word.find('('); paren != std::string_view::npos)
            word = word.substr(0, paren);
        if (!word.empty() && std::all_of(word.begin(), word.end(), symbol_char))
            out.emplace_back(word);
        if (sp == std::string_view::npos)
            break;
        s = s.substr(sp);
    }
    return out;
}

bool is_reporting_frame(std::string_view f) noexcept {
    // Sorted for binary search.
    static constexpr std::array<std::string_view, 82> names = {
        "__bad_area_nosemaphore",
        "__const_udelay",
        "__delay",
        "__do_page_fault",
        "__hrtimer_run_queues",
        "__irq_exit_rcu",
        "__perf_event_overflow",
        "__sysvec_apic_timer_interrupt",
        "__warn",
        "apic_timer_interrupt",
        "arch_trigger_all_cpu_backtrace",
        "arch_trigger_cpumask_backtrace",
        "asm_common_interrupt",
        "asm_exc_general_protection",
        "asm_exc_int3",
        "asm_exc_invalid_op",
        "asm_exc_nmi",
        "asm_exc_page_fault",
        "asm_sysvec_apic_timer_interrupt",
        "bad_area_nosemaphore",
        "check_cpu_stall",
        "default_do_nmi",
        "delay_tsc",
        "die",
        "do_error_trap",
        "do_general_protection",
        "do_int3",
        "do_invalid_op",
        "do_nmi",
        "do_page_fault",
        "do_trap",
        "dump_header",
        "dump_stack",
        "dump_stack_lvl",
        "end_repeat_nmi",
        "exc_general_protection",
        "exc_invalid_op",
        "exc_nmi",
        "exc_page_fault",
        "general_protection",
        "handle_bug",
        "hrtimer_interrupt",
        "invalid_op",
        "irq_exit",
        "irq_exit_rcu",
        "kernelmode_fixup_or_oops",
        "nmi_cpu_backtrace",
        "nmi_handle",
        "nmi_trigger_cpumask_backtrace",
        "no_context",
        "oom_kill_process",
        "oops_end",
        "out_of_memory",
        "page_fault",
        "page_fault_oops",
        "panic",
        "perf_event_nmi_handler",
        "print_cpu_stall",
        "print_modules",
        "rcu_check_callbacks",
        "rcu_dump_cpu_stacks",
        "rcu_pending",
        "rcu_sched_clock_irq",
        "report_bug",
        "show_regs",
        "show_stack",
        "smp_apic_timer_interrupt",
        "sysvec_apic_timer_interrupt",
        "tick_nohz_handler",
        "tick_sched_handle",
        "tick_sched_timer",
        "update_process_times",
        "warn_alloc",
        "warn_slowpath_common",
        "warn_slowpath_fmt",
        "warn_slowpath_null",
        "watchdog_overflow_callback",
        "watchdog_timer_fn",
        "xen_do_hypervisor_callback",
        "xen_evtchn_do_upcall",
        "xen_hvm_callback_vector",
        "xen_timer_interrupt",
    };
    return std::binary_search(names.begin(), names.end(), f);
}

std::string source_file(std::string_view location) {
    location = location.substr(0, location.rfind(':'));
    static constexpr std::string_view tops[] = {
        "arch/", "block/",  "crypto/", "drivers/", "fs/",  "include/",  "init/",  "io_uring/",
        "ipc/",  "kernel/", "lib/",    "mm/",      "net/", "security/", "sound/", "virt/"};
    std::size_t best = std::string_view::npos;
    for (const auto top : tops) {
        if (location.starts_with(top))
            return std::string(location);
        const auto at = location.find("/" + std::string(top));
        if (at != std::string_view::npos && (best == std::string_view::npos || at < best))
            best = at;
    }
    return std::string(best == std::string_view::npos ? location : location.substr(best + 1));
}

std::string normalise_text(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size() && out.size() < 160) {
        const char c = text[i];
        if (c == '0' && i + 1 < text.size() && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
            i += 2;
            while (i < text.size() && is_hex(text[i]))
                ++i;
            out += 'N';
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
                ++i;
            out += 'N';
        } else {
            out += c == '|' ? '/' : c;
            ++i;
        }
    }
    return out;
}

std::string signature_text(const SignatureParts& p) {
    std::string s = p.kind + "|" + p.function + "|";
    for (std::size_t i = 0; i < p.frames.size(); ++i)
        s += (i ? ">" : "") + p.frames[i];
    s += "|" + p.location + "|" + p.detail;
    return s;
}

std::string signature_id(const SignatureParts& parts) {
    return hex64(fnv1a64(signature_text(parts)));
}

} // namespace guardian

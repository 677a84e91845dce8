// The hostile-guest suite's table: what a guest (through its own socket,
// under the real guest permissions and quotas) or dom0 (no quotas: the
// larger floods, values past the 2048-byte record) can put where guardian's
// provider tools read, and the checks every output must pass beside it.
// Domains 3 (web1) and 6 (db1, with an incident) are honest and write their
// reports through their own guest sockets; domain 4 is the hostile one.
// docs/hostile-guests.md lists the bounds these cases go past.
#pragma once

#include "guardian/core/guest_contract.hpp"
#include "tests/xen/xenstore_server_fixture.hpp"

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace guardian::test::hostile {

inline constexpr unsigned web1 = 3;
inline constexpr unsigned mallory = 4;
inline constexpr unsigned db1 = 6;

enum class Via { guest, dom0 };

inline std::string to_string(Via v) {
    return v == Via::guest ? "Guest" : "Dom0";
}

inline std::string base_of(unsigned domid) {
    return contract::domain_base_path(std::to_string(domid));
}

// A guest over its quota gets ENOSPC and carries on: errors are ignored.
inline void put(xen::XenStore& xs, const std::string& path, const std::string& value) {
    (void)xs.write(path, value);
}

// Everything a terminal, a JSON decoder or a reader's eye can trip on:
// C0 (NUL, BEL, ESC sequences, \r, \n), DEL, C1 (U+009B CSI), U+202E,
// bytes that are not UTF-8 (0xff, an overlong NUL, a surrogate), an OSC
// title change, lines that mimic the honest domains' rows, and a label
// value that tries to end itself and forge db1's series.
inline std::string nasty(std::string_view tag) {
    return std::string(tag) + "\"} 1\nguardian_present{domid=\"6\",name=\"db1\",uuid=\"\"} 0\n" +
           std::string("\x1b[2J\x1b[H\r3  web1  incident  critical\n6  db1  watching\x00\x01\x7f"
                       "\xc2\x9b"
                       "1A\xe2\x80\xae\xff\xfe\xc0\x80\xed\xa0\x80\x1b]0;owned\x07\x1b[1A\t",
                       66);
}

// Every node of data/guardian/ a reader of the contract looks at.
inline const std::vector<std::string>& report_fields() {
    static const std::vector<std::string> f{"version",
                                            "schema",
                                            "state",
                                            "kernel",
                                            "distribution",
                                            "suspend-safety",
                                            "suspend-safety-reason",
                                            "last-restore",
                                            "last-restore-changes",
                                            "last-verification",
                                            "last-verdict-reason",
                                            "last-verification-timing",
                                            "incident",
                                            "methods",
                                            "boot-report",
                                            "freeze",
                                            "vbd-count",
                                            "updated",
                                            "vbd/51712/features",
                                            "vbd/51712/backend"};
    return f;
}

struct Case {
    std::string name;
    // The toolstack's name for the hostile domain (dom0 writes it).
    std::string domain_name = "mallory";
    // What the hostile domain writes, through `xs` (its guest socket, or
    // dom0's) below `base`; `via` sizes the attack to what that path allows.
    std::function<void(xen::XenStore& xs, const std::string& base, Via via)> write;
    // How the guest answers a freeze request (the nonce given): the answers
    // in order; empty = never answers.
    std::function<std::vector<std::string>(const std::string& nonce)> answer;
    int preflight_exit = 1;
    // Keeps rewriting its report while the commands run (a flood).
    bool floods = false;
};

inline void PrintTo(const Case& c, std::ostream* os) {
    *os << c.name;
}

// A value of `size` bytes made of `unit` repeated.
inline std::string filled(std::string_view unit, std::size_t size) {
    std::string out;
    while (out.size() < size)
        out += unit;
    out.resize(size);
    return out;
}

inline std::vector<Case> cases() {
    std::vector<Case> c;
    c.push_back({"ControlBytesInEveryField",
                 "mallory",
                 [](xen::XenStore& xs, const std::string& base, Via) {
                     for (const auto& f : report_fields())
                         put(xs, base + "/" + f, nasty(f));
                 },
                 {},
                 1});
    c.push_back({"ControlBytesInTheDomainName",
                 nasty("name"),
                 [](xen::XenStore& xs, const std::string& base, Via) {
                     put(xs, base + "/version", "0.1.0");
                     put(xs, base + "/suspend-safety", "safe");
                 },
                 {},
                 0});
    c.push_back({"NodesPastTheSubtreeBound",
                 "mallory",
                 [](xen::XenStore& xs, const std::string& base, Via via) {
                     put(xs, base + "/version", "0.1.0");
                     put(xs, base + "/suspend-safety", "safe");
                     // A guest's directory holds ~2 KiB of names: 20 x 20
                     // nested; dom0 has no such quota: 2,000 in one.
                     if (via == Via::guest) {
                         for (int i = 0; i < 20; ++i)
                             for (int k = 0; k < 20; ++k)
                                 put(xs, base + "/j" + std::to_string(i) + "/" + std::to_string(k),
                                     "x");
                     } else {
                         for (int i = 0; i < 2000; ++i)
                             put(xs, base + "/junk-node-" + std::to_string(i), "x");
                     }
                 },
                 {},
                 1});
    c.push_back({"DeepTree",
                 "mallory",
                 [](xen::XenStore& xs, const std::string& base, Via via) {
                     put(xs, base + "/version", "0.1.0");
                     std::string path = base + "/vbd";
                     for (int i = 0; i < (via == Via::guest ? 300 : 900); ++i)
                         path += "/d";
                     put(xs, path, nasty("deep"));
                     put(xs, base + "/state/a/b/c/d/e", "incident");
                 },
                 {},
                 1});
    c.push_back({"HugeValues",
                 "mallory",
                 [](xen::XenStore& xs, const std::string& base, Via via) {
                     // The guest's quota: a 2048-byte record with a 28-byte
                     // header; dom0 writes up to the 4096-byte message.
                     const std::size_t size = via == Via::guest ? 2019 : 4000;
                     for (const auto& f : report_fields())
                         put(xs, base + "/" + f, filled("\x1b[31m\xc3\xa9\xff\r", size));
                 },
                 {},
                 1});
    c.push_back({"NumbersOutOfRange",
                 "mallory",
                 [](xen::XenStore& xs, const std::string& base, Via) {
                     put(xs, base + "/version", "0.1.0");
                     put(xs, base + "/suspend-safety", "safe");
                     put(xs, base + "/schema", "18446744073709551616");
                     put(xs, base + "/vbd-count", "-1");
                     put(xs, base + "/updated", "NaN");
                     put(xs, base + "/last-verification", "9999-12-31T23:59:60Z critical");
                     put(xs, base + "/last-restore", "0000-01-01T00:00:00Z 1e999");
                     put(xs, base + "/incident", "-0001-02-30T25:61:61Z 18446744073709551616");
                     put(xs, base + "/last-verification-timing",
                         "restore noticed +NaN ms, verdict +18446744073709551616 ms");
                     put(xs, base + "/vbd/51712/features", "feature-persistent=1e999");
                     put(xs, base + "/boot-report", "fsck -9223372036854775809");
                 },
                 {},
                 0});
    c.push_back({"GarbageFreezeAnswers", "mallory",
                 [](xen::XenStore& xs, const std::string& base, Via) {
                     put(xs, base + "/version", "0.1.0");
                     put(xs, base + "/freeze", "thawed");
                 },
                 [](const std::string& nonce) {
                     return std::vector<std::string>{"frozen", "frozen \x1b[2K",
                                                     "thawed - healthy\r6  db1  incident",
                                                     filled("frozen x\x1b[A", 2000),
                                                     "failed " + nonce + " " + nasty("refusal")};
                 },
                 1});
    c.push_back({"NeverAnswers",
                 "mallory",
                 [](xen::XenStore& xs, const std::string& base, Via) {
                     put(xs, base + "/version", "0.1.0");
                     put(xs, base + "/state", "watching");
                 },
                 {},
                 1});
    c.push_back({"Floods",
                 "mallory",
                 [](xen::XenStore& xs, const std::string& base, Via) {
                     put(xs, base + "/version", "0.1.0");
                 },
                 {},
                 1,
                 true});
    return c;
}

// Answers freeze requests on `base` as `answer` says, from its own thread
// and connection (the guest's socket, or dom0's for the dom0 variant).
class Responder {
public:
    Responder(std::unique_ptr<xen::XsClient> xs, std::string base,
              std::function<std::vector<std::string>(const std::string&)> answer)
        : m_xs(std::move(xs)), m_base(std::move(base)), m_answer(std::move(answer)) {
        if (!m_xs->watch(m_base + "/request", "request"))
            throw std::runtime_error("responder: watch failed");
        m_thread = std::thread([this] { run(); });
    }
    Responder(const Responder&) = delete;
    Responder& operator=(const Responder&) = delete;
    ~Responder() {
        m_stop = true;
        m_thread.join();
    }

private:
    void run() {
        std::string last;
        while (!m_stop) {
            pollfd p{m_xs->watch_fd(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            (void)m_xs->read_watch_events();
            const auto req = m_xs->read(m_base + "/request");
            if (!req || *req == last)
                continue;
            last = *req;
            const auto r = contract::decode_freeze_request(*req);
            if (r.kind != contract::FreezeRequest::Kind::freeze)
                continue;
            for (const auto& a : m_answer(r.nonce))
                put(*m_xs, m_base + "/freeze", a);
        }
    }

    std::unique_ptr<xen::XsClient> m_xs;
    std::string m_base;
    std::function<std::vector<std::string>(const std::string&)> m_answer;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// Rewrites a report node as fast as the connection allows until destroyed.
class Flooder {
public:
    Flooder(std::unique_ptr<xen::XsClient> xs, std::string path)
        : m_xs(std::move(xs)), m_path(std::move(path)), m_thread([this] {
              for (unsigned long i = 0; !m_stop; ++i)
                  put(*m_xs, m_path, "2026-12-06T05:00:00Z healthy " + std::to_string(i));
          }) {}
    Flooder(const Flooder&) = delete;
    Flooder& operator=(const Flooder&) = delete;
    ~Flooder() {
        m_stop = true;
        m_thread.join();
    }

private:
    std::unique_ptr<xen::XsClient> m_xs;
    std::string m_path;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// The first thing in `out` a terminal would act on rather than show, or ""
// when there is none: a C0 control but \n, DEL, a byte that is not UTF-8, a
// C1 control, a bidirectional override or isolate. Decoded here, apart from
// the product's own reader (core/guest_text), so it checks that reader too.
inline std::string terminal_violation(std::string_view out) {
    for (std::size_t i = 0; i < out.size();) {
        const auto b = static_cast<unsigned char>(out[i]);
        const auto at = " at byte " + std::to_string(i) + ": ..." +
                        std::string(out.substr(i >= 20 ? i - 20 : 0, 40)) + "...";
        if (b < 0x80U) {
            if ((b < 0x20U && b != '\n') || b == 0x7FU)
                return "control byte " + std::to_string(b) + at;
            ++i;
            continue;
        }
        const std::size_t n = b >= 0xF0U ? 4 : b >= 0xE0U ? 3 : b >= 0xC2U ? 2 : 0;
        if (n == 0 || b > 0xF4U || i + n > out.size())
            return "not UTF-8" + at;
        char32_t cp = b & (n == 2 ? 0x1FU : n == 3 ? 0x0FU : 0x07U);
        for (std::size_t k = 1; k < n; ++k) {
            const auto c = static_cast<unsigned char>(out[i + k]);
            if ((c & 0xC0U) != 0x80U)
                return "not UTF-8" + at;
            cp = (cp << 6) | (c & 0x3FU);
        }
        const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
        if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return "not UTF-8" + at;
        if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C)
            return "hidden control U+" + std::to_string(static_cast<unsigned>(cp)) + at;
        i += n;
    }
    return "";
}

} // namespace guardian::test::hostile

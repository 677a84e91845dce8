// Kernel log lines that mean the block path or a filesystem went wrong after
// a restore. Pure: a /dev/kmsg record in, a classification out.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace guardian {

enum class KmsgSignature {
    grant_not_unmapped, // xen-blkfront: "backed has not unmapped grant" (stale feature-persistent)
    ext4_error,         // "EXT4-fs error (device xvda1): ..."
    jbd2_error,         // "JBD2: ..." errors, "Aborting journal on device ..."
    io_error_xvd,       // "I/O error, dev xvda, sector ..." / "Buffer I/O error on dev xvda1"
};

[[nodiscard]] std::string_view to_string(KmsgSignature s) noexcept;

struct KmsgRecord {
    int priority = 6; // syslog priority (facility stripped)
    unsigned long long sequence = 0;
    std::string message; // the text after ';', without the trailing newline
};

// One /dev/kmsg record: "<prefix: pri,seq,ts,flags[,...]>;<message>\n[ continuation lines]".
[[nodiscard]] std::optional<KmsgRecord> parse_kmsg_record(std::string_view raw);

struct KmsgMatch {
    KmsgSignature signature;
    std::string device; // "xvda1" where the line names one, else empty
};

[[nodiscard]] std::optional<KmsgMatch> classify_kmsg(std::string_view message);

} // namespace guardian

// The xenstore wire protocol as bytes: encoding requests and decoding what
// comes back (replies, watch events, error names, directory listings). No
// system calls: XsClient (xs_client.cpp) feeds it what the connection read,
// and unit tests feed it junk. Every constant is the distribution's
// <xen/io/xs_wire.h> (libxen-dev); none is copied here.
#pragma once

#include "guardian/util/result.hpp"
#include "guardian/xen/xenstore.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// xs_wire.h uses uint32_t and, for its xsd_errors table, the errno macros.
#include <xen/io/xs_wire.h>

namespace guardian::xen::wire {

inline constexpr std::size_t header_size = sizeof(xsd_sockmsg);
// Largest payload of one message in either direction.
inline constexpr std::size_t payload_max = XENSTORE_PAYLOAD_MAX;

struct Message {
    std::uint32_t type = XS_INVALID; // enum xsd_sockmsg_type
    std::uint32_t req_id = 0;
    std::uint32_t tx_id = 0;
    std::string body;
};

// Header + payload, in host byte order (the protocol's: both ends share a
// machine). The caller keeps payload within payload_max.
[[nodiscard]] std::string encode(std::uint32_t type, std::uint32_t req_id,
                                 std::string_view payload);

// The payload of a request made of NUL-terminated strings ("path\0token\0"),
// optionally followed by raw bytes (XS_WRITE's value). An argument that is
// empty or holds a NUL cannot be sent and is EINVAL.
[[nodiscard]] Result<std::string> strings_payload(std::initializer_list<std::string_view> args,
                                                  std::string_view tail = {});

// Bytes of a stream split into messages. Holds at most one incomplete
// message: a header announcing more than payload_max is an error (EPROTO)
// as soon as the header is complete, so junk cannot make it grow.
class MessageBuffer {
public:
    void append(std::string_view bytes) { m_bytes.append(bytes); }
    // The next complete message, nullopt when more bytes are needed.
    [[nodiscard]] Result<std::optional<Message>> next();
    // True when next() would return a message or an error without more bytes.
    [[nodiscard]] bool has_complete() const noexcept;
    [[nodiscard]] std::size_t buffered() const noexcept { return m_bytes.size() - m_pos; }

private:
    std::string m_bytes;
    std::size_t m_pos = 0; // start of the first unconsumed byte
};

// XS_ERROR's body, an errno name ("ENOENT\0"), as the errno of this
// machine through xs_wire.h's xsd_errors table; EIO for any other name.
[[nodiscard]] int error_code(std::string_view body) noexcept;

// XS_WATCH_EVENT's body: "path\0token\0". Fields after the token (none in
// today's protocol) are ignored; fewer than two NUL-terminated fields, or an
// empty path, is EPROTO.
[[nodiscard]] Result<WatchEvent> parse_watch_event(std::string_view body);

// XS_DIRECTORY's body: names, each NUL-terminated (empty body: no children).
// More than max_entries names is E2BIG; an unterminated or empty name EPROTO.
[[nodiscard]] Result<std::vector<std::string>> parse_directory(std::string_view body,
                                                               std::size_t max_entries);

// XS_DIRECTORY_PART's body: "generation\0" then whole names from the
// requested offset, NUL-terminated, and one more NUL after the last part.
struct DirectoryPart {
    std::string generation; // changes when the directory changed meanwhile
    std::string names;      // "a\0b\0" (without the final extra NUL)
    bool last = false;
};
[[nodiscard]] Result<DirectoryPart> parse_directory_part(std::string_view body);

// True when `path` is `watched` or lies below it ("a/b" is below "a").
[[nodiscard]] bool at_or_below(std::string_view path, std::string_view watched) noexcept;

} // namespace guardian::xen::wire

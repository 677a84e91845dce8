// Pure encoding and decoding of xenstore messages (see xs_wire.hpp).
#include "guardian/xen/xs_wire.hpp"

#include <cstring>

namespace guardian::xen::wire {
namespace {

Error protocol_error(const std::string& what) {
    return Error{what, EPROTO};
}

// Splits "a\0b\0" into {"a", "b"}; false when the last field has no NUL.
bool split_fields(std::string_view body, std::vector<std::string_view>& out, std::size_t limit) {
    while (!body.empty()) {
        const std::size_t nul = body.find('\0');
        if (nul == std::string_view::npos || out.size() >= limit)
            return false;
        out.push_back(body.substr(0, nul));
        body.remove_prefix(nul + 1);
    }
    return true;
}

} // namespace

std::string encode(std::uint32_t type, std::uint32_t req_id, std::string_view payload) {
    xsd_sockmsg h{};
    h.type = type;
    h.req_id = req_id;
    h.tx_id = 0; // XBT_NULL: guardian uses no transactions
    h.len = static_cast<std::uint32_t>(payload.size());
    std::string out(header_size, '\0');
    std::memcpy(out.data(), &h, header_size);
    out.append(payload);
    return out;
}

Result<std::string> strings_payload(std::initializer_list<std::string_view> args,
                                    std::string_view tail) {
    std::string out;
    for (std::string_view a : args) {
        if (a.empty() || a.find('\0') != std::string_view::npos)
            return Error{"invalid path or token '" + std::string(a.substr(0, a.find('\0'))) + "'",
                         EINVAL};
        out.append(a);
        out.push_back('\0');
    }
    out.append(tail);
    return out;
}

bool MessageBuffer::has_complete() const noexcept {
    const std::size_t have = m_bytes.size() - m_pos;
    if (have < header_size)
        return false;
    xsd_sockmsg h{};
    std::memcpy(&h, m_bytes.data() + m_pos, header_size);
    return h.len > payload_max || have >= header_size + h.len;
}

Result<std::optional<Message>> MessageBuffer::next() {
    const std::size_t have = m_bytes.size() - m_pos;
    if (have < header_size)
        return std::optional<Message>{};
    xsd_sockmsg h{};
    std::memcpy(&h, m_bytes.data() + m_pos, header_size);
    if (h.len > payload_max)
        return protocol_error("message of " + std::to_string(h.len) + " bytes exceeds the " +
                              std::to_string(payload_max) + "-byte protocol limit");
    if (have < header_size + h.len)
        return std::optional<Message>{};
    Message m;
    m.type = h.type;
    m.req_id = h.req_id;
    m.tx_id = h.tx_id;
    m.body.assign(m_bytes, m_pos + header_size, h.len);
    m_pos += header_size + h.len;
    // Drop consumed bytes once they dominate, so the buffer stays small.
    if (m_pos == m_bytes.size()) {
        m_bytes.clear();
        m_pos = 0;
    } else if (m_pos > payload_max) {
        m_bytes.erase(0, m_pos);
        m_pos = 0;
    }
    return std::optional<Message>(std::move(m));
}

int error_code(std::string_view body) noexcept {
    // The name is NUL-terminated on the wire; tolerate a peer that omits it.
    if (const std::size_t nul = body.find('\0'); nul != std::string_view::npos)
        body = body.substr(0, nul);
    for (const struct xsd_errors& e : xsd_errors) // struct and table share the name
        if (body == e.errstring)
            return e.errnum;
    return EIO;
}

Result<WatchEvent> parse_watch_event(std::string_view body) {
    std::vector<std::string_view> fields;
    if (!split_fields(body, fields, 16) || fields.size() < 2 || fields[XS_WATCH_PATH].empty())
        return protocol_error("malformed watch event of " + std::to_string(body.size()) + " bytes");
    return WatchEvent{std::string(fields[XS_WATCH_PATH]), std::string(fields[XS_WATCH_TOKEN])};
}

Result<std::vector<std::string>> parse_directory(std::string_view body, std::size_t max_entries) {
    std::vector<std::string_view> fields;
    if (!split_fields(body, fields, max_entries + 1))
        return fields.size() > max_entries
                   ? Error{"more than " + std::to_string(max_entries) + " entries", E2BIG}
                   : protocol_error("malformed directory listing (unterminated name)");
    std::vector<std::string> out;
    out.reserve(fields.size());
    for (std::string_view f : fields) {
        if (f.empty())
            return protocol_error("malformed directory listing (empty name)");
        out.emplace_back(f);
    }
    if (out.size() > max_entries)
        return Error{"more than " + std::to_string(max_entries) + " entries", E2BIG};
    return out;
}

Result<DirectoryPart> parse_directory_part(std::string_view body) {
    const std::size_t nul = body.find('\0');
    if (nul == std::string_view::npos || nul == 0)
        return protocol_error("malformed directory part (no generation)");
    DirectoryPart part;
    part.generation = std::string(body.substr(0, nul));
    std::string_view names = body.substr(nul + 1);
    // "\0" alone: nothing (more) there. "...x\0\0": the last part.
    // "...x\0": more follow. Anything else is junk.
    if (names == std::string_view("\0", 1)) {
        part.last = true;
        return part;
    }
    if (names.size() < 2 || names.back() != '\0')
        return protocol_error("malformed directory part (unterminated name)");
    if (names[names.size() - 2] == '\0') {
        part.last = true;
        names.remove_suffix(1);
        if (names.size() >= 2 && names[names.size() - 2] == '\0')
            return protocol_error("malformed directory part (empty name)");
    }
    if (names.front() == '\0' || names.find(std::string_view("\0\0", 2)) != std::string_view::npos)
        return protocol_error("malformed directory part (empty name)");
    part.names = std::string(names);
    return part;
}

bool at_or_below(std::string_view path, std::string_view watched) noexcept {
    if (watched.empty())
        return false;
    if (path.size() < watched.size() || path.substr(0, watched.size()) != watched)
        return false;
    return path.size() == watched.size() || watched.back() == '/' || path[watched.size()] == '/';
}

} // namespace guardian::xen::wire

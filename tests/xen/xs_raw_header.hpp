// A xenstore message header with any length field, for tests that put junk
// or hand-made messages on the wire (the encoder under test would refuse a
// length that does not match its payload).
#pragma once

#include <xen/io/xs_wire.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace guardian::test {

inline std::string raw_header(std::uint32_t type, std::uint32_t req_id, std::uint32_t len) {
    xsd_sockmsg h{};
    h.type = type;
    h.req_id = req_id;
    h.len = len;
    std::string out(sizeof h, '\0');
    std::memcpy(out.data(), &h, sizeof h);
    return out;
}

} // namespace guardian::test

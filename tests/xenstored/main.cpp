// guardian-test-xenstored: a small xenstored for tests, speaking the real
// xenstore wire protocol on unix sockets, so the real libxenstore client (and
// guardian's XsClient on top of it) can be driven without Xen.
//
// Usage: guardian-test-xenstored [--domid N] [--control PATH]
//                                [--guest DOMID:PATH]... [--verbose] SOCKET
//   Point a client at it with XENSTORED_PATH=SOCKET.
//
// Domains:
//   Every connection on SOCKET is the guest domain (default domid 7, home
//   /local/domain/<domid>; relative paths resolve there). A guest may read
//   anything and write only under its home. Quotas as xenstored 4.17: 1000
//   nodes per domain, 2048 bytes per stored node (value + child names + a
//   28-byte record header; a new child is checked against its parent's
//   record too) and 128 watches, answered ENOSPC / ENOSPC / E2BIG.
//   Every connection on the --control socket is dom0: unrestricted, no quota.
//   Each --guest DOMID:PATH adds a further guest domain on its own socket,
//   its home laid out as xl does: owned by dom0 and read-only to the guest
//   (its name and vm nodes are the toolstack's), with data/, drivers/,
//   feature/, attr/ and error/ the guest's to write, under the same quotas.
//   (Resume moves only the SOCKET domain.)
//
// Protocol: 16-byte header {type, req_id, tx_id, len} in native byte order,
//   payload at most 4096 bytes. A request announcing more is a protocol
//   violation and the connection is closed (as xenstored does); a reply that
//   would exceed 4096 bytes is answered E2BIG. Supported: DIRECTORY(1),
//   READ(2), GET_PERMS(3), WATCH(4), UNWATCH(5), TRANSACTION_START(6) and
//   _END(7) (accepted, applied immediately), GET_DOMAIN_PATH(10), WRITE(11),
//   MKDIR(12), RM(13), RESET_WATCHES(21), DIRECTORY_PART(22). Others: EINVAL.
//   Errors are ERROR(16) with the errno name ("ENOENT\0"). A new watch fires
//   once right after its acknowledgement; later WATCH_EVENT(15) "path\0token\0"
//   for every write/mkdir/rm at or below the watched path (relative watches
//   get relative paths); removing a subtree also fires watches set inside it.
//
// Test controls (dom0 connections only; WRITE to these paths, nothing stored):
//   /tool/test-xenstored/resume     ""  -> re-fire every guest watch once, as
//                                          after a restore (xs_resume)
//   /tool/test-xenstored/resume     "N" -> restore as domain N: the old home is
//                                          removed, /local/domain/N is created
//                                          if missing, guest connections become
//                                          domain N (relative watches move
//                                          along), then every watch re-fires
//   /tool/test-xenstored/introduce  "N" -> create /local/domain/N owned by N, so
//                                          dom0 can populate it before a resume
//   SIGUSR1                             -> same as resume ""
//   SIGTERM / SIGINT                    -> remove the sockets and exit 0
// From a shell: XENSTORED_PATH=CONTROL xenstore-write /tool/test-xenstored/resume 9
#include "tests/xenstored/server.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

int usage() {
    std::fputs(
        "usage: guardian-test-xenstored [--domid N] [--control PATH] [--guest DOMID:PATH]... "
        "[--verbose] SOCKET\n",
        stderr);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    guardian::test::xenstored::Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--domid" && i + 1 < argc) {
            char* end = nullptr;
            const unsigned long v = std::strtoul(argv[++i], &end, 10);
            if (*end != '\0' || v == 0 || v > 0x7fef)
                return usage();
            options.domid = static_cast<unsigned>(v);
        } else if (arg == "--control" && i + 1 < argc) {
            options.control_socket = argv[++i];
        } else if (arg == "--guest" && i + 1 < argc) {
            const std::string spec = argv[++i];
            const auto colon = spec.find(':');
            char* end = nullptr;
            const unsigned long v = std::strtoul(spec.c_str(), &end, 10);
            if (colon == std::string::npos || end != spec.c_str() + colon || v == 0 || v > 0x7fef ||
                colon + 1 == spec.size())
                return usage();
            options.guests.push_back({static_cast<unsigned>(v), spec.substr(colon + 1)});
        } else if (arg == "--verbose") {
            options.verbose = true;
        } else if (!arg.empty() && arg.front() != '-' && options.guest_socket.empty()) {
            options.guest_socket = std::string(arg);
        } else {
            return usage();
        }
    }
    if (options.guest_socket.empty())
        return usage();
    try {
        guardian::test::xenstored::Server server(std::move(options));
        return server.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "guardian-test-xenstored: %s\n", e.what());
        return 1;
    }
}

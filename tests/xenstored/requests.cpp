// Request handlers of guardian-test-xenstored: one per message type, each
// answering like xenstored 4.17 (tools/xenstore/xenstored_core.c) for the
// cases a guest client can produce.
#include "tests/xenstored/server.hpp"

#include <cerrno>
#include <cstdlib>

namespace guardian::test::xenstored {
namespace {

constexpr std::string_view ok_reply("OK", 3); // "OK\0"

bool strings_of(std::string_view payload, std::vector<std::string_view>& out) {
    out.clear();
    while (!payload.empty()) {
        const auto nul = payload.find('\0');
        if (nul == std::string_view::npos)
            return false;
        out.push_back(payload.substr(0, nul));
        payload.remove_prefix(nul + 1);
    }
    return true;
}

std::optional<std::string_view> one_arg(std::string_view payload) {
    if (payload.empty() || payload.back() != '\0' || payload.find('\0') != payload.size() - 1)
        return std::nullopt;
    return payload.substr(0, payload.size() - 1);
}

} // namespace

void Server::handle(Connection& c, const Header& h, std::string_view payload) {
    if (m_options.verbose)
        log("conn " + std::to_string(c.fd) + " type " + std::to_string(h.type) + " len " +
            std::to_string(h.len));
    int err = 0;
    switch (static_cast<MsgType>(h.type)) {
    case MsgType::directory:
        err = do_directory(c, h, payload);
        break;
    case MsgType::directory_part:
        err = do_directory_part(c, h, payload);
        break;
    case MsgType::read:
        err = do_read(c, h, payload);
        break;
    case MsgType::write:
        err = do_write(c, h, payload);
        break;
    case MsgType::mkdir:
        err = do_mkdir(c, h, payload);
        break;
    case MsgType::rm:
        err = do_rm(c, h, payload);
        break;
    case MsgType::watch:
        err = do_watch(c, h, payload);
        break;
    case MsgType::unwatch:
        err = do_unwatch(c, h, payload);
        break;
    case MsgType::get_perms: {
        auto arg = one_arg(payload);
        const std::string abs = arg ? Store::canonical(*arg, home_of(c.domid)) : std::string();
        const Node* node = abs.empty() ? nullptr : m_store.find(abs);
        if (abs.empty())
            err = EINVAL;
        else if (!node)
            err = ENOENT;
        else
            reply(c, h, "n" + std::to_string(node->owner) + std::string(1, '\0'));
        break;
    }
    case MsgType::get_domain_path: {
        auto arg = one_arg(payload);
        char* end = nullptr;
        const std::string s(arg.value_or(""));
        const unsigned long id = std::strtoul(s.c_str(), &end, 10);
        if (!arg || s.empty() || *end != '\0' || id > 0xffff)
            err = EINVAL;
        else
            reply(c, h, home_of(static_cast<unsigned>(id)) + std::string(1, '\0'));
        break;
    }
    case MsgType::introduce:
    case MsgType::release: {
        // The toolstack's calls (dom0 only): xenstored introduces the new
        // domain (its home exists from then on) and fires @introduceDomain;
        // on release it fires @releaseDomain. The toolstack removes the
        // tree itself (xl does `rm /local/domain/N`).
        std::vector<std::string_view> args;
        char* end = nullptr;
        const std::string id(strings_of(payload, args) && !args.empty() ? args[0] : "");
        const unsigned long domid = std::strtoul(id.c_str(), &end, 10);
        const bool introduce = static_cast<MsgType>(h.type) == MsgType::introduce;
        if (c.domid != 0)
            err = EACCES;
        else if (id.empty() || *end != '\0' || domid == 0 || domid >= 0x7ff0 ||
                 args.size() != (introduce ? 3U : 1U))
            err = EINVAL;
        else {
            if (introduce)
                m_store.introduce(static_cast<unsigned>(domid));
            reply(c, h, ok_reply);
            fire_special(introduce ? "@introduceDomain" : "@releaseDomain");
        }
        break;
    }
    case MsgType::transaction_start:
        // Transactions are accepted and applied immediately: enough for a
        // single-client test, and libxenstore users may wrap writes in them.
        reply(c, h, std::to_string(m_next_tx++) + std::string(1, '\0'));
        break;
    case MsgType::transaction_end:
        reply(c, h, ok_reply);
        break;
    case MsgType::reset_watches:
        c.watches.clear();
        reply(c, h, ok_reply);
        break;
    default:
        err = EINVAL;
        break; // xenstored's answer to an unknown type
    }
    if (err != 0)
        reply_error(c, h, err);
}

int Server::do_read(Connection& c, const Header& h, std::string_view payload) {
    auto arg = one_arg(payload);
    const std::string abs = arg ? Store::canonical(*arg, home_of(c.domid)) : std::string();
    if (abs.empty())
        return EINVAL;
    const Node* node = m_store.find(abs);
    if (!node)
        return ENOENT;
    reply(c, h, node->value);
    return 0;
}

int Server::do_directory(Connection& c, const Header& h, std::string_view payload) {
    auto arg = one_arg(payload);
    const std::string abs = arg ? Store::canonical(*arg, home_of(c.domid)) : std::string();
    if (abs.empty())
        return EINVAL;
    if (!m_store.find(abs))
        return ENOENT;
    std::string out;
    for (const std::string& child : m_store.children(abs)) {
        out += child;
        out.push_back('\0');
    }
    reply(c, h, out); // more than 4096 bytes => E2BIG; clients then use DIRECTORY_PART
    return 0;
}

// DIRECTORY_PART: "<path>\0<offset>\0" -> "<generation>\0<children from offset>",
// the last part ending in an extra NUL.
int Server::do_directory_part(Connection& c, const Header& h, std::string_view payload) {
    std::vector<std::string_view> args;
    if (!strings_of(payload, args) || args.size() != 2)
        return EINVAL;
    const std::string abs = Store::canonical(args[0], home_of(c.domid));
    if (abs.empty())
        return EINVAL;
    if (!m_store.find(abs))
        return ENOENT;
    std::string all;
    for (const std::string& child : m_store.children(abs)) {
        all += child;
        all.push_back('\0');
    }
    const std::size_t off = std::strtoul(std::string(args[1]).c_str(), nullptr, 10);
    std::string out = std::to_string(m_store.generation());
    out.push_back('\0');
    if (off >= all.size()) {
        out.push_back('\0');
        reply(c, h, out);
        return 0;
    }
    const std::size_t room = payload_max - out.size() - 1;
    std::size_t len = 0;
    // Whole names only, as many as fit.
    while (off + len < all.size()) {
        const std::size_t next = all.find('\0', off + len) + 1 - (off + len);
        if (len + next > room)
            break;
        len += next;
    }
    out.append(all, off, len);
    if (off + len == all.size())
        out.push_back('\0');
    reply(c, h, out);
    return 0;
}

int Server::do_write(Connection& c, const Header& h, std::string_view payload) {
    const auto nul = payload.find('\0');
    if (nul == std::string_view::npos)
        return EINVAL;
    const std::string abs = Store::canonical(payload.substr(0, nul), home_of(c.domid));
    if (abs.empty())
        return EINVAL;
    const std::string_view value = payload.substr(nul + 1); // bytes, may hold NULs
    if (c.domid == 0 && abs.starts_with(control_prefix)) {
        auto err = control(abs, value);
        if (err && *err != 0)
            return *err;
        reply(c, h, ok_reply);
        return 0;
    }
    bool created = false;
    if (int err = m_store.write(c.domid, abs, value, created); err != 0)
        return err;
    reply(c, h, ok_reply);
    fire(abs, false);
    return 0;
}

int Server::do_mkdir(Connection& c, const Header& h, std::string_view payload) {
    auto arg = one_arg(payload);
    const std::string abs = arg ? Store::canonical(*arg, home_of(c.domid)) : std::string();
    if (abs.empty())
        return EINVAL;
    bool created = false;
    if (int err = m_store.mkdir(c.domid, abs, created); err != 0)
        return err;
    reply(c, h, ok_reply);
    if (created)
        fire(abs, false);
    return 0;
}

int Server::do_rm(Connection& c, const Header& h, std::string_view payload) {
    auto arg = one_arg(payload);
    const std::string abs = arg ? Store::canonical(*arg, home_of(c.domid)) : std::string();
    if (abs.empty())
        return EINVAL;
    bool removed = false;
    if (int err = m_store.remove(c.domid, abs, removed); err != 0)
        return err;
    reply(c, h, ok_reply);
    if (removed)
        fire(abs, true);
    return 0;
}

int Server::do_watch(Connection& c, const Header& h, std::string_view payload) {
    std::vector<std::string_view> args;
    if (!strings_of(payload, args) || args.size() != 2)
        return EINVAL;
    const std::string path(args[0]);
    std::string abs;
    if (!path.empty() && path.front() == '@')
        abs = path; // special watches fire on XS_INTRODUCE / XS_RELEASE (fire_special)
    else
        abs = Store::canonical(path, home_of(c.domid));
    if (abs.empty())
        return EINVAL;
    for (const Watch& w : c.watches)
        if (w.path == path && w.token == args[1])
            return EEXIST;
    if (c.domid != 0 && c.watches.size() >= quota_watches_per_domain)
        return E2BIG;
    c.watches.push_back(Watch{path, abs, std::string(args[1])});
    reply(c, h, ok_reply);
    // xenstored fires a new watch once, right after the acknowledgement.
    event(c, path, args[1]);
    return 0;
}

int Server::do_unwatch(Connection& c, const Header& h, std::string_view payload) {
    std::vector<std::string_view> args;
    if (!strings_of(payload, args) || args.size() != 2)
        return EINVAL;
    for (auto it = c.watches.begin(); it != c.watches.end(); ++it) {
        if (it->path == args[0] && it->token == args[1]) {
            c.watches.erase(it);
            reply(c, h, ok_reply);
            return 0;
        }
    }
    return ENOENT;
}

} // namespace guardian::test::xenstored

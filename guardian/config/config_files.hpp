// Loading guardiand's configuration from the file system: the main file
// /etc/guardian/guardian.conf, then /etc/guardian/conf.d/*.conf in lexical
// (byte) order, later values winning. Both resolve under SystemRoot. The
// parsing itself is pure (guardian/core/config.hpp).
#pragma once

#include "guardian/core/config.hpp"
#include "guardian/util/paths.hpp"
#include "guardian/util/result.hpp"

#include <string>
#include <vector>

namespace guardian {

inline constexpr std::string_view k_config_file = "/etc/guardian/guardian.conf";
inline constexpr std::string_view k_config_dropin_dir = "/etc/guardian/conf.d";

// The texts to parse, in application order. A missing main file or drop-in
// directory is not an error (the defaults apply); an unreadable one is.
// Drop-ins must end in ".conf"; dotfiles and anything that is not a regular
// file (after following symlinks) are ignored.
[[nodiscard]] Result<std::vector<ConfigSource>> read_config_sources(const SystemRoot& root);

// read_config_sources + parse_config.
[[nodiscard]] Result<EffectiveConfig> load_config(const SystemRoot& root);

} // namespace guardian

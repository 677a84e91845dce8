// The one way guardian's programs end argument parsing with CLI11: --help and
// --version print and exit 0; bad usage prints CLI11's message and exits 2,
// the status every guardian command gives for "could not even start".
// Header-only so util itself does not depend on CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>

namespace guardian {

inline constexpr int k_exit_usage = 2;

// nullopt: parsed, carry on; a value: exit with it.
[[nodiscard]] inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        (void)app.exit(e);
        return k_exit_usage;
    }
    return std::nullopt;
}

} // namespace guardian

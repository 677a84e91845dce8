// The Prometheus text exposition format (version 0.0.4), which node_exporter's
// textfile collector reads: `# HELP` and `# TYPE` once per metric family, then
// its samples as `name{label="value",...} value`. Pure formatting; what the
// metrics mean is in guest_metrics.hpp.
//
// Label values may come from a guest (untrusted): escape_label_value() makes
// any byte string a valid, single-line, UTF-8 label value, so a guest cannot
// break the file or inject series.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace guardian::prometheus {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
    Labels labels;
    double value = 0;
};

struct MetricFamily {
    std::string name;
    std::string help;
    std::string type = "gauge"; // gauge | counter | untyped
    std::vector<Sample> samples;
};

// Longest label value kept, in bytes; a longer one is cut at a character
// boundary and ends in "...". Guardian's own values are far shorter.
inline constexpr std::size_t k_max_label_value = 256;

// `\` -> `\\`, `"` -> `\"`, newline -> `\n`; other control characters and
// bytes that are not valid UTF-8 become `?`.
[[nodiscard]] std::string escape_label_value(std::string_view raw);
// HELP text: `\` -> `\\`, newline -> `\n`.
[[nodiscard]] std::string escape_help(std::string_view raw);
// A sample value: integers without a fraction, NaN, +Inf, -Inf.
[[nodiscard]] std::string format_value(double v);

[[nodiscard]] bool is_valid_metric_name(std::string_view name);
[[nodiscard]] bool is_valid_label_name(std::string_view name);

// The exposition text for `families`, in the given order. Families without
// samples are left out; a series that repeats one already written (same name
// and escaped labels) is dropped. A family or label name that is not valid, or a family
// name used twice, is a broken invariant (std::logic_error): names are
// guardian's own constants, never guest data.
[[nodiscard]] std::string render(const std::vector<MetricFamily>& families);

// The StateSet pattern (OpenMetrics): one series per possible state, labelled
// `<family name>="<state>"`, value 1 for the current state and 0 for the others,
// so `family{family="x"} == 1` selects the guests in state x and a missing
// state cannot be mistaken for 0.
void add_state_set(MetricFamily& family, const Labels& labels,
                   const std::vector<std::string_view>& states, std::string_view current);

} // namespace guardian::prometheus

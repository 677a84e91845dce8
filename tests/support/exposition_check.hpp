// A small, strict reader of the Prometheus text exposition format (0.0.4) for
// tests: it rejects what Prometheus or node_exporter's textfile collector
// would reject (and a little more: every family must have HELP and TYPE before
// its samples), and returns the samples so tests can assert values.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace guardian::test {

struct Exposition {
    // Series key: `name{a="x",b="y"}` with labels sorted by name and values
    // unescaped, so tests can look series up without caring about order.
    std::map<std::string, double> samples;
    std::map<std::string, std::string> types; // family -> type
    std::vector<std::string> errors;          // empty when the text is valid

    [[nodiscard]] bool has(const std::string& key) const { return samples.contains(key); }
    [[nodiscard]] double at(const std::string& key) const {
        const auto it = samples.find(key);
        return it == samples.end() ? std::nan("") : it->second;
    }
    [[nodiscard]] std::size_t count_prefix(const std::string& prefix) const {
        std::size_t n = 0;
        for (const auto& [k, v] : samples)
            if (k.rfind(prefix, 0) == 0)
                ++n;
        return n;
    }
};

namespace exposition_detail {

inline bool name_char(char c, bool first, bool colon) {
    const bool alpha =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    return alpha || (!first && c >= '0' && c <= '9');
}

inline std::size_t read_name(const std::string& s, std::size_t i, bool colon) {
    std::size_t j = i;
    while (j < s.size() && name_char(s[j], j == i, colon))
        ++j;
    return j;
}

inline bool parse_value(const std::string& v) {
    if (v == "NaN" || v == "+Inf" || v == "-Inf")
        return true;
    if (v.empty())
        return false;
    char* end = nullptr;
    (void)std::strtod(v.c_str(), &end);
    return end == v.c_str() + v.size();
}

} // namespace exposition_detail

inline Exposition check_exposition(const std::string& text) {
    Exposition ex;
    std::set<std::string> helped;
    std::set<std::string> sampled;  // families with samples so far
    std::set<std::string> finished; // families whose samples block has ended
    std::string current;            // family of the last sample
    std::istringstream in(text);
    std::string line;
    int number = 0;
    auto err = [&](const std::string& what) {
        ex.errors.push_back("line " + std::to_string(number) + ": " + what + ": " + line);
    };
    if (!text.empty() && text.back() != '\n')
        ex.errors.push_back("text does not end in a newline");
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) {
            err("empty line");
            continue;
        }
        if (line[0] == '#') {
            std::istringstream ls(line);
            std::string hash, kind, name;
            ls >> hash >> kind >> name;
            if (kind != "HELP" && kind != "TYPE")
                continue; // a plain comment
            if (exposition_detail::read_name(name, 0, true) != name.size() || name.empty()) {
                err("bad metric name");
                continue;
            }
            if (sampled.contains(name))
                err(kind + " after samples of " + name);
            if (kind == "HELP" && !helped.insert(name).second)
                err("second HELP");
            if (kind == "TYPE") {
                std::string type;
                ls >> type;
                if (type != "gauge" && type != "counter" && type != "untyped" &&
                    type != "summary" && type != "histogram")
                    err("bad type");
                if (!ex.types.emplace(name, type).second)
                    err("second TYPE");
            }
            continue;
        }
        const std::size_t name_end = exposition_detail::read_name(line, 0, true);
        const std::string name = line.substr(0, name_end);
        if (name.empty()) {
            err("no metric name");
            continue;
        }
        if (!ex.types.contains(name) || !helped.contains(name))
            err("sample before its HELP and TYPE");
        sampled.insert(name);
        if (name != current) {
            if (finished.contains(name))
                err("samples of " + name + " are not contiguous");
            if (!current.empty())
                finished.insert(current);
            current = name;
        }
        std::size_t i = name_end;
        std::map<std::string, std::string> labels;
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                const std::size_t le = exposition_detail::read_name(line, i, false);
                const std::string lname = line.substr(i, le - i);
                if (lname.empty() || le + 1 >= line.size() || line[le] != '=' ||
                    line[le + 1] != '"') {
                    err("bad label");
                    break;
                }
                i = le + 2;
                std::string value;
                bool closed = false;
                while (i < line.size()) {
                    const char c = line[i++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        const char e = i < line.size() ? line[i++] : '\0';
                        if (e == 'n')
                            value += '\n';
                        else if (e == '\\' || e == '"')
                            value += e;
                        else
                            err("bad escape");
                    } else {
                        value += c;
                    }
                }
                if (!closed) {
                    err("unterminated label value");
                    break;
                }
                if (!labels.emplace(lname, value).second)
                    err("repeated label " + lname);
                if (i < line.size() && line[i] == ',')
                    ++i;
            }
            if (i >= line.size() || line[i] != '}') {
                err("labels not closed");
                continue;
            }
            ++i;
        }
        if (i >= line.size() || line[i] != ' ') {
            err("no space before the value");
            continue;
        }
        const std::string value = line.substr(i + 1);
        if (!exposition_detail::parse_value(value)) {
            err("bad value");
            continue;
        }
        std::string key = name;
        if (!labels.empty()) {
            key += '{';
            for (const auto& [k, v] : labels)
                key += (key.back() == '{' ? "" : ",") + k + "=\"" + v + "\"";
            key += '}';
        }
        const double d = value == "NaN"    ? std::nan("")
                         : value == "+Inf" ? HUGE_VAL
                         : value == "-Inf" ? -HUGE_VAL
                                           : std::strtod(value.c_str(), nullptr);
        if (!ex.samples.emplace(key, d).second)
            err("duplicate series");
    }
    return ex;
}

} // namespace guardian::test

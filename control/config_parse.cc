// Whole configuration files: statements line by line (config_statements.cc),
// then the cross-statement checks (config_validate.cc). The grammar itself is
// docs/configuration.md.
#include "config_parse.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

namespace ipshare {

std::string ConfigError::str() const {
    std::string out = file;
    if (line > 0) out += (file.empty() ? "line " : ":") + std::to_string(line);
    if (!out.empty()) out += ": ";
    return out + message;
}

std::optional<ConfigError> parse_config(std::string_view text, const std::string& filename, Config& out) {
    Config cfg;
    cfg.file = filename;
    int line = 0;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        const std::string_view statement = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line;
        if (auto e = apply_statement(cfg, statement, line)) return ConfigError{filename, line, std::move(*e)};
    }
    if (auto e = validate_config(cfg)) return e;
    out = std::move(cfg);
    return {};
}

std::optional<ConfigError> load_config_file(const std::string& path, Config& out) {
    struct Closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    const std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
    if (!f) return ConfigError{path, 0, std::string("cannot open file: ") + std::strerror(errno)};
    std::string text;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
    if (std::ferror(f.get())) return ConfigError{path, 0, std::string("cannot read file: ") + std::strerror(errno)};
    return parse_config(text, path, out);
}

}  // namespace ipshare

// The lexical layer of the configuration grammar (internal to ipshare_config):
// the words of a statement, strict decimal numbers, addresses, prefixes, port
// ranges and zones. Each parser returns an error message that quotes the
// offending word, or nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"

namespace ipshare::grammar {

// A message for the user, or nothing when all is well.
using Error = std::optional<std::string>;

// "'s'": how messages quote what the user wrote.
std::string quoted(std::string_view s);

// The index of `word` in `names` from `first` on, or names.size().
template <typename Name, size_t N>
size_t index_of(const std::array<Name, N>& names, std::string_view word, size_t first = 0) {
    size_t i = first;
    while (i < N && names[i] != word) ++i;
    return i;
}

// ---------------------------------------------------------------- numbers

enum class Num { ok, bad, leading_zero };

// Decimal digits only, no sign, no leading zero (except "0" itself). Values
// beyond 2^40 are clamped there, so every range check rejects them.
Num parse_decimal(std::string_view s, uint64_t& out);

// A number in lo..hi; `what` names the setting, e.g. "napt sessions".
Error parse_number_token(std::string_view what, std::string_view tok, uint32_t lo, uint32_t hi, uint32_t& out);

// The same range check on a value already parsed (a built config).
Error check_range(std::string_view what, uint32_t v, uint32_t lo, uint32_t hi);

// ---------------------------------------------------------------- addresses and ports

inline constexpr uint32_t kPortMax = 65535;

Error parse_prefix_token(std::string_view tok, Ipv4Prefix& out);  // "A.B.C.D/LEN"
Error parse_address_token(std::string_view tok, uint32_t& out);   // "A.B.C.D"

// `P` or `LO-HI`: one port or a range of ports, 0..65535. `what` names the
// ports in messages, e.g. "forward target port".
Error parse_ports_token(std::string_view what, std::string_view tok, PortRange& out);

// "P" for a single port, else "LO-HI".
std::string format_ports(const PortRange& r);

// "wan", "lan" or "dmz".
Error parse_zone(std::string_view tok, Zone& out);

// ---------------------------------------------------------------- words

// The words of one statement (blanks between, `#` starts a comment),
// consumed left to right by the statement handlers.
class Words {
public:
    explicit Words(std::string_view text);

    bool empty() const { return words_.empty(); }
    bool done() const { return pos_ >= words_.size(); }

    Error check_characters() const;

    // The words consumed so far, e.g. "port wan".
    std::string consumed() const;

    // The words not consumed yet, e.g. "tcp 8080" after "no forward".
    std::string remaining() const;

    // The next word; an error when there is none.
    Error take(std::string_view& out);

    // The next word, which must be `keyword`.
    Error expect(std::string_view keyword);

    // An error when a word is left.
    Error finish() const;

private:
    std::vector<std::string_view> words_;
    size_t pos_ = 0;
};

}  // namespace ipshare::grammar

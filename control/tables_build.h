// From configuration to the tables the workers read.
#pragma once

#include <memory>
#include <string>

#include "../dataplane/tables.h"
#include "config.h"

namespace ipshare {

Addresses addresses_of(const Config& cfg);

// Stable ids for forwards: a forward keeps its id across rebuilds while it is
// unchanged, and a changed or new one gets an id no live session carries, so
// the sessions of a changed or removed forward are recognised and ended.
class ForwardIds {
public:
    // Assigns ids for `forwards`, in order; forgets forwards no longer present.
    std::vector<uint16_t> assign(const std::vector<Forward>& forwards);

private:
    struct Known {
        Forward fwd;
        uint16_t id;
    };
    std::vector<Known> known_;
    uint16_t next_ = 1;
};

// Builds a complete Tables for `cfg` (which must be validated). nullptr and
// *err on failure (out of memory for the route table, too many rules).
std::unique_ptr<Tables> build_tables(const Config& cfg, uint64_t generation, ForwardIds& ids, std::string* err);

}  // namespace ipshare

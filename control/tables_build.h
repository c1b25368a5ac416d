// From configuration to the tables the workers read.
#pragma once

#include <memory>
#include <string>

#include "../dataplane/tables.h"
#include "config.h"

namespace ipshare {

Addresses addresses_of(const Config& cfg);

// Builds a complete Tables for `cfg` (which must be validated). nullptr and
// *err on failure (out of memory for the route table).
std::unique_ptr<Tables> build_tables(const Config& cfg, uint64_t generation, std::string* err);

}  // namespace ipshare

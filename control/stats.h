// Counter reports: the text printed at exit and on SIGUSR1.
#pragma once

#include <string>

#include "../dataplane/counters.h"

namespace ipshare {

// One block:
//   ipshare: counters
//   port wan rx N tx N dropped N        (wan, lan, dmz)
//   drop REASON N                       (every reason, zeros included)
//   ipshare: end counters
std::string format_counters(const CounterTotals& t);

}  // namespace ipshare

// Sizes as people and engines write them on command lines: "256M", "1g", "512kb", "1048576".
#pragma once

#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace ns {

// Bytes, with an optional k, m, g or t suffix (powers of 1024, either case) and an optional
// trailing b; "-1" (unlimited) is -1. Errors name FLAG: `--memory "12X": not a size (...)`.
Result<int64_t> parse_size(const std::string& flag, const std::string& v);

}  // namespace ns

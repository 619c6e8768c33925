// JSON from places an attacker may write: config.json and process.json (the caller, the image's
// maker), state.json (the state directory), what a VM's guest sends back. nlohmann's parser
// recurses once per level of nesting, so a value nested 200,000 deep overflows the stack and kills
// the runtime half-way through its work. Text nested deeper than kJsonMaxDepth is refused before
// it is parsed.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ns {

inline constexpr size_t kJsonMaxDepth = 512;

// Whether TEXT opens more than MAX arrays and objects inside each other (strings are skipped).
bool json_nested_too_deep(std::string_view text, size_t max = kJsonMaxDepth);

// nlohmann::json::parse(TEXT, nullptr, false): a discarded value for text that is not JSON, or
// that is nested too deep.
nlohmann::json parse_json(std::string_view text);

}  // namespace ns

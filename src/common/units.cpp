#include "common/units.hpp"

#include <cctype>
#include <charconv>

namespace ns {

Result<int64_t> parse_size(const std::string& flag, const std::string& v) {
  auto bad = [&] { return make_error(flag + " \"" + v + "\": not a size (use bytes or a k, m, g suffix, e.g. 256M)"); };
  if (v == "-1") return -1;
  std::string s = v;
  if (!s.empty() && (s.back() == 'b' || s.back() == 'B')) s.pop_back();
  int64_t mult = 1;
  if (!s.empty() && !std::isdigit(static_cast<unsigned char>(s.back()))) {
    switch (std::tolower(static_cast<unsigned char>(s.back()))) {
      case 'k': mult = 1LL << 10; break;
      case 'm': mult = 1LL << 20; break;
      case 'g': mult = 1LL << 30; break;
      case 't': mult = 1LL << 40; break;
      default: return bad();
    }
    s.pop_back();
  }
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || n < 0) return bad();
  if (n > INT64_MAX / mult) return make_error(flag + " \"" + v + "\": too large");
  return n * mult;
}

}  // namespace ns

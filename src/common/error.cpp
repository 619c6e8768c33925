#include "common/error.hpp"

#include <cctype>
#include <cstring>

namespace ns {

std::string errno_string(int err) {
  std::string s = std::strerror(err);
  if (!s.empty() && !(s.size() > 1 && std::isupper(static_cast<unsigned char>(s[1]))))
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string Error::to_string() const {
  std::string out;
  if (!op.empty()) {
    out = op;
    if (!path.empty()) out += " \"" + path + "\"";
  }
  if (!msg.empty()) {
    if (!out.empty()) out += ": ";
    out += msg;
  }
  if (err != 0) {
    if (!out.empty()) out += ": ";
    out += errno_string(err);
  }
  if (out.empty()) out = "unknown error";
  if (!stage.empty()) out += " (stage: " + stage + ")";
  return out;
}

}  // namespace ns

#include "nsrun/options.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <cmath>

#include "common/file.hpp"
#include "common/units.hpp"

namespace ns::nsrun {

Result<int64_t> parse_size(const std::string& flag, const std::string& v) {
  int64_t n = TRY(ns::parse_size(flag, v));
  if (n <= 0) return make_error(flag + " \"" + v + "\": not a size (use bytes or a k, m, g suffix, e.g. 256M)");
  return n;
}

Result<CpuLimit> parse_cpu(const std::string& v) {
  double cpus = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), cpus);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || !(cpus > 0) || cpus > 1024)
    return make_error("--cpu \"" + v + "\": not a number of CPUs (e.g. 0.5 for half a CPU, 2 for two)");
  CpuLimit c;
  c.quota_us = std::llround(cpus * static_cast<double>(c.period_us));
  if (c.quota_us < 1000) return make_error("--cpu \"" + v + "\": below the kernel's minimum of 0.01 CPU");
  return c;
}

namespace {

Result<uint16_t> port_number(const std::string& whole, const std::string& s) {
  unsigned n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || n == 0 || n > 65535)
    return make_error("--port \"" + whole + "\": \"" + s + "\" is not a port number (1-65535)");
  return static_cast<uint16_t>(n);
}

}  // namespace

Result<PortMapping> parse_port(const std::string& v) {
  PortMapping m;
  std::string ports = v;
  if (auto slash = v.find('/'); slash != std::string::npos) {
    m.protocol = v.substr(slash + 1);
    ports = v.substr(0, slash);
    if (m.protocol != "tcp" && m.protocol != "udp")
      return make_error("--port \"" + v + "\": protocol must be tcp or udp");
  }
  auto colon = ports.find(':');
  if (colon == std::string::npos) return make_error("--port \"" + v + "\": expected HOST:CONTAINER, e.g. 8080:80");
  m.host_port = TRY(port_number(v, ports.substr(0, colon)));
  m.container_port = TRY(port_number(v, ports.substr(colon + 1)));
  return m;
}

Result<Volume> parse_volume(const std::string& v, const std::string& cwd) {
  auto parts = split(v, ':');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
    return make_error("--volume \"" + v + "\": expected SRC:DST or SRC:DST:ro");
  Volume vol;
  vol.source = parts[0][0] == '/' ? parts[0] : join_path(cwd, parts[0]);
  vol.destination = parts[1];
  if (vol.destination[0] != '/') return make_error("--volume \"" + v + "\": the destination must be an absolute path");
  if (parts.size() == 3) {
    if (parts[2] == "ro") vol.readonly = true;
    else if (parts[2] != "rw") return make_error("--volume \"" + v + "\": the mode must be ro or rw");
  }
  return vol;
}

Result<NetMode> parse_net(const std::string& v) {
  if (v == "bridge") return NetMode::Bridge;
  if (v == "none") return NetMode::None;
  if (v == "host") return NetMode::Host;
  return make_error("--net \"" + v + "\": must be bridge, none or host");
}

Result<void> check_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') ok = false;
  if (!ok) return make_error("name \"" + name + "\": use letters, digits, '_', '.' and '-' (at most 63, starting with a letter or digit)");
  return {};
}

Result<void> check_subnet(const std::string& cidr) {
  auto slash = cidr.find('/');
  struct in_addr a{};
  unsigned prefix = 0;
  if (slash != std::string::npos) {
    std::string p = cidr.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec == std::errc() && end == p.data() + p.size() && prefix >= 8 && prefix <= 30 &&
        ::inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) == 1)
      return {};
  }
  return make_error("--subnet \"" + cidr + "\": expected an IPv4 network such as 10.88.77.0/24 (prefix 8-30)");
}

}  // namespace ns::nsrun

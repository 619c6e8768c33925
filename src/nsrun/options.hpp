// nsrun's flags, turned into checked values: sizes ("256M"), CPU shares of a core ("0.5"),
// port mappings ("8080:80/tcp"), volumes ("SRC:DST:ro"). Pure functions, unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace ns::nsrun {

enum class NetMode { Bridge, None, Host };

struct PortMapping {
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string protocol = "tcp";  // tcp or udp
};

struct Volume {
  std::string source;       // absolute, on the host
  std::string destination;  // absolute, in the container
  bool readonly = false;
};

struct CpuLimit {
  int64_t quota_us = 0;
  uint64_t period_us = 100000;
};

struct SandboxOptions {
  std::string rootfs;  // absolute
  std::string name;
  std::string hostname;
  std::optional<int64_t> memory;
  std::optional<CpuLimit> cpu;
  std::optional<int64_t> pids;
  std::vector<PortMapping> ports;
  std::vector<Volume> volumes;
  std::vector<std::string> env;  // K=V
  std::string workdir;
  std::string user;  // "uid[:gid]" or a name from the rootfs's /etc/passwd
  NetMode net = NetMode::Bridge;
  std::string bridge = "nsbr0";
  std::string subnet = "10.88.77.0/24";
  bool detach = false;
  bool read_only = false;
  bool tty = false;
  bool vm = false;                // VM mode: the sandbox in a microVM of its own
  std::string vm_accel = "auto";  // auto, kvm, tcg
  std::vector<std::string> args;
};

// A limit for nsrun: common parse_size ("256M", "1G", "512kb", bytes), and more than zero.
Result<int64_t> parse_size(const std::string& flag, const std::string& v);
// "0.5" -> 50000 us every 100000 us; "2" -> 200000.
Result<CpuLimit> parse_cpu(const std::string& v);
// "8080:80", "8080:80/udp"
Result<PortMapping> parse_port(const std::string& v);
// "SRC:DST", "SRC:DST:ro", "SRC:DST:rw"; SRC made absolute against CWD.
Result<Volume> parse_volume(const std::string& v, const std::string& cwd);
Result<NetMode> parse_net(const std::string& v);
// Names double as container ids and host interface suffixes: [A-Za-z0-9][A-Za-z0-9_.-]{0,62}.
Result<void> check_name(const std::string& name);
// "10.88.77.0/24" -> checked; an IPv4 network with a prefix of 8 to 30 bits.
Result<void> check_subnet(const std::string& cidr);

}  // namespace ns::nsrun

// Reading a JSON document field by field with type checks, for config.json and the files built
// like it (process.json, update --resources): every error names the dotted field path.
#pragma once

#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/log.hpp"

namespace ns::oci::detail {

using json = nlohmann::json;

inline std::unexpected<Error> field_error(const std::string& field, const std::string& problem) {
  return make_error("config.json: " + field + ": " + problem);
}

inline const char* type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "number";
    default: return "value";
  }
}

// A JSON object being read: knows its dotted field path, and which keys were consumed so the
// rest can be reported as unknown.
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  [[nodiscard]] std::string field(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  const json* get(const std::string& key) {
    seen_.insert(key);
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  Result<std::optional<std::string>> str(const std::string& key) {
    const json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) return field_error(field(key), std::string("expected string, got ") + type_name(*v));
    return v->get<std::string>();
  }
  Result<void> str_into(const std::string& key, std::string& out) {
    auto v = TRY(str(key));
    if (v) out = std::move(*v);
    return {};
  }
  Result<void> bool_into(const std::string& key, bool& out) {
    const json* v = get(key);
    if (!v) return {};
    if (!v->is_boolean()) return field_error(field(key), std::string("expected boolean, got ") + type_name(*v));
    out = v->get<bool>();
    return {};
  }
  template <class Int>
  Result<std::optional<Int>> integer(const std::string& key) {
    const json* v = get(key);
    if (!v) return std::nullopt;
    return to_int<Int>(*v, field(key));
  }
  template <class Int>
  Result<void> int_into(const std::string& key, Int& out) {
    auto v = TRY(integer<Int>(key));
    if (v) out = *v;
    return {};
  }
  Result<std::vector<std::string>> strings(const std::string& key) {
    const json* v = get(key);
    std::vector<std::string> out;
    if (!v) return out;
    if (!v->is_array()) return field_error(field(key), std::string("expected array of strings, got ") + type_name(*v));
    for (size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      if (!e.is_string())
        return field_error(field(key) + "[" + std::to_string(i) + "]",
                           std::string("expected string, got ") + type_name(e));
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  Result<std::map<std::string, std::string>> string_map(const std::string& key) {
    const json* v = get(key);
    std::map<std::string, std::string> out;
    if (!v) return out;
    if (!v->is_object()) return field_error(field(key), std::string("expected object, got ") + type_name(*v));
    for (auto& [k, e] : v->items()) {
      if (!e.is_string()) return field_error(field(key) + "." + k, std::string("expected string, got ") + type_name(e));
      out[k] = e.get<std::string>();
    }
    return out;
  }
  // A nested object; nullopt when absent.
  Result<std::optional<Obj>> object(const std::string& key) {
    const json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_object()) return field_error(field(key), std::string("expected object, got ") + type_name(*v));
    return Obj(*v, field(key));
  }
  // An array of objects; each element handed to fn(Obj&).
  template <class Fn>
  Result<void> each_object(const std::string& key, Fn&& fn) {
    const json* v = get(key);
    if (!v) return {};
    if (!v->is_array()) return field_error(field(key), std::string("expected array, got ") + type_name(*v));
    for (size_t i = 0; i < v->size(); ++i) {
      const json& e = (*v)[i];
      std::string p = field(key) + "[" + std::to_string(i) + "]";
      if (!e.is_object()) return field_error(p, std::string("expected object, got ") + type_name(e));
      Obj o(e, p);
      TRY(fn(o));
      o.warn_unknown();
    }
    return {};
  }
  // Raw JSON of a field owned by another module, with its expected type checked.
  Result<json> raw(const std::string& key, json::value_t want) {
    const json* v = get(key);
    if (!v) return json();
    if (v->type() != want) {
      json probe(want);
      return field_error(field(key), std::string("expected ") + type_name(probe) + ", got " + type_name(*v));
    }
    return *v;
  }

  // runc ignores fields it does not know; so do we, saying so with --debug.
  void warn_unknown() const {
    if (!log::debug_enabled()) return;
    for (auto& [k, v] : j_.items()) {
      (void)v;
      if (!seen_.contains(k)) log::debug("config.json: unknown field " + field(k) + " ignored");
    }
  }

  template <class Int>
  static Result<Int> to_int(const json& v, const std::string& where) {
    if (!v.is_number_integer() && !v.is_number_unsigned()) {
      if (v.is_number_float()) {
        double d = v.get<double>();
        // Out of long long's range the cast itself is undefined (fuzz-config found 1.9e62).
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return field_error(where, "value out of range");
        if (d != static_cast<double>(static_cast<long long>(d)))
          return field_error(where, "expected integer, got fraction");
        return to_int<Int>(json(static_cast<long long>(d)), where);
      }
      return field_error(where, std::string("expected integer, got ") + type_name(v));
    }
    if (v.is_number_unsigned()) {
      auto u = v.get<unsigned long long>();
      if (u > static_cast<unsigned long long>(std::numeric_limits<Int>::max()))
        return field_error(where, "value out of range");
      return static_cast<Int>(u);
    }
    auto s = v.get<long long>();
    if (s < static_cast<long long>(std::numeric_limits<Int>::min()) ||
        (s > 0 && static_cast<unsigned long long>(s) > static_cast<unsigned long long>(std::numeric_limits<Int>::max())))
      return field_error(where, "value out of range");
    return static_cast<Int>(s);
  }

 private:
  const json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

}  // namespace ns::oci::detail

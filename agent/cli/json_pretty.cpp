#include "agent/cli/json_pretty.hpp"

#include <boost/json/serialize.hpp>

namespace certagent::agent {

namespace {

void indent(std::string& out, int depth) { out.append(static_cast<std::size_t>(depth) * 2, ' '); }

void write(std::string& out, const boost::json::value& v, int depth);

void write_object(std::string& out, const boost::json::object& obj, int depth) {
  if (obj.empty()) {
    out += "{}";
    return;
  }
  out += "{\n";
  bool first = true;
  for (const auto& member : obj) {
    if (!first) out += ",\n";
    first = false;
    indent(out, depth + 1);
    out += boost::json::serialize(boost::json::value(member.key()));
    out += ": ";
    write(out, member.value(), depth + 1);
  }
  out += "\n";
  indent(out, depth);
  out += "}";
}

void write_array(std::string& out, const boost::json::array& arr, int depth) {
  if (arr.empty()) {
    out += "[]";
    return;
  }
  out += "[\n";
  for (std::size_t i = 0; i < arr.size(); ++i) {
    if (i > 0) out += ",\n";
    indent(out, depth + 1);
    write(out, arr[i], depth + 1);
  }
  out += "\n";
  indent(out, depth);
  out += "]";
}

void write(std::string& out, const boost::json::value& v, int depth) {
  if (v.is_object()) return write_object(out, v.get_object(), depth);
  if (v.is_array()) return write_array(out, v.get_array(), depth);
  out += boost::json::serialize(v);
}

}  // namespace

std::string pretty_json(const boost::json::value& value) {
  std::string out;
  write(out, value, 0);
  out += "\n";
  return out;
}

}  // namespace certagent::agent

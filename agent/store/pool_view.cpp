#include "agent/store/pool_view.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "agent/store/fsutil.hpp"
#include "common/rfc3339.hpp"

namespace certagent::agent {
namespace json = boost::json;

std::filesystem::path pool_view_path(const std::filesystem::path& state_dir) { return state_dir / "pool.json"; }

Result<void> write_pool_view(const std::filesystem::path& state_dir, const PoolView& view) {
  json::array certificates;
  for (const auto& c : view.certificates) {
    json::object bound;
    for (const auto& [member, thumbprint] : c.bound) bound[member] = thumbprint;
    certificates.emplace_back(json::object{{"id", c.id},
                                           {"leader", c.leader},
                                           {"thumbprint", c.thumbprint},
                                           {"ordered_by", c.ordered_by},
                                           {"bound", std::move(bound)}});
  }
  json::object o{{"format", 1},
                 {"pool", view.pool},
                 {"member", view.member},
                 {"as_of", format_rfc3339(view.as_of)},
                 {"certificates", std::move(certificates)}};
  return fsutil::write_file_atomic(pool_view_path(state_dir), json::serialize(o) + "\n", 0644);
}

Result<std::optional<PoolView>> read_pool_view(const std::filesystem::path& state_dir) {
  const auto file = pool_view_path(state_dir);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::optional<PoolView>{};
  auto text = fsutil::read_file(file);
  if (!text) return std::unexpected(text.error());
  try {
    const auto o = json::parse(*text).as_object();
    PoolView v;
    v.pool = o.at("pool").as_string();
    v.member = o.at("member").as_string();
    auto at = parse_rfc3339(o.at("as_of").as_string());
    if (!at) return std::unexpected(at.error().context(file.string()));
    v.as_of = *at;
    for (const auto& cv : o.at("certificates").as_array()) {
      const auto& c = cv.as_object();
      PoolViewCertificate pc;
      pc.id = c.at("id").as_string();
      pc.leader = c.at("leader").as_string();
      pc.thumbprint = c.at("thumbprint").as_string();
      pc.ordered_by = c.at("ordered_by").as_string();
      for (const auto& [member, thumbprint] : c.at("bound").as_object())
        pc.bound[std::string(member)] = std::string(thumbprint.as_string());
      v.certificates.push_back(std::move(pc));
    }
    return v;
  } catch (const std::exception& e) {
    return fail(ErrorKind::Storage, fmt::format("{} is not a pool view ({})", file.string(), e.what()));
  }
}

}  // namespace certagent::agent

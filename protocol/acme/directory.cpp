#include "protocol/acme/directory.hpp"

#include "protocol/acme/json.hpp"

namespace certagent::protocol {
namespace json = boost::json;
namespace {

constexpr size_t kMaxProfiles = 64;

Result<void> read_meta(const json::object& meta, Directory& dir) {
  dir.terms_of_service = string_member(meta, "termsOfService").value_or("");
  dir.website = string_member(meta, "website").value_or("");
  if (const auto* ear = meta.if_contains("externalAccountRequired"); ear != nullptr && ear->is_bool())
    dir.external_account_required = ear->as_bool();
  auto caa = string_array(meta, "caaIdentities", "directory meta", 64);
  if (!caa) return std::unexpected(caa.error());
  dir.caa_identities = std::move(*caa);
  if (const auto* profiles = meta.if_contains("profiles"); profiles != nullptr && profiles->is_object()) {
    if (profiles->as_object().size() > kMaxProfiles)
      return fail(ErrorKind::Protocol, "the directory offers more than " + std::to_string(kMaxProfiles) + " profiles");
    for (const auto& entry : profiles->as_object()) dir.profiles.emplace_back(entry.key());
  }
  return ok();
}

}  // namespace

Result<Directory> parse_directory(std::string_view body, std::string_view url) {
  auto obj = parse_json_object(body, "directory");
  if (!obj) return std::unexpected(std::move(obj.error()).context("reading the directory " + std::string(url)));
  Directory dir;
  dir.url = url;
  for (auto [key, field] : {std::pair{"newNonce", &dir.new_nonce}, std::pair{"newAccount", &dir.new_account},
                            std::pair{"newOrder", &dir.new_order}}) {
    auto value = required_string(*obj, key, "directory");
    if (value) value = url_from_ca(std::move(*value), std::string("directory's ") + key);
    if (!value) return std::unexpected(std::move(value.error()).context("reading the directory " + std::string(url)));
    *field = std::move(*value);
  }
  dir.new_authz = string_member(*obj, "newAuthz").value_or("");
  dir.revoke_cert = string_member(*obj, "revokeCert").value_or("");
  dir.key_change = string_member(*obj, "keyChange").value_or("");
  dir.renewal_info = string_member(*obj, "renewalInfo").value_or("");
  for (auto [key, field] : {std::pair{"newAuthz", &dir.new_authz}, std::pair{"revokeCert", &dir.revoke_cert},
                            std::pair{"keyChange", &dir.key_change}, std::pair{"renewalInfo", &dir.renewal_info}}) {
    if (field->empty()) continue;
    auto checked = url_from_ca(*field, std::string("directory's ") + key);
    if (!checked) return std::unexpected(std::move(checked.error()).context("reading the directory " + std::string(url)));
  }
  if (const auto* meta = obj->if_contains("meta"); meta != nullptr && meta->is_object()) {
    auto m = read_meta(meta->as_object(), dir);
    if (!m) return std::unexpected(std::move(m.error()).context("reading the directory " + std::string(url)));
  }
  return dir;
}

}  // namespace certagent::protocol

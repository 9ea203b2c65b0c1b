#include "agent/engine_backoff.hpp"

#include <boost/json.hpp>

#include "agent/fsutil.hpp"

namespace certagent::agent {
namespace {

Result<std::filesystem::path> backoff_file(const std::filesystem::path& state_dir, std::string_view id) {
  if (auto checked = check_purpose_name(id); !checked)  // same rule: a file name, nothing more
    return fail(ErrorKind::Invalid, "certificate id \"" + std::string(id) + "\" cannot name a file");
  return state_dir / "backoff" / (std::string(id) + ".json");
}

}  // namespace

Result<BackoffState> load_backoff(const std::filesystem::path& state_dir, std::string_view certificate_id) {
  auto file = backoff_file(state_dir, certificate_id);
  if (!file) return std::unexpected(file.error());
  auto kind = fsutil::entry_kind(*file);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == fsutil::EntryKind::Missing) return BackoffState{};
  auto text = fsutil::read_file(*file, 64 * 1024);
  if (!text) return std::unexpected(text.error());
  auto state = backoff_state_from_json(*text);
  if (!state) return std::unexpected(state.error().context("reading " + file->string()));
  return state;
}

Result<void> save_backoff(const Store& store, std::string_view certificate_id, const BackoffState& state) {
  auto file = backoff_file(store.dir(), certificate_id);
  if (!file) return std::unexpected(file.error());
  if (auto dir = fsutil::make_private_dir(file->parent_path()); !dir) return dir;
  return fsutil::write_file_atomic(*file, boost::json::serialize(to_json(state)) + "\n", 0644);
}

}  // namespace certagent::agent

#include "agent_fixtures.hpp"

#include <fstream>
#include <stdexcept>

namespace certagent::agent::testing {

namespace {

Store open_for_writing(const std::filesystem::path& state) {
  auto s = Store::open(state, OpenOptions{true, {}});
  if (!s) throw std::runtime_error("opening the test store: " + s.error().message);
  return std::move(*s);
}

}  // namespace

StoreFixture::StoreFixture() : s(open_for_writing(t.path() / "state")) {}

std::string StoreFixture::add(const std::vector<std::string>& names) {
  auto c = make_cert(names);
  NewVersion v{c.key_pem, c.leaf_pem, c.chain_pem, {}};
  v.meta.names = names;
  auto id = s.add_version(v);
  if (!id) throw std::runtime_error("adding a test version: " + id.error().message);
  return *id;
}

std::string StoreFixture::thumb(const std::string& id) const { return s.load_version(id)->meta.thumbprint; }

EngineFixture::EngineFixture() {
  std::ofstream(policy) << kUnreachableCaPolicy;
  store = std::make_shared<Store>(open_for_writing(dir.path() / "state"));
}

}  // namespace certagent::agent::testing

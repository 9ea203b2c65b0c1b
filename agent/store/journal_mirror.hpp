#pragma once
// A copy of the order journals elsewhere: a pool's leader mirrors the journal of the order it
// places for the pool into etcd (agent/engine/pool/pool.hpp), so that a member taking over after
// the leader died resumes that order instead of placing a second one. The mirror runs after each
// journal write (agent/store/order_journal.hpp) of the state directory it was set for, before the
// order goes on; its error fails that step, so the CA never acts on an order the mirror has not
// recorded.
#include <filesystem>
#include <functional>

#include "common/error.hpp"

namespace certagent::agent {

struct OrderJournal;

using JournalMirror = std::function<Result<void>(const OrderJournal&)>;

// Sets (or, with an empty mirror, removes) the mirror of `state_dir`'s journals.
void set_journal_mirror(const std::filesystem::path& state_dir, JournalMirror mirror);

}  // namespace certagent::agent

#pragma once
// Which lock protects what, in the types.
//
// Two locks guard a state directory: the process-level writer lock (StateLock,
// an flock on <state>/lock, held by a writable Store) keeps other processes
// out; the SharedStore's mutex serialises the worker threads of one engine
// pass (or of one command) that share a Store. A StoreWriter is the proof of
// holding the mutex: it is obtained only from SharedStore::lock(). Whatever writes
// the state directory while others may (the schedule, the ARI records, the CA's
// directory note, versions, bindings, accounts) takes a StoreWriter; readers
// take `const Store&`. The Store itself refuses every write while it does not
// hold the process's writer lock (Store::writable()).
//
// The order journal is the one writer that needs no StoreWriter: each
// certificate's journal is its own file, written by the one worker that works
// that certificate (agent/engine/order.cpp says why that is safe), so the
// fsyncs of different certificates overlap; it takes SharedStore::unlocked().
#include <mutex>

#include "agent/store/store.hpp"

namespace certagent::agent {

class StoreWriter {
 public:
  [[nodiscard]] Store& operator*() const { return *store_; }
  [[nodiscard]] Store* operator->() const { return store_; }

 private:
  friend class SharedStore;
  StoreWriter(Store& store, std::mutex& mutex) : store_(&store), lock_(mutex) {}
  Store* store_;
  std::unique_lock<std::mutex> lock_;
};

class SharedStore {
 public:
  explicit SharedStore(Store& store) : store_(store) {}
  SharedStore(const SharedStore&) = delete;
  SharedStore& operator=(const SharedStore&) = delete;

  // Waits for the other threads' writers to finish.
  [[nodiscard]] StoreWriter lock() { return StoreWriter(store_, mutex_); }
  // Reads that need no lock, and the order journal (see above).
  [[nodiscard]] const Store& unlocked() const { return store_; }

 private:
  Store& store_;
  std::mutex mutex_;
};

}  // namespace certagent::agent

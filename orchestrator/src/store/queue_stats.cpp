// The work queue's depth for /metrics: one aggregate over the (small, hot) work_items table.
#include "store/execution_store.hpp"

namespace switchyard::orchestrator::store {

QueueStats CountWork(pqxx::transaction_base& tx) {
  const pqxx::result result = tx.exec(
      "SELECT count(*) FILTER (WHERE lease_owner IS NULL AND due_at <= now()),"
      "       count(*) FILTER (WHERE lease_owner IS NOT NULL),"
      "       count(*) FILTER (WHERE lease_owner IS NULL AND due_at > now())"
      "  FROM work_items");
  QueueStats stats;
  stats.runnable = result[0][0].as<int64_t>();
  stats.leased = result[0][1].as<int64_t>();
  stats.pending = result[0][2].as<int64_t>();
  return stats;
}

}  // namespace switchyard::orchestrator::store

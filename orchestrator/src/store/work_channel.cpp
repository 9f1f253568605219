#include "store/work_channel.hpp"

#include <pqxx/pqxx>
#include <utility>

#include "store/execution_store.hpp"

namespace switchyard::orchestrator::store {
namespace {

class Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& connection, std::function<void()> wake)
      : pqxx::notification_receiver(connection, kWorkChannel), wake_(std::move(wake)) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { wake_(); }

 private:
  std::function<void()> wake_;
};

}  // namespace

struct WorkChannel::Impl {
  pqxx::connection connection;
  Receiver receiver;
  Impl(const std::string& url, std::function<void()> wake)
      : connection(url), receiver(connection, std::move(wake)) {}
};

WorkChannel::WorkChannel(const std::string& url, std::function<void()> wake)
    : impl_(std::make_unique<Impl>(url, std::move(wake))) {}
WorkChannel::~WorkChannel() = default;

void WorkChannel::Await(long microseconds) {
  impl_->connection.await_notification(0, microseconds);
}

void WorkChannel::Notify() {
  pqxx::nontransaction tx(impl_->connection);
  tx.exec(std::string("NOTIFY ") + kWorkChannel);
}

}  // namespace switchyard::orchestrator::store

// `switchyard serve`: runs the API server until SIGINT/SIGTERM, then stops it gracefully.
#include <pthread.h>
#include <signal.h>

#include <fstream>
#include <ostream>
#include <stdexcept>

#include "api/server.hpp"
#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {

int RunServeCommand(const ServeOptions& options, std::ostream& out, std::ostream& err) {
  // Block the stop signals before any thread starts, so every thread inherits the mask and the
  // signals wait for sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  api::ApiServerOptions server_options;
  server_options.bind_address = options.bind_address;
  server_options.port = options.port;
  server_options.credentials_file = options.credentials_file;
  server_options.functions_dir = options.functions_dir;
  server_options.data_dir = options.data_dir;
  server_options.read_timeout = std::chrono::milliseconds(options.read_timeout_ms);
  api::ApiServer server(server_options);
  try {
    server.Start(out);
  } catch (const std::exception& e) {
    err << "switchyard serve: " << e.what() << "\n";
    return 2;
  }
  if (!options.port_file.empty()) {
    std::ofstream file(options.port_file + ".tmp");
    file << server.port() << "\n";
    file.close();
    std::rename((options.port_file + ".tmp").c_str(), options.port_file.c_str());
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  out << "switchyard serve: " << (signal_number == SIGTERM ? "SIGTERM" : "SIGINT")
      << ": finishing requests in flight" << std::endl;
  server.Stop();
  out << "switchyard serve: stopped" << std::endl;
  return 0;
}

}  // namespace switchyard::orchestrator

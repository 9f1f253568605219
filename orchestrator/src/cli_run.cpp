#include <ostream>

#include "switchyard/orchestrator/cli.hpp"

namespace switchyard::orchestrator {

// Placeholder until the execution core lands (issue 3).
int RunRunCommand(const RunOptions& /*options*/, std::ostream& /*out*/, std::ostream& err) {
  err << "switchyard run: not available in this build\n";
  return 2;
}

}  // namespace switchyard::orchestrator

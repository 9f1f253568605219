#!/bin/sh
# Fails when a module reaches past the edges ARCHITECTURE.md allows:
#   asl/      pure: no I/O, clock, threads, logging, PostgreSQL, or other modules;
#   invoker/  no asl, no PostgreSQL.
root="${1:-.}"
status=0
check() {  # check DIR REGEX WHY
  hits=$(grep -rnE "$2" "$root/$1" --include='*.hpp' --include='*.cpp' --include='*.h' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "module_boundaries: $1 must not use $3:"
    echo "$hits"
    status=1
  fi
}
check asl '#include\s*[<"](pqxx|libpq|boost/|spdlog|fstream|iostream|thread|mutex|chrono|future|condition_variable|filesystem|cstdio|random|ctime|sys/|unistd|fcntl|switchyard/(invoker|orchestrator)/)' \
  "I/O, clocks, threads, randomness, logging, PostgreSQL or another module"
check asl '(std::chrono::(system|steady|high_resolution)_clock|std::this_thread|\bgetenv\(|\btime\(nullptr\)|\bprintf\(|std::cout|std::cerr|\brand\()' \
  "clocks, environment, standard streams or rand()"
check invoker '#include\s*[<"](pqxx|libpq|switchyard/(asl|orchestrator)/)' \
  "asl, the orchestrator or PostgreSQL"
# Only orchestrator/src/store/ issues SQL: nothing else in the orchestrator includes libpqxx or
# libpq itself (the engine uses the store's transaction handles through store/ headers).
hits=$(grep -rnE '#include\s*[<"](pqxx|libpq)' "$root/orchestrator" --include='*.hpp' --include='*.cpp' \
  2>/dev/null | grep -v "^$root/orchestrator/src/store/")
if [ -n "$hits" ]; then
  echo "module_boundaries: only orchestrator/src/store/ may include libpqxx or libpq:"
  echo "$hits"
  status=1
fi
if [ $status -eq 0 ]; then echo "module_boundaries: ok"; fi
exit $status

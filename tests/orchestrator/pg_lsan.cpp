// Linked into every pg test binary (switchyard_pgtest). libpqxx 6.4 leaks the PGresult of a
// statement that meets a broken connection (about 2 KiB per broken connection, inside
// libpqxx/libpq; the tests break connections on purpose), so LeakSanitizer is told to ignore
// results libpq allocated. Our code never calls libpq directly.
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() { return "leak:PQmakeEmptyPGresult\n"; }

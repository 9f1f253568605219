#include "store/embedded_postgres.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace switchyard::orchestrator::store {
namespace fs = std::filesystem;
namespace {

constexpr int kPort = 5432;
constexpr const char* kSuperuser = "switchyard";
// sockaddr_un::sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t kMaxSocketPath = 107;

std::runtime_error Error(const fs::path& data_dir, const std::string& message) {
  return std::runtime_error("embedded PostgreSQL in '" + data_dir.string() + "': " + message);
}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::string ReadSmallFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Tail(const std::string& text, std::size_t max_chars = 2000) {
  std::string trimmed = Trim(text);
  if (trimmed.size() <= max_chars) return trimmed;
  return "..." + trimmed.substr(trimmed.size() - max_chars);
}

bool HasServerBinaries(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "initdb", ec) && fs::exists(dir / "pg_ctl", ec) &&
         fs::exists(dir / "postgres", ec);
}

std::optional<fs::path> FindInPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const fs::path candidate = fs::path(dir) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

fs::path FindBinDir(const fs::path& data_dir, const fs::path& pgdata, const fs::path& configured) {
  if (!configured.empty()) {
    if (HasServerBinaries(configured)) return configured;
    throw Error(data_dir, "no PostgreSQL server binaries (initdb, pg_ctl, postgres) in '" +
                              configured.string() + "'");
  }
  if (const char* env = std::getenv("SWITCHYARD_PG_BINDIR"); env != nullptr && *env != '\0') {
    if (HasServerBinaries(env)) return env;
    throw Error(data_dir, std::string("no PostgreSQL server binaries (initdb, pg_ctl, postgres) in "
                                      "$SWITCHYARD_PG_BINDIR '") +
                              env + "'");
  }
  std::error_code ec;
  // An existing cluster wants the server of its own major version.
  if (fs::exists(pgdata / "PG_VERSION", ec)) {
    const fs::path own =
        fs::path("/usr/lib/postgresql") / Trim(ReadSmallFile(pgdata / "PG_VERSION")) / "bin";
    if (HasServerBinaries(own)) return own;
  }
  if (auto pg_config = FindInPath("pg_config")) {
    const ProcessResult result = RunProcess({pg_config->string(), "--bindir"});
    if (result.exit_code == 0 && HasServerBinaries(Trim(result.output))) {
      return Trim(result.output);
    }
  }
  std::optional<fs::path> best;
  int best_version = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    char* end = nullptr;
    const long version = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str() || *end != '\0') continue;
    if (version > best_version && HasServerBinaries(entry.path() / "bin")) {
      best_version = static_cast<int>(version);
      best = entry.path() / "bin";
    }
  }
  if (best) return *best;
  throw Error(data_dir,
              "PostgreSQL server binaries not found (looked for initdb, pg_ctl and postgres in "
              "`pg_config --bindir` and /usr/lib/postgresql/*/bin): install Debian's "
              "`postgresql` package, set $SWITCHYARD_PG_BINDIR, or give --database-url");
}

// An exclusive or shared flock on a file in the data directory, released on destruction.
class FileLock {
 public:
  FileLock(const fs::path& path, int operation, const fs::path& data_dir) {
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      throw Error(data_dir, "cannot open " + path.string() + ": " + std::strerror(errno));
    }
    while (flock(fd_, operation) != 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      close(fd_);
      fd_ = -1;
      if (error == EWOULDBLOCK) return;
      throw Error(data_dir, "cannot lock " + path.string() + ": " + std::strerror(error));
    }
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool Held() const { return fd_ >= 0; }
  void Unlock() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// A value in postgresql.conf syntax: single-quoted, quotes doubled.
std::string ConfQuote(const std::string& value) {
  std::string quoted = "'";
  for (const char c : value) {
    if (c == '\'') quoted += '\'';
    if (c == '\n' || c == '\r') continue;
    quoted += c;
  }
  return quoted + "'";
}

struct PostmasterPid {
  long pid = 0;
  int port = 0;
  std::string socket_dir;
};

std::optional<PostmasterPid> ReadPostmasterPid(const fs::path& pgdata) {
  std::ifstream in(pgdata / "postmaster.pid");
  if (!in) return std::nullopt;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.size() < 5) return std::nullopt;
  PostmasterPid info;
  info.pid = std::strtol(lines[0].c_str(), nullptr, 10);
  info.port = static_cast<int>(std::strtol(lines[3].c_str(), nullptr, 10));
  info.socket_dir = Trim(lines[4]);
  return info;
}

// kill(pid, 0) also succeeds for a zombie: a killed server whose parent has not reaped it yet
// (PID 1 of a container may take a while), which still counts as "running" for pg_ctl status.
bool IsZombie(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return false;
  const auto close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() &&
         stat[close_paren + 2] == 'Z';
}

bool DirectoryIsEmpty(const fs::path& dir) {
  std::error_code ec;
  return fs::is_empty(dir, ec) && !ec;
}

}  // namespace

std::string UriEncode(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return encoded;
}

fs::path DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    return fs::path(xdg) / "switchyard";
  }
  if (geteuid() == 0) return "/var/lib/switchyard";
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    return fs::path(home) / ".local/share/switchyard";
  }
  if (const passwd* entry = getpwuid(geteuid()); entry != nullptr && entry->pw_dir != nullptr) {
    return fs::path(entry->pw_dir) / ".local/share/switchyard";
  }
  throw std::runtime_error("no default data directory: set $XDG_DATA_HOME or give --data-dir");
}

EmbeddedPostgres::EmbeddedPostgres(EmbeddedPostgresOptions options)
    : options_(std::move(options)) {}

EmbeddedPostgres::~EmbeddedPostgres() {
  try {
    Stop();
  } catch (const std::exception& e) {
    spdlog::error("embedded postgres: stop failed data_dir={} error=\"{}\"",
                  options_.data_dir.string(), e.what());
  }
}

std::unique_ptr<EmbeddedPostgres> EmbeddedPostgres::Start(EmbeddedPostgresOptions options) {
  if (options.data_dir.empty()) {
    throw std::runtime_error("embedded PostgreSQL: no data directory given");
  }
  if (options.database.empty()) {
    throw std::runtime_error("embedded PostgreSQL: empty database name");
  }
  options.data_dir = fs::absolute(options.data_dir).lexically_normal();
  if (options.data_dir.string().size() > 1 && options.data_dir.string().back() == '/') {
    options.data_dir = options.data_dir.parent_path();
  }
  std::unique_ptr<EmbeddedPostgres> self(new EmbeddedPostgres(std::move(options)));
  self->StartLocked();
  return self;
}

ProcessResult EmbeddedPostgres::Run(const std::vector<std::string>& argv) const {
  return RunProcess(argv, run_as_);
}

void EmbeddedPostgres::StartLocked() {
  const fs::path& data_dir = options_.data_dir;
  pgdata_ = data_dir / "pgdata";
  const std::string socket_path = (data_dir / (".s.PGSQL." + std::to_string(kPort))).string();
  if (socket_path.size() > kMaxSocketPath) {
    throw Error(data_dir, "the path is too long for a unix socket (" + socket_path + " has " +
                              std::to_string(socket_path.size()) + " bytes, at most " +
                              std::to_string(kMaxSocketPath) + "): choose a shorter --data-dir");
  }
  std::error_code ec;
  const bool created = fs::create_directories(data_dir, ec);
  if (ec) throw Error(data_dir, "cannot create the directory: " + ec.message());
  struct stat dir_stat {};
  if (stat(data_dir.c_str(), &dir_stat) != 0) {
    throw Error(data_dir, std::string("cannot stat the directory: ") + std::strerror(errno));
  }

  if (geteuid() == 0) {
    // PostgreSQL refuses to run as root: the cluster belongs to an unprivileged user.
    std::string user_name;
    struct stat pg_stat {};
    if (const char* env = std::getenv("SWITCHYARD_PG_USER"); env != nullptr && *env != '\0') {
      user_name = env;
    } else if (stat(pgdata_.c_str(), &pg_stat) == 0 && pg_stat.st_uid != 0) {
      if (const passwd* entry = getpwuid(pg_stat.st_uid); entry != nullptr) {
        user_name = entry->pw_name;
      }
    } else if (dir_stat.st_uid != 0) {
      if (const passwd* entry = getpwuid(dir_stat.st_uid); entry != nullptr) {
        user_name = entry->pw_name;
      }
    }
    if (user_name.empty()) user_name = LookUpUser("postgres") ? "postgres" : "nobody";
    run_as_ = LookUpUser(user_name);
    if (!run_as_) throw Error(data_dir, "no user '" + user_name + "' to run the cluster as");
    if (dir_stat.st_uid != run_as_->uid) {
      if (!created && !DirectoryIsEmpty(data_dir)) {
        throw Error(data_dir, "the directory belongs to uid " + std::to_string(dir_stat.st_uid) +
                                  ", but the cluster runs as user '" + user_name +
                                  "' (PostgreSQL refuses root): use an empty or new --data-dir");
      }
      if (chown(data_dir.c_str(), run_as_->uid, run_as_->gid) != 0) {
        throw Error(data_dir, std::string("cannot give the directory to user '") + user_name +
                                  "': " + std::strerror(errno));
      }
    }
    chmod(data_dir.c_str(), 0700);
    if (!AccessibleAs(data_dir.string(), *run_as_)) {
      throw Error(data_dir, "user '" + user_name +
                                "', which runs the cluster (PostgreSQL refuses root), cannot "
                                "enter this directory (a parent directory denies it): choose a "
                                "--data-dir it can reach, e.g. /var/lib/switchyard");
    }
  } else {
    if (dir_stat.st_uid != geteuid()) {
      throw Error(data_dir, "the directory belongs to uid " + std::to_string(dir_stat.st_uid) +
                                ", not to this user (uid " + std::to_string(geteuid()) + ")");
    }
    if (created) chmod(data_dir.c_str(), 0700);
  }

  FileLock launch(data_dir / "launch.lock", LOCK_EX, data_dir);
  bin_dir_ = FindBinDir(data_dir, pgdata_, options_.bin_dir);
  const std::string pg_ctl = (bin_dir_ / "pg_ctl").string();
  const std::string log_file = (data_dir / "postgres.log").string();

  if (!fs::exists(pgdata_ / "PG_VERSION", ec)) {
    if (fs::exists(pgdata_, ec) && !DirectoryIsEmpty(pgdata_)) {
      throw Error(data_dir, pgdata_.string() + " exists but is not a PostgreSQL cluster");
    }
    spdlog::info("embedded postgres: creating cluster data_dir={} bin_dir={}{}", data_dir.string(),
                 bin_dir_.string(), run_as_ ? " user=" + run_as_->name : "");
    const ProcessResult init = Run({(bin_dir_ / "initdb").string(), "-D", pgdata_.string(), "-U",
                                    kSuperuser, "-A", "trust", "-E", "UTF8", "--locale=C"});
    if (init.exit_code != 0) {
      fs::remove_all(pgdata_, ec);
      throw Error(data_dir, "initdb failed:\n" + Tail(init.output));
    }
    std::ofstream conf(pgdata_ / "postgresql.conf", std::ios::app);
    conf << "\n# Switchyard's launcher rewrites this file at each start.\n"
            "include_if_exists = 'switchyard.conf'\n";
    if (!conf.flush()) throw Error(data_dir, "cannot append to postgresql.conf");
  }

  ProcessResult status = Run({pg_ctl, "status", "-D", pgdata_.string()});
  // A server killed a moment ago may linger as a zombie: wait for it to be reaped.
  for (int waited = 0; status.exit_code == 0 && waited < 300; ++waited) {
    const auto pid = ReadPostmasterPid(pgdata_);
    if (!pid || !IsZombie(pid->pid)) break;
    if (waited == 0) {
      spdlog::info("embedded postgres: waiting for dead server pid={} to be reaped", pid->pid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = Run({pg_ctl, "status", "-D", pgdata_.string()});
  }
  if (status.exit_code == 0) {
    const auto pid = ReadPostmasterPid(pgdata_);
    if (!pid || fs::path(pid->socket_dir) != data_dir) {
      throw Error(data_dir, "a PostgreSQL server" +
                                (pid ? " (pid " + std::to_string(pid->pid) + ")" : std::string()) +
                                " runs on this cluster but was not started by switchyard (its "
                                "socket is " +
                                (pid ? "in '" + pid->socket_dir + "'" : std::string("unknown")) +
                                "); stop it first or give --database-url");
    }
    if (!options_.reuse_running) {
      throw Error(data_dir, "the cluster is already running (pid " + std::to_string(pid->pid) +
                                "), owned by another process");
    }
    port_ = pid->port;
    spdlog::info("embedded postgres: reusing running cluster data_dir={} pid={}", data_dir.string(),
                 pid->pid);
  } else if (status.exit_code == 3) {
    // Not running (a stale postmaster.pid from a killed server is handled by the server itself).
    std::ostringstream settings;
    settings << "# Written by switchyard's embedded PostgreSQL launcher at each start.\n"
             << "listen_addresses = ''\n"
             << "unix_socket_directories = " << ConfQuote(data_dir.string()) << "\n"
             << "unix_socket_permissions = 0700\n"
             << "port = " << kPort << "\n"
             << "max_connections = 200\n";
    for (const auto& [name, value] : options_.settings) {
      settings << name << " = " << ConfQuote(value) << "\n";
    }
    const fs::path conf = pgdata_ / "switchyard.conf";
    const fs::path temp = pgdata_ / "switchyard.conf.tmp";
    {
      std::ofstream out(temp, std::ios::trunc);
      out << settings.str();
      if (!out.flush()) throw Error(data_dir, "cannot write " + temp.string());
    }
    if (run_as_) {
      if (chown(temp.c_str(), run_as_->uid, run_as_->gid) != 0) {
        throw Error(data_dir, "cannot chown " + temp.string() + ": " + std::strerror(errno));
      }
    }
    fs::rename(temp, conf);
    if (fs::file_size(log_file, ec) > (16u << 20)) fs::rename(log_file, log_file + ".1", ec);
    spdlog::info("embedded postgres: starting cluster data_dir={}", data_dir.string());
    // A server that was killed may leave processes holding its shared memory for a moment
    // ("pre-existing shared memory block is still in use"): try again a few times.
    ProcessResult start;
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::seconds(attempt));
      start =
          Run({pg_ctl, "start", "-D", pgdata_.string(), "-w", "-t", "120", "-s", "-l", log_file});
      if (start.exit_code == 0) break;
      spdlog::warn("embedded postgres: start failed, retrying data_dir={} attempt={}",
                   data_dir.string(), attempt + 1);
    }
    if (start.exit_code != 0) {
      throw Error(data_dir, "pg_ctl start failed:\n" + Tail(start.output) + "\n" +
                                Tail(ReadSmallFile(log_file)));
    }
    started_cluster_ = true;
    port_ = kPort;
  } else {
    throw Error(data_dir, "pg_ctl status failed:\n" + Tail(status.output));
  }

  FileLock users(data_dir / "users.lock", LOCK_SH, data_dir);
  {
    std::lock_guard lock(mu_);
    users_fd_ = users.Release();
  }
  launch.Unlock();
  try {
    CreateDatabase(options_.database);
  } catch (...) {
    try {
      Stop();
    } catch (const std::exception& e) {
      spdlog::error("embedded postgres: stop failed data_dir={} error=\"{}\"", data_dir.string(),
                    e.what());
    }
    throw;
  }
}

std::string EmbeddedPostgres::connection_url() const { return connection_url(options_.database); }

std::string EmbeddedPostgres::connection_url(const std::string& database) const {
  return "postgresql:///" + UriEncode(database) + "?host=" + UriEncode(options_.data_dir.string()) +
         "&port=" + std::to_string(port_) + "&user=" + kSuperuser;
}

void EmbeddedPostgres::CreateDatabase(const std::string& database) const {
  if (database == "postgres") return;
  // The server may still be starting (a reused cluster): retry connecting for a while.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int attempt = 0;; ++attempt) {
    try {
      pqxx::connection conn(connection_url("postgres"));
      pqxx::nontransaction tx(conn);
      const pqxx::result found =
          tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", database);
      if (!found.empty()) return;
      try {
        tx.exec("CREATE DATABASE " + tx.quote_name(database));
        spdlog::info("embedded postgres: created database data_dir={} database={}",
                     options_.data_dir.string(), database);
      } catch (const pqxx::sql_error& e) {
        // Another process created it at the same moment.
        if (e.sqlstate() != "42P04" && e.sqlstate() != "23505") throw;
      }
      return;
    } catch (const pqxx::broken_connection& e) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw Error(options_.data_dir, std::string("cannot connect to the cluster: ") + e.what());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50 * (attempt + 1), 500)));
    }
  }
}

void EmbeddedPostgres::Stop() {
  std::lock_guard lock(mu_);
  if (users_fd_ < 0) return;
  const fs::path& data_dir = options_.data_dir;
  FileLock launch(data_dir / "launch.lock", LOCK_EX, data_dir);
  close(users_fd_);
  users_fd_ = -1;
  if (!options_.stop_when_last) return;
  FileLock users(data_dir / "users.lock", LOCK_EX | LOCK_NB, data_dir);
  if (!users.Held()) {
    spdlog::info("embedded postgres: leaving cluster running for its other users data_dir={}",
                 data_dir.string());
    return;
  }
  const std::string pg_ctl = (bin_dir_ / "pg_ctl").string();
  if (Run({pg_ctl, "status", "-D", pgdata_.string()}).exit_code != 0) return;
  spdlog::info("embedded postgres: stopping cluster data_dir={}", data_dir.string());
  const ProcessResult stop =
      Run({pg_ctl, "stop", "-D", pgdata_.string(), "-m", "fast", "-w", "-t", "120", "-s"});
  if (stop.exit_code != 0) throw Error(data_dir, "pg_ctl stop failed:\n" + Tail(stop.output));
}

void EmbeddedPostgres::Restart(bool immediate) {
  std::lock_guard lock(mu_);
  const fs::path& data_dir = options_.data_dir;
  if (users_fd_ < 0) throw Error(data_dir, "restart after Stop");
  FileLock launch(data_dir / "launch.lock", LOCK_EX, data_dir);
  spdlog::info("embedded postgres: restarting cluster data_dir={} mode={}", data_dir.string(),
               immediate ? "immediate" : "fast");
  // -l: without it the new server would inherit pg_ctl's output pipe and keep it open.
  const ProcessResult restart =
      Run({(bin_dir_ / "pg_ctl").string(), "restart", "-D", pgdata_.string(), "-m",
           immediate ? "immediate" : "fast", "-w", "-t", "120", "-s", "-l",
           (data_dir / "postgres.log").string()});
  if (restart.exit_code != 0) {
    throw Error(data_dir, "pg_ctl restart failed:\n" + Tail(restart.output));
  }
}

}  // namespace switchyard::orchestrator::store

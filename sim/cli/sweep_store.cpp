#include "sim/cli/sweep_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bc {
namespace {

std::string quote_ident(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// Shortest text that parses back to the same double.
std::string exact(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      throw std::runtime_error("results store: " + std::string(sqlite3_errmsg(db)) + " in " + sql);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  sqlite3_stmt* get() { return s_; }
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE)
      throw std::runtime_error("results store: " + std::string(sqlite3_errmsg(db_)));
    return false;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

nlohmann::ordered_json column_value(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(s, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(s, i);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)));
    default:
      return nullptr;
  }
}

}  // namespace

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

SweepStore::SweepStore(const std::string& path, bool read_only) : path_(path) {
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open results store " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  if (!read_only) {
    // WAL: a commit is one append to the log, readers never see half a
    // transaction, and a killed writer leaves the last committed state.
    // synchronous=NORMAL is durable against a killed process (not against a
    // power cut, where the last commits may be lost and simply re-run).
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)");
    exec("CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY, point TEXT UNIQUE NOT NULL)");
    exec("CREATE TABLE IF NOT EXISTS pareto (fidelity TEXT, objectives TEXT, result_id INTEGER)");
  }
  cols_ = columns();
}

SweepStore::~SweepStore() { sqlite3_close(db_); }

void SweepStore::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "?";
    sqlite3_free(err);
    throw std::runtime_error("results store " + path_ + ": " + m);
  }
}

std::vector<std::string> SweepStore::columns() {
  std::vector<std::string> c;
  Stmt s(db_, "SELECT name FROM pragma_table_info('results') ORDER BY cid");
  while (s.step()) c.push_back(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
  return c;
}

std::string SweepStore::meta(const std::string& key) {
  {
    Stmt t(db_, "SELECT count(*) FROM sqlite_master WHERE name='meta'");
    t.step();
    if (sqlite3_column_int(t.get(), 0) == 0) return "";
  }
  Stmt s(db_, "SELECT value FROM meta WHERE key = ?");
  sqlite3_bind_text(s.get(), 1, key.c_str(), -1, SQLITE_TRANSIENT);
  if (!s.step()) return "";
  return reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
}

void SweepStore::set_meta(const std::string& key, const std::string& value) {
  Stmt s(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
  sqlite3_bind_text(s.get(), 1, key.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s.get(), 2, value.c_str(), -1, SQLITE_TRANSIENT);
  s.step();
}

std::set<std::string> SweepStore::done_points() {
  std::set<std::string> out;
  Stmt s(db_, "SELECT point FROM results");
  while (s.step()) out.insert(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
  return out;
}

void SweepStore::insert(const std::vector<nlohmann::ordered_json>& rows) {
  if (rows.empty()) return;
  exec("BEGIN IMMEDIATE");
  try {
    // Under the write lock: another sweep on this store may have added columns.
    cols_ = columns();
    for (const auto& row : rows) {
      std::string names, marks;
      std::vector<const nlohmann::ordered_json*> vals;
      for (auto it = row.begin(); it != row.end(); ++it) {
        if (std::find(cols_.begin(), cols_.end(), it.key()) == cols_.end()) {
          // No declared type (no affinity): a value is stored as given, so a
          // parameter column may hold numbers and, where a point failed, text.
          exec("ALTER TABLE results ADD COLUMN " + quote_ident(it.key()));
          cols_.push_back(it.key());
        }
        names += (names.empty() ? "" : ", ") + quote_ident(it.key());
        marks += marks.empty() ? "?" : ", ?";
        vals.push_back(&*it);
      }
      // OR IGNORE: two sweeps started on one store run the same points; the
      // UNIQUE point keeps the first row of each and drops the other.
      Stmt s(db_, "INSERT OR IGNORE INTO results (" + names + ") VALUES (" + marks + ")");
      for (size_t i = 0; i < vals.size(); ++i) {
        const auto& v = *vals[i];
        const int k = static_cast<int>(i) + 1;
        if (v.is_null())
          sqlite3_bind_null(s.get(), k);
        else if (v.is_boolean())
          sqlite3_bind_int(s.get(), k, v.get<bool>() ? 1 : 0);
        else if (v.is_number_integer())
          sqlite3_bind_int64(s.get(), k, v.get<int64_t>());
        else if (v.is_number())
          sqlite3_bind_double(s.get(), k, v.get<double>());
        else if (v.is_string())
          sqlite3_bind_text(s.get(), k, v.get_ref<const std::string&>().c_str(), -1,
                            SQLITE_TRANSIENT);
        else
          sqlite3_bind_text(s.get(), k, v.dump().c_str(), -1, SQLITE_TRANSIENT);
      }
      s.step();
    }
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    cols_ = columns();  // an ALTER rolled back with the rest
    throw;
  }
}

std::vector<nlohmann::ordered_json> SweepStore::rows(const std::string& where) {
  std::vector<nlohmann::ordered_json> out;
  // Result columns are added with the first result stored: a store with none
  // yet has no `status` (or any metric) for `where` to name, and no rows.
  if (std::find(cols_.begin(), cols_.end(), "status") == cols_.end()) return out;
  Stmt s(db_, "SELECT * FROM results" + (where.empty() ? "" : " WHERE " + where) + " ORDER BY id");
  const int n = sqlite3_column_count(s.get());
  while (s.step()) {
    nlohmann::ordered_json r = nlohmann::ordered_json::object();
    for (int i = 0; i < n; ++i) r[sqlite3_column_name(s.get(), i)] = column_value(s.get(), i);
    out.push_back(std::move(r));
  }
  return out;
}

nlohmann::ordered_json SweepStore::find(const std::string& point) {
  Stmt s(db_, "SELECT * FROM results WHERE point = ?");
  sqlite3_bind_text(s.get(), 1, point.c_str(), -1, SQLITE_TRANSIENT);
  if (!s.step()) return nullptr;
  nlohmann::ordered_json r = nlohmann::ordered_json::object();
  for (int i = 0; i < sqlite3_column_count(s.get()); ++i)
    r[sqlite3_column_name(s.get(), i)] = column_value(s.get(), i);
  return r;
}

std::string SweepStore::csv(const std::vector<std::string>& order) {
  Stmt s(db_, "SELECT * FROM results ORDER BY id");
  const int n = sqlite3_column_count(s.get());
  std::string head;
  int point_col = -1;
  for (int i = 0; i < n; ++i) {
    if (i) head += ",";
    head += csv_cell(sqlite3_column_name(s.get(), i));
    if (std::string(sqlite3_column_name(s.get(), i)) == "point") point_col = i;
  }
  head += "\n";
  std::unordered_map<std::string, size_t> rank;
  for (size_t k = 0; k < order.size(); ++k) rank.emplace(order[k], k);
  std::vector<std::pair<size_t, std::string>> rows;  // (rank, line), read in id order
  while (s.step()) {
    std::string out;
    size_t r = order.size();
    if (point_col >= 0 && sqlite3_column_type(s.get(), point_col) == SQLITE_TEXT) {
      auto it = rank.find(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), point_col)));
      if (it != rank.end()) r = it->second;
    }
    for (int i = 0; i < n; ++i) {
      if (i) out += ",";
      switch (sqlite3_column_type(s.get(), i)) {
        case SQLITE_INTEGER:
          out += std::to_string(sqlite3_column_int64(s.get(), i));
          break;
        case SQLITE_FLOAT:
          out += exact(sqlite3_column_double(s.get(), i));
          break;
        case SQLITE_TEXT:
          out += csv_cell(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), i)));
          break;
        default:
          break;  // NULL: an empty cell
      }
    }
    out += "\n";
    rows.emplace_back(r, std::move(out));
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [r, line] : rows) head += line;
  return head;
}

void SweepStore::set_pareto(const std::string& fidelity, const std::string& objectives,
                            const std::vector<int64_t>& result_ids) {
  exec("BEGIN IMMEDIATE");
  {
    Stmt d(db_, "DELETE FROM pareto WHERE fidelity = ? AND objectives = ?");
    sqlite3_bind_text(d.get(), 1, fidelity.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(d.get(), 2, objectives.c_str(), -1, SQLITE_TRANSIENT);
    d.step();
    for (int64_t id : result_ids) {
      Stmt s(db_, "INSERT INTO pareto (fidelity, objectives, result_id) VALUES (?, ?, ?)");
      sqlite3_bind_text(s.get(), 1, fidelity.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(s.get(), 2, objectives.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(s.get(), 3, id);
      s.step();
    }
  }
  exec("COMMIT");
}

}  // namespace bc

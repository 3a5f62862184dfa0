// A sweep's results store: one SQLite file (the Debian libsqlite3) holding one
// tidy table, `results`, with a row per (design point, workload, fidelity) and
// a column per varied parameter and per metric; `meta` (the spec it belongs
// to) and `pareto` (the fronts). The journal is a write-ahead log and every
// batch of rows is one transaction, so a sweep killed at any moment (even
// SIGKILL) leaves only whole rows, and `point` is UNIQUE, so a restarted sweep
// can never store a point twice.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

struct sqlite3;

namespace bc {

class SweepStore {
 public:
  // Opens or creates the store. read_only: for checks that must leave it untouched.
  explicit SweepStore(const std::string& path, bool read_only = false);
  ~SweepStore();
  SweepStore(const SweepStore&) = delete;
  SweepStore& operator=(const SweepStore&) = delete;

  // The meta table; "" when the key is absent (or the store is new).
  std::string meta(const std::string& key);
  void set_meta(const std::string& key, const std::string& value);

  // Point keys already stored.
  std::set<std::string> done_points();
  // Inserts rows (JSON objects: column -> number, text, bool or null) in one
  // transaction, adding the columns the table lacks (in the order first seen).
  void insert(const std::vector<nlohmann::ordered_json>& rows);

  // Every row, in insertion order, optionally filtered by an SQL condition.
  std::vector<nlohmann::ordered_json> rows(const std::string& where = "");
  std::vector<std::string> columns();
  // The row of a point key (null when absent).
  nlohmann::ordered_json find(const std::string& point);
  // The whole results table as CSV (header = columns; numbers round-trip exactly).
  // The results as CSV, rows in the order of `order` (point keys; rows whose
  // key it does not hold follow, by id), so a sweep's file does not depend on
  // which worker finished first.
  std::string csv(const std::vector<std::string>& order = {});
  // Replaces the stored fronts of one fidelity.
  void set_pareto(const std::string& fidelity, const std::string& objectives,
                  const std::vector<int64_t>& result_ids);

 private:
  void exec(const std::string& sql);
  sqlite3* db_ = nullptr;
  std::string path_;
  std::vector<std::string> cols_;  // columns of `results`, in table order
};

// CSV cell quoting (RFC 4180).
std::string csv_cell(const std::string& s);

}  // namespace bc

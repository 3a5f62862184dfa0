// Input errors: everything a user can get wrong (config, trace, command line)
// ends in an InputError, which the command line prints and turns into exit code 2.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace bc {

// Where a value came from: a file position (1-based) or a command-line argument.
struct SourceLoc {
  std::string file;  // path as given, or "<command line>"
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based; 0 = unknown
  std::string str() const;
};

struct Diagnostic {
  SourceLoc loc;
  std::string key;      // dotted key path, may be empty
  std::string message;  // what was wrong and what was expected
  std::string hint;     // suggestion, may be empty
  std::string str() const;
};

// Thrown for bad input; holds every problem found, so a file's errors are
// reported at once.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diags);
  explicit InputError(Diagnostic d);
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }

 private:
  std::vector<Diagnostic> diags_;
};

// Collects diagnostics, throws them together.
class DiagnosticSink {
 public:
  void add(Diagnostic d) { diags_.push_back(std::move(d)); }
  bool empty() const { return diags_.empty(); }
  size_t size() const { return diags_.size(); }
  void throw_if_any() const;

 private:
  std::vector<Diagnostic> diags_;
};

// Throws an InputError with one diagnostic.
[[noreturn]] void fail_input(const SourceLoc& loc, const std::string& key,
                             const std::string& message, const std::string& hint = "");

// Closest candidate by edit distance, or "" if none is close enough to help.
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace bc

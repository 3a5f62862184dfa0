// Runs a function in a child process and returns its JSON result. SystemC can
// elaborate and simulate only once per process, so anything that simulates
// several design points in one program (tests, sweeps) runs each in a child.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

namespace bc {

// The child's InputError comes back as {"error": text, "exit_code": 2}; other
// exceptions, and a child that dies (a signal) or answers nothing, as
// exit_code 1 with the reason.
nlohmann::json run_isolated(const std::function<nlohmann::json()>& fn);

// The fork both run_isolated and the sweep's workers use: a child that runs
// `body` with the write end of a pipe, then exits 0 without static destructors
// (the SystemC kernel state belongs to the child); the parent gets the child's
// pid and the read end.
struct Child {
  int pid = 0;
  int fd = -1;
};
Child spawn_child(const std::function<void(int write_fd)>& body);

// run_isolated in two halves, so the caller can work while the child runs:
// start_isolated forks the child; finish_isolated waits for its result (the
// child's pipe write blocks until it is read, so finish every child started).
Child start_isolated(const std::function<nlohmann::json()>& fn);
nlohmann::json finish_isolated(const Child& child);

// A child's error in the parent: its InputError again (the same diagnostics,
// so exit code 2 and the same message), anything else a runtime_error whose
// text starts with `context`. Returns if the child succeeded.
void rethrow_isolated_error(const nlohmann::json& r, const std::string& context);

// Writes all of `s` (a pipe write may be partial); stops if the reader is gone.
void write_all(int fd, const std::string& s);

}  // namespace bc

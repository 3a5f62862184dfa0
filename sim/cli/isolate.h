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

}  // namespace bc

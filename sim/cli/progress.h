// Progress of a long command (a sweep's runs, validate's rows) on stderr: a
// bar redrawn in place on a terminal (done/total, rate, time left); on
// anything else (a log file, CI) a plain line every 10 % or 10 s, so logs stay
// readable.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace bc {

class Progress {
 public:
  // `what` names the items ("runs"), `who` the command in plain lines ("sweep").
  Progress(size_t total, std::string what, std::string who);
  // `done` items finished; `final` prints the last line (and ends the bar's line).
  void update(size_t done, bool final = false);

 private:
  using Clock = std::chrono::steady_clock;
  size_t total_;
  std::string what_, who_;
  bool tty_;
  Clock::time_point t0_, last_;
  size_t last_decile_ = 0;
};

}  // namespace bc

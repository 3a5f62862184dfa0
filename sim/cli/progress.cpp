#include "sim/cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace bc {
namespace {

std::string fmt_time(double s) {
  std::ostringstream os;
  if (s < 60)
    os << std::fixed << std::setprecision(s < 10 ? 1 : 0) << s << " s";
  else if (s < 3600)
    os << static_cast<int>(s / 60) << " min " << static_cast<int>(s) % 60 << " s";
  else
    os << std::fixed << std::setprecision(1) << s / 3600 << " h";
  return os.str();
}

}  // namespace

Progress::Progress(size_t total, std::string what, std::string who)
    : total_(total),
      what_(std::move(what)),
      who_(std::move(who)),
      tty_(isatty(STDERR_FILENO)),
      t0_(Clock::now()),
      last_(t0_) {}

void Progress::update(size_t done, bool final) {
  const double el = std::chrono::duration<double>(Clock::now() - t0_).count();
  const double rate = el > 0 ? static_cast<double>(done) / el : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
  std::ostringstream line;
  line << done << "/" << total_ << " " << what_ << ", " << std::fixed << std::setprecision(1)
       << rate << "/s, "
       << (final      ? "took " + fmt_time(el)
           : done > 0 ? "ETA " + fmt_time(eta)
                      : std::string("ETA unknown"));
  if (tty_) {
    const int width = 30;
    const int fill = total_ ? static_cast<int>(width * std::min(done, total_) / total_) : width;
    std::cerr << "\r[" << std::string(fill, '#') << std::string(width - fill, ' ') << "] "
              << line.str() << "   " << (final ? "\n" : "") << std::flush;
    return;
  }
  const size_t decile = done * 10 / std::max<size_t>(total_, 1);
  const double since = std::chrono::duration<double>(Clock::now() - last_).count();
  if (final || decile > last_decile_ || since > 10) {
    std::cerr << who_ << ": " << line.str() << "\n";
    last_decile_ = decile;
    last_ = Clock::now();
  }
}

}  // namespace bc

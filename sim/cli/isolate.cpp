#include "sim/cli/isolate.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sim/config/error.h"

namespace bc {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

Child spawn_child(const std::function<void(int write_fd)>& body) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A child dies with its parent (a run killed mid-simulation leaves no
    // comparison run or sweep worker computing for nobody).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);  // the parent died before the line above
    close(fds[0]);
    body(fds[1]);
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

Child start_isolated(const std::function<nlohmann::json()>& fn) {
  return spawn_child([&](int fd) {
    std::string out;
    try {
      out = fn().dump();
    } catch (const InputError& e) {
      nlohmann::json diags = nlohmann::json::array();
      for (const Diagnostic& d : e.diagnostics())
        diags.push_back({{"file", d.loc.file},
                         {"line", d.loc.line},
                         {"column", d.loc.column},
                         {"key", d.key},
                         {"message", d.message},
                         {"hint", d.hint}});
      out = nlohmann::json{{"error", e.what()}, {"exit_code", 2}, {"diagnostics", diags}}.dump();
    } catch (const std::exception& e) {
      out = nlohmann::json{{"error", e.what()}, {"exit_code", 1}}.dump();
    }
    write_all(fd, out);
  });
}

nlohmann::json finish_isolated(const Child& child) {
  std::string in;
  char buf[65536];
  ssize_t n;
  while ((n = read(child.fd, buf, sizeof buf)) > 0) in.append(buf, static_cast<size_t>(n));
  close(child.fd);
  int status = 0;
  waitpid(child.pid, &status, 0);
  // A child that died (a crash, the OOM killer) is that one run's failure, not
  // the caller's: validate goes on with its next row.
  if (in.empty() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string why = WIFSIGNALED(status) ? std::string("the run's process died of signal ") +
                                                std::to_string(WTERMSIG(status)) + " (" +
                                                strsignal(WTERMSIG(status)) + ")"
                                          : "the run's process ended without a result";
    return nlohmann::json{{"error", "internal error: " + why}, {"exit_code", 1}};
  }
  return nlohmann::json::parse(in);
}

void rethrow_isolated_error(const nlohmann::json& r, const std::string& context) {
  if (!r.contains("error")) return;
  if (r.value("exit_code", 1) == 2 && r.contains("diagnostics")) {
    std::vector<Diagnostic> diags;
    for (const auto& d : r["diagnostics"])
      diags.push_back({{d["file"].get<std::string>(), d["line"].get<int>(), d["column"].get<int>()},
                       d["key"].get<std::string>(),
                       d["message"].get<std::string>(),
                       d["hint"].get<std::string>()});
    throw InputError(diags);
  }
  throw std::runtime_error(context + r["error"].get<std::string>());
}

nlohmann::json run_isolated(const std::function<nlohmann::json()>& fn) {
  return finish_isolated(start_isolated(fn));
}

}  // namespace bc

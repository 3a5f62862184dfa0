#include "sim/config/error.h"

#include <algorithm>
#include <sstream>

#include "sim/config/limits.h"

namespace bc {

std::string SourceLoc::str() const {
  std::ostringstream os;
  os << (file.empty() ? "<input>" : file);
  if (line > 0) os << ':' << line << ':' << column;
  return os.str();
}

// A diagnostic is one line: control characters and Unicode line breaks that
// came from the input (a key or value holding a CR, a NUL, U+2028) are shown
// escaped, not printed.
static std::string one_line(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  static const char* kHex = "0123456789ABCDEF";
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) {
      out += "\\u0085", ++i;
    } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
      out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029", i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string Diagnostic::str() const {
  std::string s = loc.str() + ": error: ";
  if (!key.empty()) s += key + ": ";
  s += message;
  if (!hint.empty()) s += " (" + hint + ")";
  return one_line(s);
}

// All problems of a file are reported at once, up to a limit: 10 MB of
// unknown keys would otherwise print hundreds of thousands of lines.
static std::string join(const std::vector<Diagnostic>& d) {
  std::ostringstream os;
  const size_t shown = std::min(d.size(), limits::kMaxDiagnostics);
  for (size_t i = 0; i < shown; ++i) os << (i ? "\n" : "") << d[i].str();
  if (shown < d.size())
    os << "\n"
       << d[shown].loc.str() << ": note: " << d.size() - shown << " more errors not shown (at most "
       << limits::kMaxDiagnostics << " are printed)";
  return os.str();
}

InputError::InputError(std::vector<Diagnostic> diags)
    : std::runtime_error(join(diags)), diags_(std::move(diags)) {}
InputError::InputError(Diagnostic d) : InputError(std::vector<Diagnostic>{std::move(d)}) {}

void fail_input(const SourceLoc& loc, const std::string& key, const std::string& message,
                const std::string& hint) {
  Diagnostic d;
  d.loc = loc;
  d.key = key;
  d.message = message;
  d.hint = hint;
  throw InputError(std::vector<Diagnostic>{d});
}

void DiagnosticSink::throw_if_any() const {
  if (!diags_.empty()) throw InputError(diags_);
}

static size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) best_d = d, best = c;
  }
  // Only suggest when the typo is plausibly a typo: at most a third of the word.
  if (best.empty() || best_d > std::max<size_t>(2, word.size() / 3)) return "";
  return best;
}

}  // namespace bc

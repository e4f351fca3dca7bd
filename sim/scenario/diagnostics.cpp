#include "scenario/diagnostics.hpp"

#include <algorithm>
#include <cctype>

#include "core/errors.hpp"

namespace migsim::scenario {

void Diagnostics::error(const Source& where, std::string_view path, std::string_view message) {
  std::string line = where.str() + ": ";
  if (!path.empty()) {
    line += path;
    line += ": ";
  }
  line += message;
  for (const auto& e : lines_)
    if (e.text == line) return;
  lines_.push_back(Entry{where.file ? *where.file : std::string(), where.line, where.column, line});
}

std::vector<std::string> Diagnostics::lines() const {
  std::vector<std::string> files;
  for (const auto& e : lines_)
    if (std::find(files.begin(), files.end(), e.file) == files.end()) files.push_back(e.file);
  std::vector<Entry> sorted = lines_;
  auto rank = [&](const Entry& e) { return std::find(files.begin(), files.end(), e.file) - files.begin(); };
  std::stable_sort(sorted.begin(), sorted.end(), [&](const Entry& a, const Entry& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    if (a.line != b.line) return a.line < b.line;
    return a.column < b.column;
  });
  std::vector<std::string> out;
  for (auto& e : sorted) out.push_back(std::move(e.text));
  return out;
}

void Diagnostics::throw_if_any() const {
  if (!lines_.empty()) throw InputError(lines());
}

int edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const int cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                               std::tolower(static_cast<unsigned char>(b[j - 1]))
                           ? 0
                           : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  int best_d = 1 << 30;
  for (const auto& c : candidates) {
    const int dist = edit_distance(word, c);
    if (dist < best_d) {
      best_d = dist;
      best = c;
    }
  }
  // Plausible: at most a third of the word's letters wrong (at least 1, at most 3)...
  const int allowed = std::clamp(static_cast<int>(word.size()) / 3, 1, 3);
  if (best_d <= allowed) return best;
  // ...or one is a prefix of the other ("vacancy" for "vacancies").
  for (const auto& c : candidates) {
    const std::size_t k = std::min(word.size(), c.size());
    if (k >= 4 && word.substr(0, k) == std::string_view(c).substr(0, k)) return c;
  }
  return "";
}

}  // namespace migsim::scenario

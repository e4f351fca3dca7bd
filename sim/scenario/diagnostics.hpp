#pragma once
/// @file diagnostics.hpp
/// Collects every problem found in a scenario, each naming file, line, column and key path,
/// so that a user sees all of them at once.

#include <string>
#include <string_view>
#include <vector>

#include "scenario/tree.hpp"

namespace migsim::scenario {

class Diagnostics {
 public:
  /// Records "FILE:LINE:COL: PATH: MESSAGE".
  void error(const Source& where, std::string_view path, std::string_view message);
  bool empty() const { return lines_.empty(); }
  std::size_t size() const { return lines_.size(); }
  /// The problems in file order: files in the order they were first named, then by line
  /// and column.
  std::vector<std::string> lines() const;
  /// Throws InputError with every problem, if there is any.
  void throw_if_any() const;

 private:
  struct Entry {
    std::string file;
    int line, column;
    std::string text;
  };
  std::vector<Entry> lines_;
};

/// Edit distance (insertions, deletions, substitutions, transpositions of neighbours).
int edit_distance(std::string_view a, std::string_view b);
/// The candidate nearest to `word`, or "" when none is plausibly what was meant.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace migsim::scenario

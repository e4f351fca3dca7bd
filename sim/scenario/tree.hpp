#pragma once
/// @file tree.hpp
/// A YAML document as a tree whose every node remembers the file, line and column it came
/// from, so that errors point at the right place even after `extends:` merged files. The
/// model never sees this tree: scenario/load.cpp turns it into const typed structs.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace migsim::scenario {

/// Where a node was written: file, 1-based line and column.
struct Source {
  std::shared_ptr<const std::string> file;
  int line = 0;
  int column = 0;
  std::string str() const;  ///< "FILE:LINE:COL"
};

struct Node {
  enum class Kind { Null, Scalar, Sequence, Map };
  Kind kind = Kind::Null;
  std::string scalar;  ///< text of a scalar, as written
  bool quoted = false; ///< scalar was quoted ('...' or "..."): always a string
  std::vector<Node> items;                          ///< sequence elements
  std::vector<std::pair<std::string, Node>> entries;  ///< map entries in file order
  Source source;      ///< where the node's value starts
  Source key_source;  ///< where its key was written, when the node is a map value

  // Defined in tree.cpp, where Node is complete: clang with libstdc++ 12 cannot instantiate
  // the implicit ones inside the class (std::pair<std::string, Node> of an incomplete Node).
  Node();
  ~Node();
  Node(const Node&);
  Node(Node&&) noexcept;
  Node& operator=(const Node&);
  Node& operator=(Node&&) noexcept;

  bool is_map() const { return kind == Kind::Map; }
  bool is_sequence() const { return kind == Kind::Sequence; }
  bool is_scalar() const { return kind == Kind::Scalar; }
  bool is_null() const { return kind == Kind::Null; }
  /// The value under `key` in a map, or nullptr.
  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  /// A short description for messages: the scalar in quotes, or "a map", "a list", "null".
  std::string describe() const;
};

/// Limits that keep hostile or broken input from exhausting memory or the stack.
/// A real scenario is far below each (the 35-country Americas scenario is about 100 KiB, a
/// few tens of thousands of nodes, nested 6 deep); they exist so that a broken or hostile
/// file gets a clear error instead of exhausting memory or the stack. yaml-cpp's parser keeps
/// little per node (its events are turned into the tree as they come), so the file size bounds
/// its memory; aliases multiply what the tree would hold, so the nodes, their nesting and
/// their text are counted with aliases expanded, as they come, and a document is refused at
/// the first node past a limit, before its aliases are expanded.
struct ParseLimits {
  std::size_t max_file_bytes = 4u << 20;  ///< 4 MiB
  std::size_t max_nodes = 1'000'000;      ///< after expanding aliases
  std::size_t max_text_bytes = 64u << 20;  ///< bytes of scalars and keys, after expanding aliases (64 MiB)
  int max_depth = 64;                     ///< nesting of maps and lists, after expanding aliases
  int max_extends_depth = 16;
};

/// Parses one YAML file into a tree. Throws InputError naming the file (and line) for I/O,
/// syntax, duplicated keys and limits.
Node parse_file(const std::filesystem::path& path, const ParseLimits& limits = {});
/// Parses YAML text; `name` stands for the file in messages.
Node parse_text(const std::string& text, const std::string& name, const ParseLimits& limits = {});

/// Reads a scenario file and resolves `extends: OTHER.yaml` chains (paths relative to the
/// file that names them): the base is read first and each extending file is merged over it
/// (see merge()). Returns the merged tree and, in `files`, every file read, base first.
Node load_with_extends(const std::filesystem::path& path, std::vector<std::string>* files = nullptr,
                       const ParseLimits& limits = {});

/// Merges `over` onto `base`: maps merge key by key; lists of maps whose items carry an
/// identity key (`code`, `name` or `edge`) merge item by item on it (an item with
/// `remove: true` deletes its match), other lists of maps are appended to; anything else
/// in `over` replaces what `base` had.
void merge(Node& base, Node over);

/// The key path of item `index` of the list at `list_path`: by its identity when it has one
/// (`pathways[usa-h2a]`, `countries[VEN]`, `routes[COL-PAN]`, as experiments address items),
/// else by position (`events[3]`).
std::string item_path(const std::string& list_path, std::size_t index, const Node& item);

/// Writes a tree back as YAML (block style), for the resolved scenario stored in outputs.
std::string to_yaml(const Node& node);
/// The same text, written by yaml-cpp's emitter throughout (to_yaml writes it itself, faster;
/// the tests hold the two equal).
std::string to_yaml_by_yaml_cpp(const Node& node);

}  // namespace migsim::scenario

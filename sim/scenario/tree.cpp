#include "scenario/tree.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/errors.hpp"
#include "scenario/diagnostics.hpp"

namespace migsim::scenario {

std::string Source::str() const {
  return (file ? *file : std::string("<input>")) + ":" + std::to_string(line) + ":" +
         std::to_string(column);
}

Node::Node() = default;
Node::~Node() = default;
Node::Node(const Node&) = default;
Node::Node(Node&&) noexcept = default;
Node& Node::operator=(const Node&) = default;
Node& Node::operator=(Node&&) noexcept = default;

const Node* Node::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

Node* Node::find(std::string_view key) {
  for (auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

std::string Node::describe() const {
  switch (kind) {
    case Kind::Null: return "null";
    case Kind::Map: return "a map";
    case Kind::Sequence: return "a list";
    case Kind::Scalar: break;
  }
  // Control bytes are shown escaped, so that a message never carries terminal escapes.
  std::string shown;
  for (unsigned char c : scalar.size() > 40 ? scalar.substr(0, 37) : scalar) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      shown += buf;
    } else {
      shown += static_cast<char>(c);
    }
  }
  if (scalar.size() > 40) shown += "...";
  return "\"" + shown + "\"";
}

namespace {

std::string mib(std::size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / double(1u << 20));
  return buf;
}

/// The first byte that is not part of valid UTF-8, or npos. YAML files are UTF-8 (UTF-16
/// and UTF-32 files hold NUL bytes, refused before this).
std::size_t invalid_utf8(const std::string& text) {
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = b[i];
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) len = 1, cp = c;
    else if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07;
    else return i;
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((b[i + k] & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    // Overlong forms, surrogates and code points above U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return i;
    i += len;
  }
  return std::string::npos;
}

/// Line and column (1-based) of byte `at` in `text`.
std::pair<int, int> line_column(const std::string& text, std::size_t at) {
  int line = 1, column = 1;
  for (std::size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return {line, column};
}

/// Records where each document of a YAML stream starts, and nothing else.
struct DocumentStarts : YAML::EventHandler {
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& m) override { marks.push_back(m); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

/// True when the quoted scalar starting at `pos` has its closing quote. yaml-cpp 0.7
/// accepts a quote left open at the end of the file and swallows the rest of the file into
/// the value, which then shows up as a list of "missing required key" errors.
bool quote_closed(const std::string& text, std::size_t pos) {
  if (pos >= text.size() || (text[pos] != '"' && text[pos] != '\'')) return true;
  const char q = text[pos];
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    if (q == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == q) {
      if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') ++i;  // '' is a quote inside
      else return true;
    }
  }
  return false;
}

/// Builds the tree from yaml-cpp's parse events, in the one pass that reads the document:
/// yaml-cpp's own node graph (YAML::Load) is never made. Before, the document was parsed
/// twice (once for its document boundaries, once into yaml-cpp's graph) and the graph walked
/// twice (the limits, then the conversion), which took about twice as long (docs/performance.md).
///
/// It reports what those walks reported, at the same places:
/// - the node and depth limits count the nodes as the tree has them, aliases expanded, in
///   document order: map keys are not counted, nor the value of a key that is not a plain
///   word. The first node past a limit is named, inside an alias's expansion if it falls
///   there: an alias is counted by its anchor's size, and its expansion walked only when it
///   would pass a limit, so a small file whose aliases expand to billions of nodes, or nest
///   thousands deep, is refused without being expanded;
/// - an alias inside the map or list it refers to is refused (the document would be
///   infinite);
/// - then the first quote left open, then the keys that are not plain words or are given
///   twice in their map, where they are written, inside keys and skipped values too (the walk
///   of yaml-cpp's graph reported one again for each alias to the map holding it, and none
///   inside the parts it skipped); an alias used as a key is reported where it is used.
/// It also bounds the text the tree would hold (scalars and keys, aliases expanded): a long
/// scalar aliased many times was the one way left to fill memory within the other limits.
/// An alias copies its anchor's node from the tree as it is built (locate()), so no node is
/// copied but for an alias.
/// Nothing is thrown from the handlers: yaml-cpp's own errors (syntax, its depth guard) and
/// a second document come first, as before; parse_text() throws what was found after.
class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(std::shared_ptr<const std::string> file, const ParseLimits& limits, const std::string& text)
      : file_(std::move(file)), limits_(limits), text_(text) {}

  YAML::Mark document_start;
  Node root;
  std::string limit_error;  ///< the first node past a limit, or an alias inside its anchor
  std::string quote_error;  ///< the first quote left open
  std::vector<std::string> problems;  ///< keys that are not plain words, or given twice

  void OnDocumentStart(const YAML::Mark& m) override { document_start = m; }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override {
    if (stopped()) return;
    Node n;
    n.source = at(m);
    leaf(std::move(n), anchor, m);
  }

  void OnScalar(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor, const std::string& value) override {
    if (stopped()) return;
    Node n;
    n.kind = Node::Kind::Scalar;
    n.source = at(m);
    n.scalar = value;
    n.quoted = tag == "!";
    leaf(std::move(n), anchor, m);
  }

  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override;

  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    if (!stopped()) open(Node::Kind::Sequence, m, anchor);
  }
  void OnSequenceEnd() override {
    if (!stopped()) close();
  }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    if (!stopped()) open(Node::Kind::Map, m, anchor);
  }
  void OnMapEnd() override {
    if (!stopped()) close();
  }

 private:
  static constexpr std::uint32_t kNoVertex = UINT32_MAX;

  /// What a node is to the map or list it is in.
  struct Role {
    bool key = false;     ///< a map's key
    bool counts = true;   ///< counted in its parent's size (an item, or a value under a plain-word key)
    bool counted = true;  ///< counted against the limits (it counts, and so does its parent)
    bool kept = true;     ///< part of the tree (counted, and not the value of a key given twice)
  };
  struct Frame {
    Node node;
    Role role;
    int depth = 0;
    std::size_t size = 1;  ///< nodes of its subtree as the limits count them, itself included
    std::size_t text = 0;  ///< bytes of scalars and keys in its subtree, as counted
    int height = 0;        ///< levels of its subtree below it, as counted
    std::uint32_t index = 0;  ///< its place among its parent's items or entries, if kept
    YAML::anchor_t anchor = 0;
    std::uint32_t vertex = kNoVertex;
    bool at_key = true;  ///< maps: the next node is a key
    Role value;          ///< maps: the role of the value after the key just read
    std::string key;
    Source key_source;
    std::vector<std::string> names;  ///< maps: the keys read so far, while fewer than 16
    std::set<std::string> keys;      ///< maps: the keys read so far, from 16 on
  };
  /// The counted structure of anchored nodes and of what is inside them, aliases shared
  /// (as in yaml-cpp's graph), to find where an alias's expansion passes a limit.
  struct Vertex {
    Source source;
    bool container = false;
    std::vector<std::uint32_t> children;  ///< the ones that count
  };
  struct Anchor {
    Node::Kind kind = Node::Kind::Null;
    Source source;
    bool open = true;  ///< a map or list still being read
    std::size_t size = 1;
    std::size_t text = 0;
    int height = 0;
    bool cyclic = false;  ///< an alias inside it, in its counted part, names it or a node around it
    std::uint32_t vertex = kNoVertex;
    bool built = false;  ///< it is in the tree: at `path` (a map or list), or in `node` (a scalar or null, also read as a key)
    std::vector<std::uint32_t> path;  ///< its place in the tree, from the root (locate())
    Node node;
  };

  std::shared_ptr<const std::string> file_;
  const ParseLimits& limits_;
  const std::string& text_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchor> anchors_;
  std::vector<Vertex> vertices_;
  int anchored_ = 0;  ///< anchored maps and lists open
  std::size_t nodes_ = 0;
  std::size_t text_counted_ = 0;  ///< bytes of scalars and keys counted, aliases expanded

  /// a + b, or the largest size_t where that overflows: sizes of nested aliases multiply.
  static std::size_t add(std::size_t a, std::size_t b) { return b > SIZE_MAX - a ? SIZE_MAX : a + b; }

  Source at(const YAML::Mark& m) const { return Source{file_, m.line + 1, m.column + 1}; }
  bool stopped() const { return !limit_error.empty(); }
  /// Whether the tree is still wanted: once anything is wrong, it is thrown away.
  bool building() const { return limit_error.empty() && quote_error.empty() && problems.empty(); }

  std::string too_many(const Source& s) const {
    return s.str() + ": the document expands to more than " + std::to_string(limits_.max_nodes) +
           " nodes (aliases included); refusing to read it";
  }
  std::string too_deep(const Source& s) const {
    return s.str() + ": maps and lists nest more than " + std::to_string(limits_.max_depth) +
           " levels deep here (aliases included); a scenario needs fewer than 10";
  }
  std::string too_much_text(const Source& s) const {
    return s.str() + ": the document expands to more than " + mib(limits_.max_text_bytes) +
           " of text (aliases included); refusing to read it";
  }
  static std::string cycle(const Source& s) {
    return s.str() + ": an alias refers to a map or list that contains it, so the document would be infinite; "
                     "refer to an anchor defined outside it";
  }

  /// The role of the next node, written at `where`, and its parent map moved past it;
  /// `key` is its text if it is a scalar.
  Role next_role(Node::Kind kind, const Source& where, const std::string* key) {
    if (stack_.empty()) return Role{};
    Frame& p = stack_.back();
    if (p.node.kind == Node::Kind::Sequence) return Role{false, true, p.role.counted, p.role.kept};
    if (!p.at_key) {
      p.at_key = true;
      return p.value;
    }
    p.at_key = false;
    const Role as_key{true, false, false, false};
    if (kind != Node::Kind::Scalar) {
      problems.push_back(where.str() + ": a map key must be a plain word, not " +
                         (kind == Node::Kind::Map        ? std::string("a map")
                          : kind == Node::Kind::Sequence ? std::string("a list")
                                                         : std::string("empty")));
      p.value = Role{false, false, false, false};
      return as_key;
    }
    // Compared one by one while the map is small, through a set once it is not.
    bool twice = false;
    if (p.keys.empty() && p.names.size() < 16) {
      for (const auto& k : p.names) twice = twice || k == *key;
      if (!twice) p.names.push_back(*key);
      if (p.names.size() == 16) p.keys.insert(p.names.begin(), p.names.end());
    } else {
      twice = !p.keys.insert(*key).second;
    }
    if (twice) problems.push_back(where.str() + ": key \"" + *key + "\" appears twice in this map");
    p.key = *key;
    p.key_source = where;
    p.value = Role{false, true, p.role.counted, p.role.kept && !twice};
    return as_key;
  }

  int depth() const { return stack_.empty() ? 0 : stack_.back().depth + 1; }

  /// Counts one node, with `text` bytes of scalar and key, against the limits, as it is met
  /// in document order.
  void count(const Source& s, int d, std::size_t text) {
    if (++nodes_ > limits_.max_nodes) limit_error = too_many(s);
    else if (d > limits_.max_depth) limit_error = too_deep(s);
    else count_text(s, text);
  }
  /// Counts `text` bytes against the text limit; `s` is named if it passes.
  void count_text(const Source& s, std::size_t text) {
    if ((text_counted_ = add(text_counted_, text)) > limits_.max_text_bytes) limit_error = too_much_text(s);
  }

  /// The bytes of key that a node placed now in the top frame comes with.
  std::size_t key_bytes(const Role& role) const {
    return !stack_.empty() && stack_.back().node.kind == Node::Kind::Map && role.counts ? stack_.back().key.size() : 0;
  }

  /// The kept child that the next node of the top frame will be, by its place.
  std::uint32_t next_index() const {
    const Node& p = stack_.back().node;
    return static_cast<std::uint32_t>(p.kind == Node::Kind::Sequence ? p.items.size() : p.entries.size());
  }

  /// The place in the tree of the next node of the top frame, from the root.
  std::vector<std::uint32_t> next_path() const {
    std::vector<std::uint32_t> path;
    for (std::size_t k = 1; k < stack_.size(); ++k) path.push_back(stack_[k].index);
    if (!stack_.empty()) path.push_back(next_index());
    return path;
  }

  /// The node at `path`: down the maps and lists still open (the frames) while the path
  /// follows them, then down the finished ones.
  const Node& locate(const std::vector<std::uint32_t>& path) const {
    const Node* n = &stack_.front().node;
    bool open = true;
    for (std::size_t k = 0; k < path.size(); ++k) {
      if (open && k + 1 < stack_.size() && stack_[k + 1].index == path[k]) {
        n = &stack_[k + 1].node;
        continue;
      }
      open = false;
      n = n->kind == Node::Kind::Sequence ? &n->items[path[k]] : &n->entries[path[k]].second;
    }
    return *n;
  }

  std::uint32_t add_vertex(const Source& s, bool container) {
    vertices_.push_back(Vertex{s, container, {}});
    return static_cast<std::uint32_t>(vertices_.size() - 1);
  }

  /// Adds a finished node to its parent (or makes it the root): its size and height, its
  /// vertex if it has one, and the node itself if it is kept.
  void attach(Node&& n, const Role& role, std::size_t size, std::size_t text, int height, std::uint32_t vertex) {
    if (stack_.empty()) {
      if (building()) root = std::move(n);
      return;
    }
    Frame& p = stack_.back();
    if (!role.counts) return;
    p.size = add(p.size, size);
    p.text = add(p.text, add(text, key_bytes(role)));
    p.height = std::max(p.height, height + 1);
    if (p.vertex != kNoVertex) vertices_[p.vertex].children.push_back(vertex);
    if (!role.kept || !building()) return;
    if (p.node.kind == Node::Kind::Sequence) {
      p.node.items.push_back(std::move(n));
    } else {
      n.key_source = p.key_source;
      p.node.entries.emplace_back(p.key, std::move(n));
    }
  }

  void leaf(Node&& n, YAML::anchor_t anchor, const YAML::Mark& m) {
    const Role role = next_role(n.kind, n.source, &n.scalar);
    const std::uint32_t vertex = anchor || anchored_ ? add_vertex(n.source, false) : kNoVertex;
    if (anchor) {
      Anchor& a = anchors_[anchor];
      a.kind = n.kind;
      a.source = n.source;
      a.open = false;
      a.text = n.scalar.size();
      a.vertex = vertex;
      a.built = true;
      a.node = n;
    }
    if (role.key) return;
    if (role.counted) count(n.source, depth(), add(n.scalar.size(), key_bytes(role)));
    if (role.kept && n.quoted && quote_error.empty() && !quote_closed(text_, static_cast<std::size_t>(m.pos))) {
      quote_error = n.source.str() + ": the quote opened here is never closed (it runs to the end of the file)";
    }
    const std::size_t text = n.scalar.size();
    attach(std::move(n), role, 1, text, 0, vertex);
  }

  void open(Node::Kind kind, const YAML::Mark& m, YAML::anchor_t anchor) {
    Frame f;
    f.node.kind = kind;
    f.node.source = at(m);
    f.role = next_role(kind, f.node.source, nullptr);
    f.depth = depth();
    f.anchor = anchor;
    if (!stack_.empty()) f.index = next_index();
    if (anchor || anchored_) f.vertex = add_vertex(f.node.source, true);
    if (anchor) {
      Anchor& a = anchors_[anchor];
      a.kind = kind;
      a.source = f.node.source;
      a.vertex = f.vertex;
      ++anchored_;
    }
    if (f.role.counted) count(f.node.source, f.depth, key_bytes(f.role));
    stack_.push_back(std::move(f));
  }

  void close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor) {
      --anchored_;
      Anchor& a = anchors_[f.anchor];
      a.open = false;
      a.size = f.size;
      a.text = f.text;
      a.height = f.height;
      // Not copied: an alias copies it from the tree (a copy here for each anchor around
      // others would copy the inner ones again at each level).
      if (building() && f.role.kept) {
        a.built = true;
        a.path = next_path();
      }
    }
    if (f.role.key) return;
    attach(std::move(f.node), f.role, f.size, f.text, f.height, f.vertex);
  }

  /// Walks vertex v (at depth d) and what it holds, as the limits count them from `counted`
  /// on: the first node past a limit, or a map or list met inside itself; empty if none.
  std::string first_past_limit(std::uint32_t v, int d, std::size_t& counted, std::vector<std::uint32_t>& path) const {
    const Vertex& x = vertices_[v];
    if (++counted > limits_.max_nodes) return too_many(x.source);
    if (d > limits_.max_depth) return too_deep(x.source);
    if (!x.container) return {};
    if (std::find(path.begin(), path.end(), v) != path.end()) return cycle(x.source);
    path.push_back(v);
    for (const std::uint32_t c : x.children) {
      std::string e = first_past_limit(c, d + 1, counted, path);
      if (!e.empty()) return e;
    }
    path.pop_back();
    return {};
  }
};

void TreeBuilder::OnAlias(const YAML::Mark&, YAML::anchor_t anchor) {
  if (stopped()) return;
  Anchor& a = anchors_[anchor];
  // The alias is its anchor's node, written where the anchor was: a key too.
  const Role role = next_role(a.kind, a.source, a.kind == Node::Kind::Scalar ? &a.node.scalar : nullptr);
  if (role.key) return;
  const int d = depth();
  if (a.open || a.cyclic) {
    // Each anchored map or list around the alias, in whose counted part it lies, now holds
    // a map or list inside itself (the anchor's node, or one inside it). The mark only sends
    // an alias to it through the walk below, which finds what is wrong, if anything.
    bool reached = role.counts;
    for (auto f = stack_.rbegin(); f != stack_.rend() && reached; ++f) {
      if (f->anchor) anchors_[f->anchor].cyclic = true;
      reached = f->role.counts;
    }
  }
  if (a.open) {
    if (role.counted) {
      count(a.source, d, 0);
      if (limit_error.empty()) limit_error = cycle(a.source);
    }
    attach(Node{}, Role{false, role.counts, false, false}, 1, 0, 0, a.vertex);
    return;
  }
  if (role.counted) {
    if (a.cyclic || a.size > limits_.max_nodes - nodes_ || d + a.height > limits_.max_depth) {
      // The walk starts inside the maps and lists around the alias, as the walk of the
      // whole document did: meeting one of them again is a cycle.
      std::size_t counted = nodes_;
      std::vector<std::uint32_t> path;
      for (const auto& f : stack_)
        if (f.vertex != kNoVertex) path.push_back(f.vertex);
      limit_error = first_past_limit(a.vertex, d, counted, path);
      if (!limit_error.empty()) return;
    }
    nodes_ += a.size;
    count_text(a.source, add(a.text, key_bytes(role)));
    if (stopped()) return;
  }
  Node copy;
  if (role.kept && building() && a.built) {
    copy = a.kind == Node::Kind::Map || a.kind == Node::Kind::Sequence ? locate(a.path) : a.node;
    copy.key_source = Source{};
  }
  attach(std::move(copy), role, a.size, a.text, a.height, a.vertex);
}

}  // namespace

Node parse_text(const std::string& text, const std::string& name, const ParseLimits& limits) {
  auto file = std::make_shared<const std::string>(name);
  if (text.size() > limits.max_file_bytes) {
    throw InputError({name + ": the file is " + std::to_string(text.size()) + " bytes, above the limit of " +
                      mib(limits.max_file_bytes) + " for a scenario; is it the right file?"});
  }
  if (const std::size_t nul = text.find('\0'); nul != std::string::npos) {
    const auto [line, column] = line_column(text, nul);
    throw InputError({Source{file, line, column}.str() +
                      ": the file contains NUL bytes: it is not a YAML text file (UTF-16 or binary?)"});
  }
  // Line ends of CR alone (classic Mac OS): the YAML reader sees one long line, and reported
  // an empty file or a syntax error at its end.
  if (const std::size_t cr = text.find('\r'); cr != std::string::npos && text.find('\n') == std::string::npos &&
                                                cr + 1 < text.size()) {
    throw InputError({Source{file, 1, static_cast<int>(cr + 1)}.str() +
                      ": the file's lines end with CR alone (old Mac OS style); save it with LF (or CRLF) line ends"});
  }
  if (const std::size_t bad = invalid_utf8(text); bad != std::string::npos) {
    const auto [line, column] = line_column(text, bad);
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[bad]));
    throw InputError({Source{file, line, column}.str() + ": the file is not UTF-8 text (byte " + byte +
                      "): is it a YAML scenario? Save it as UTF-8"});
  }
  TreeBuilder builder(file, limits, text);
  try {
    // The first document into the tree, then whether a second one starts.
    // (yaml-cpp's LoadAll loops forever, allocating, on a ',' at the top of a file: each
    // call "finds" another empty document at the same place. Found by the fuzzer.)
    std::istringstream in(text);
    YAML::Parser parser(in);
    if (parser.HandleNextDocument(builder)) {
      DocumentStarts next;
      parser.HandleNextDocument(next);
      if (!next.marks.empty()) {
        const YAML::Mark& m = next.marks.front();
        const Source at{file, m.line + 1, m.column + 1};
        if (m.pos == builder.document_start.pos) {
          throw InputError({at.str() + ": YAML syntax error: the YAML reader cannot go past this point (a stray ','?)"});
        }
        throw InputError({at.str() + ": a second YAML document starts here (after --- or ...); a scenario is a "
                          "single document"});
      }
    }
  } catch (const YAML::DeepRecursion& e) {
    Source s{file, e.mark.line + 1, e.mark.column + 1};
    throw InputError({s.str() + ": maps and lists nest too deeply for the YAML reader (more than " +
                      std::to_string(limits.max_depth) + " levels is never a scenario)"});
  } catch (const YAML::Exception& e) {
    Source s{file, e.mark.line + 1, e.mark.column + 1};
    std::string what = e.msg.empty() ? std::string("invalid YAML") : e.msg;
    throw InputError({(e.mark.is_null() ? name : s.str()) + ": YAML syntax error: " + what});
  }
  if (!builder.limit_error.empty()) throw InputError({builder.limit_error});
  if (!builder.quote_error.empty()) throw InputError({builder.quote_error});
  if (!builder.problems.empty()) throw InputError(builder.problems);
  Node root = std::move(builder.root);
  if (root.is_null()) root.source = Source{file, 1, 1};
  return root;
}

Node parse_file(const std::filesystem::path& path, const ParseLimits& limits) {
  const std::string name = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError({name + ": is a directory, not a scenario file"});
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError({name + ": cannot open the file (does it exist and is it readable?)"});
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > limits.max_file_bytes) {
    throw InputError({name + ": the file is " + std::to_string(size) + " bytes, above the limit of " +
                      mib(limits.max_file_bytes) + " for a scenario; is it the right file?"});
  }
  // Read at most one byte past the limit: a device or pipe (/dev/zero) has no size.
  std::string text;
  char chunk[1 << 16];
  while (in && text.size() <= limits.max_file_bytes) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw InputError({name + ": cannot read the file (" + std::strerror(errno) + ")"});
  if (text.size() > limits.max_file_bytes) {
    throw InputError({name + ": the file is larger than the limit of " + mib(limits.max_file_bytes) +
                      " for a scenario; is it the right file?"});
  }
  return parse_text(text, name, limits);
}

namespace {

const char* identity_key(const Node& item) {
  if (!item.is_map()) return nullptr;
  for (const char* k : {"code", "name", "edge"}) {
    const Node* v = item.find(k);
    if (v && v->is_scalar()) return k;
  }
  return nullptr;
}

}  // namespace

std::string item_path(const std::string& list_path, std::size_t index, const Node& item) {
  if (const char* key = identity_key(item)) {
    const std::string& id = item.find(key)->scalar;
    bool plain = !id.empty() && id.size() <= 64;
    for (unsigned char c : id) plain = plain && c >= 0x20 && c != 0x7f && c != '[' && c != ']';
    if (plain) return list_path + "[" + id + "]";
  }
  return list_path + "[" + std::to_string(index) + "]";
}

namespace {

/// Whether `item` asks to be removed: its `remove` key, spelt as the loader's booleans are
/// (true/True/TRUE/yes/on, false/...). Any other value is an error.
bool wants_removal(const Node& item, const std::string& path) {
  const Node* r = item.find("remove");
  if (!r) return false;
  if (r->is_scalar() && !r->quoted) {
    const std::string& v = r->scalar;
    if (v == "true" || v == "True" || v == "TRUE" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "False" || v == "FALSE" || v == "no" || v == "off") return false;
  }
  throw InputError({r->source.str() + ": " + path + ".remove: expected true or false, got " + r->describe()});
}

/// Two identities are the same item: equal text, or for a route edge the same two countries
/// in either order ("COL-PAN" is "PAN-COL", as the loader reads edges).
bool same_identity(const char* key, const std::string& a, const std::string& b) {
  if (a == b) return true;
  if (std::strcmp(key, "edge") != 0) return false;
  const auto da = a.find('-'), db = b.find('-');
  return da != std::string::npos && db != std::string::npos && a.substr(0, da) == b.substr(db + 1) &&
         a.substr(da + 1) == b.substr(0, db);
}

void merge_at(Node& base, Node over, const std::string& path);

void merge_lists(Node& base, Node over, const std::string& path) {
  // Lists of maps merge item by item: an item with an identity key merges into (or, with
  // `remove: true`, deletes) the base's item of the same identity, and is appended if there is
  // none; an item without one is appended. Anything else replaces the base's list.
  bool all_maps = !over.items.empty();
  for (const auto& item : over.items) all_maps = all_maps && item.is_map();
  if (!all_maps || (!base.items.empty() && !base.items.front().is_map())) {
    base = std::move(over);
    return;
  }
  // Items match the base's own items only, not those this list appends: an identity listed
  // twice in one file stays twice, for the loader to report.
  std::size_t from_base = base.items.size();
  for (std::size_t k = 0; k < over.items.size(); ++k) {
    Node& item = over.items[k];
    const std::string item_path = scenario::item_path(path, k, item);
    const char* key = identity_key(item);
    if (!key) {
      if (item.find("remove")) {
        throw InputError({item.find("remove")->source.str() + ": " + item_path +
                          ".remove: an item is removed by its identity (code, name or edge), which this one lacks"});
      }
      base.items.push_back(std::move(item));
      continue;
    }
    const std::string id = item.find(key)->scalar;
    const auto base_end = base.items.begin() + static_cast<std::ptrdiff_t>(from_base);
    auto match = std::find_if(base.items.begin(), base_end, [&](const Node& b) {
      const Node* bid = b.is_map() ? b.find(key) : nullptr;
      return bid && bid->is_scalar() && same_identity(key, bid->scalar, id);
    });
    const bool removal = wants_removal(item, item_path);
    // The `remove` key is the merge's, not the scenario's: it never reaches the loader.
    item.entries.erase(std::remove_if(item.entries.begin(), item.entries.end(),
                                      [](const auto& e) { return e.first == "remove"; }),
                       item.entries.end());
    if (removal) {
      if (match == base_end) {
        std::vector<std::string> ids;
        for (const auto& b : base.items)
          if (const Node* bid = b.is_map() ? b.find(key) : nullptr; bid && bid->is_scalar()) ids.push_back(bid->scalar);
        const std::string near = nearest(id, ids);
        throw InputError({item.find(key)->source.str() + ": " + item_path + "." + key + ": nothing named \"" + id +
                          "\" in the base's " + path + " to remove" + (near.empty() ? "" : "; did you mean \"" + near + "\"?")});
      }
      base.items.erase(match);
      --from_base;
      continue;
    }
    if (match == base_end) {
      base.items.push_back(std::move(item));
    } else {
      merge_at(*match, std::move(item), item_path);
    }
  }
}

void merge_at(Node& base, Node over, const std::string& path) {
  if (base.is_map() && over.is_map()) {
    for (auto& [key, value] : over.entries) {
      if (Node* existing = base.find(key)) {
        merge_at(*existing, std::move(value), path.empty() ? key : path + "." + key);
      } else {
        base.entries.emplace_back(key, std::move(value));
      }
    }
    // A problem with the merged map as a whole (shares that do not add up, risks above 1)
    // is reported where it was last changed: in the extending file.
    base.source = over.source;
    if (over.key_source.file) base.key_source = over.key_source;
    return;
  }
  if (base.is_sequence() && over.is_sequence()) {
    merge_lists(base, std::move(over), path);
    return;
  }
  base = std::move(over);
}

}  // namespace

void merge(Node& base, Node over) { merge_at(base, std::move(over), ""); }

namespace {

Node load_chain(const std::filesystem::path& path, std::vector<std::string>& files,
                std::vector<std::filesystem::path>& stack, const ParseLimits& limits) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) canonical = path;
  for (const auto& p : stack) {
    if (p == canonical) {
      std::string chain;
      for (const auto& q : stack) chain += q.string() + " -> ";
      throw InputError({path.string() + ": `extends` forms a cycle: " + chain + path.string()});
    }
  }
  Node doc = parse_file(path, limits);
  if (!doc.is_map()) return doc;  // the loader reports "expected a map"
  auto it = std::find_if(doc.entries.begin(), doc.entries.end(),
                         [](const auto& e) { return e.first == "extends"; });
  if (it == doc.entries.end()) {
    files.push_back(path.string());
    return doc;
  }
  const Node ext = it->second;
  doc.entries.erase(it);
  if (!ext.is_scalar() || ext.scalar.empty()) {
    throw InputError({ext.source.str() + ": extends: expected the path of a scenario file, got " +
                      ext.describe()});
  }
  std::filesystem::path base_path = ext.scalar;
  if (base_path.is_relative()) base_path = (path.parent_path() / base_path).lexically_normal();
  if (!std::filesystem::exists(base_path, ec)) {
    throw InputError({ext.source.str() + ": extends: no such file \"" + base_path.string() + "\""});
  }
  if (std::filesystem::is_directory(base_path, ec)) {
    throw InputError({ext.source.str() + ": extends: \"" + base_path.string() + "\" is a folder, not a scenario file"});
  }
  if (static_cast<int>(stack.size()) + 1 >= limits.max_extends_depth) {
    throw InputError({ext.source.str() + ": extends: the chain of files each extending the next, from " +
                      (stack.empty() ? path : stack.front().lexically_proximate(std::filesystem::current_path(ec))).string() +
                      ", would be longer than " + std::to_string(limits.max_extends_depth) + " files"});
  }
  stack.push_back(canonical);
  {
    auto base_canonical = std::filesystem::weakly_canonical(base_path, ec);
    if (ec) base_canonical = base_path;
    for (const auto& p : stack) {
      if (p == base_canonical) {
        std::string chain;
        for (const auto& q : stack) chain += q.lexically_proximate(std::filesystem::current_path(ec)).string() + " -> ";
        throw InputError({ext.source.str() + ": extends: the files extend each other in a cycle: " + chain +
                          base_canonical.lexically_proximate(std::filesystem::current_path(ec)).string()});
      }
    }
  }
  Node base = load_chain(base_path, files, stack, limits);
  stack.pop_back();
  if (!base.is_map()) {
    throw InputError({base.source.str() + ": expected a map of keys, got " + base.describe() +
                      " (this file is extended by " + path.string() + ")"});
  }
  files.push_back(path.string());
  merge(base, std::move(doc));
  return base;
}

/// A scalar as yaml-cpp's emitter writes it in block style: plain where that reads back the
/// same, else double-quoted. Scalars that are plainly plain (names, numbers, dates, codes) are
/// written as they are; the others go through yaml-cpp's emitter, whose check is a regular
/// expression per character: most of the time of writing a scenario before.
void append_scalar(std::string& out, const std::string& s, bool quoted) {
  bool plain = !quoted && !s.empty() && s.back() != ' ' && s != "~" && s != "null" && s != "Null" && s != "NULL";
  for (std::size_t i = 0; plain && i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool word = std::isalnum(c) || c == '_';
    plain = i == 0 ? word || ((c == '-' || c == '.') && s.size() > 1 && std::isalnum(static_cast<unsigned char>(s[1])))
                   : word || (c < 0x80 && c != 0 && std::strchr(" _.+-/(),'%&", c));
  }
  if (plain) {
    out += s;
    return;
  }
  YAML::Emitter e;
  if (quoted) e << YAML::DoubleQuoted;
  e << s;
  out += e.c_str();
}

/// Appends `n` in yaml-cpp's block style (two spaces a level), as YAML::Emitter writes it:
/// a map or list under a key starts on the next line, indented; a list's item that is a
/// list starts on the next line after a lone "-"; one that is a map starts after "- "; an
/// empty map or list is written {} or [], on the next line except for {} as a list's item.
/// `indent` is the column of n's block; `inline_first` says that n's first line continues
/// the current line (a map after "- ").
void emit(std::string& out, const Node& n, int indent, bool inline_first) {
  auto pad = [&](int k) { out.append(static_cast<std::size_t>(k), ' '); };
  // Where the i-th item or entry starts: on a line of its own, but the first where n
  // continues the current line.
  auto start = [&](std::size_t i) {
    if (i > 0) out += '\n';
    if (i > 0 || !inline_first) pad(indent);
  };
  switch (n.kind) {
    case Node::Kind::Null: out += "~"; return;
    case Node::Kind::Scalar: append_scalar(out, n.scalar, n.quoted); return;
    case Node::Kind::Sequence:
      if (n.items.empty()) out += "[]";
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        start(i);
        const Node& item = n.items[i];
        if (item.is_sequence()) {
          out += "-\n";
          pad(indent + 2);
        } else {
          out += "- ";
        }
        emit(out, item, indent + 2, true);
      }
      return;
    case Node::Kind::Map:
      if (n.entries.empty()) out += "{}";
      for (std::size_t i = 0; i < n.entries.size(); ++i) {
        start(i);
        const auto& [key, value] = n.entries[i];
        append_scalar(out, key, false);
        out += ':';
        if (value.is_scalar() || value.is_null()) {
          out += ' ';
          emit(out, value, indent + 2, true);
        } else {
          out += '\n';
          pad(indent + 2);
          emit(out, value, indent + 2, true);
        }
      }
      return;
  }
}

/// Whether emit() writes `n` as yaml-cpp does: not with a key over 1,024 bytes, which
/// yaml-cpp writes as an explicit "? " key.
bool emit_writes(const Node& n) {
  for (const auto& i : n.items)
    if (!emit_writes(i)) return false;
  for (const auto& [k, v] : n.entries)
    if (k.size() > 1024 || !emit_writes(v)) return false;
  return true;
}

void emit(YAML::Emitter& out, const Node& n) {
  switch (n.kind) {
    case Node::Kind::Null: out << YAML::Null; break;
    case Node::Kind::Scalar:
      if (n.quoted) out << YAML::DoubleQuoted << n.scalar;
      else out << n.scalar;
      break;
    case Node::Kind::Sequence:
      out << YAML::BeginSeq;
      for (const auto& i : n.items) emit(out, i);
      out << YAML::EndSeq;
      break;
    case Node::Kind::Map:
      out << YAML::BeginMap;
      for (const auto& [k, v] : n.entries) {
        out << YAML::Key << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

Node load_with_extends(const std::filesystem::path& path, std::vector<std::string>* files,
                       const ParseLimits& limits) {
  std::vector<std::string> local;
  std::vector<std::filesystem::path> stack;
  Node n = load_chain(path, files ? *files : local, stack, limits);
  return n;
}

std::string to_yaml(const Node& node) {
  if (emit_writes(node)) {
    std::string out;
    emit(out, node, 0, false);
    return out + "\n";
  }
  return to_yaml_by_yaml_cpp(node);
}

std::string to_yaml_by_yaml_cpp(const Node& node) {
  YAML::Emitter out;
  emit(out, node);
  return std::string(out.c_str()) + "\n";
}

}  // namespace migsim::scenario

#include "scenario/tree.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/errors.hpp"

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

/// Counts the nodes of a parsed document as the conversion will see them (aliases expanded)
/// and its depth, without allocating: a small file whose aliases expand to billions of
/// nodes, or nest thousands deep (an alias inside a nested list, repeated), is refused
/// before any work is done on it.
struct Measure {
  std::shared_ptr<const std::string> file;
  const ParseLimits& limits;
  std::size_t nodes = 0;

  Source at(const YAML::Node& y) const {
    const YAML::Mark m = y.Mark();
    return Source{file, m.line + 1, m.column + 1};
  }
  std::vector<YAML::Node> path;  // the maps and lists above the node being walked

  void walk(const YAML::Node& y, int depth) {
    if (++nodes > limits.max_nodes) {
      throw InputError({at(y).str() + ": the document expands to more than " + std::to_string(limits.max_nodes) +
                        " nodes (aliases included); refusing to read it"});
    }
    if (depth > limits.max_depth) {
      throw InputError({at(y).str() + ": maps and lists nest more than " + std::to_string(limits.max_depth) +
                        " levels deep here (aliases included); a scenario needs fewer than 10"});
    }
    if (!y.IsSequence() && !y.IsMap()) return;
    for (const auto& above : path) {
      if (above.is(y)) {
        throw InputError({at(y).str() + ": an alias refers to a map or list that contains it, so the "
                          "document would be infinite; refer to an anchor defined outside it"});
      }
    }
    path.push_back(y);
    if (y.IsSequence()) {
      for (const auto& item : y) walk(item, depth + 1);
    } else {
      for (const auto& kv : y)
        if (kv.first.IsScalar()) walk(kv.second, depth + 1);
    }
    path.pop_back();
  }
};

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

struct Converter {
  std::shared_ptr<const std::string> file;
  const ParseLimits& limits;
  const std::string& text;
  std::size_t nodes = 0;
  std::vector<std::string> problems;

  Source at(const YAML::Mark& m) const { return Source{file, m.line + 1, m.column + 1}; }

  Node convert(const YAML::Node& y) {
    if (++nodes > limits.max_nodes) {
      throw InputError({at(y.Mark()).str() + ": the document expands to more than " +
                        std::to_string(limits.max_nodes) +
                        " nodes (aliases included); refusing to read it"});
    }
    Node n;
    n.source = at(y.Mark());
    switch (y.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: n.kind = Node::Kind::Null; break;
      case YAML::NodeType::Scalar:
        n.kind = Node::Kind::Scalar;
        n.scalar = y.Scalar();
        n.quoted = y.Tag() == "!";
        if (n.quoted && !quote_closed(text, static_cast<std::size_t>(y.Mark().pos))) {
          throw InputError({n.source.str() + ": the quote opened here is never closed (it runs to the end of the file)"});
        }
        break;
      case YAML::NodeType::Sequence:
        n.kind = Node::Kind::Sequence;
        n.items.reserve(y.size());
        for (const auto& item : y) n.items.push_back(convert(item));
        break;
      case YAML::NodeType::Map: {
        n.kind = Node::Kind::Map;
        std::set<std::string> seen;
        for (const auto& kv : y) {
          const auto key_src = at(kv.first.Mark());
          if (!kv.first.IsScalar()) {
            problems.push_back(key_src.str() + ": a map key must be a plain word, not " +
                               (kv.first.IsMap() ? std::string("a map") : std::string("a list")));
            continue;
          }
          std::string key = kv.first.Scalar();
          if (!seen.insert(key).second) {
            problems.push_back(key_src.str() + ": key \"" + key + "\" appears twice in this map");
            continue;
          }
          Node value = convert(kv.second);
          value.key_source = key_src;
          n.entries.emplace_back(std::move(key), std::move(value));
        }
        break;
      }
    }
    return n;
  }
};

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
  if (const std::size_t bad = invalid_utf8(text); bad != std::string::npos) {
    const auto [line, column] = line_column(text, bad);
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[bad]));
    throw InputError({Source{file, line, column}.str() + ": the file is not UTF-8 text (byte " + byte +
                      "): is it a YAML scenario? Save it as UTF-8"});
  }
  YAML::Node doc;
  try {
    // Where each document starts, without building them; at most two are looked for.
    // (yaml-cpp's LoadAll loops forever, allocating, on a ',' at the top of a file: each
    // call "finds" another empty document at the same place. Found by the fuzzer.)
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (starts.marks.size() < 2 && parser.HandleNextDocument(starts)) {
    }
    if (starts.marks.size() > 1) {
      const YAML::Mark& m = starts.marks[1];
      const Source at{file, m.line + 1, m.column + 1};
      if (m.pos == starts.marks[0].pos) {
        throw InputError({at.str() + ": YAML syntax error: the YAML reader cannot go past this point (a stray ','?)"});
      }
      throw InputError({at.str() + ": a second YAML document starts here (after --- or ...); a scenario is a "
                        "single document"});
    }
    doc = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    Source s{file, e.mark.line + 1, e.mark.column + 1};
    throw InputError({s.str() + ": maps and lists nest too deeply for the YAML reader (more than " +
                      std::to_string(limits.max_depth) + " levels is never a scenario)"});
  } catch (const YAML::Exception& e) {
    Source s{file, e.mark.line + 1, e.mark.column + 1};
    std::string what = e.msg.empty() ? std::string("invalid YAML") : e.msg;
    throw InputError({(e.mark.is_null() ? name : s.str()) + ": YAML syntax error: " + what});
  }
  Converter conv{file, limits, text, 0, {}};
  Node root;
  try {
    Measure{file, limits, 0, {}}.walk(doc, 0);
    root = conv.convert(doc);
  } catch (const YAML::Exception& e) {
    throw InputError({name + ": YAML error: " + e.msg});
  }
  if (!conv.problems.empty()) throw InputError(conv.problems);
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

bool wants_removal(const Node& item) {
  const Node* r = item.find("remove");
  return r && r->is_scalar() && (r->scalar == "true" || r->scalar == "yes");
}

void merge_lists(Node& base, Node over) {
  bool keyed = !over.items.empty();
  for (const auto& item : over.items) keyed = keyed && identity_key(item);
  if (!keyed) {
    bool all_maps = !over.items.empty();
    for (const auto& item : over.items) all_maps = all_maps && item.is_map();
    if (all_maps && !base.items.empty() && base.items.front().is_map()) {
      for (auto& item : over.items) base.items.push_back(std::move(item));
    } else {
      base = std::move(over);
    }
    return;
  }
  for (auto& item : over.items) {
    const char* key = identity_key(item);
    const std::string id = item.find(key)->scalar;
    auto match = std::find_if(base.items.begin(), base.items.end(), [&](const Node& b) {
      const Node* bid = b.is_map() ? b.find(key) : nullptr;
      return bid && bid->is_scalar() && bid->scalar == id;
    });
    if (wants_removal(item)) {
      if (match != base.items.end()) base.items.erase(match);
      continue;
    }
    if (match == base.items.end()) {
      base.items.push_back(std::move(item));
    } else {
      merge(*match, std::move(item));
    }
  }
}

}  // namespace

void merge(Node& base, Node over) {
  if (base.is_map() && over.is_map()) {
    for (auto& [key, value] : over.entries) {
      if (Node* existing = base.find(key)) {
        merge(*existing, std::move(value));
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
    merge_lists(base, std::move(over));
    return;
  }
  base = std::move(over);
}

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
  if (static_cast<int>(stack.size()) >= limits.max_extends_depth) {
    throw InputError({path.string() + ": `extends` chain deeper than " +
                      std::to_string(limits.max_extends_depth) + " files"});
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
  YAML::Emitter out;
  emit(out, node);
  return std::string(out.c_str()) + "\n";
}

}  // namespace migsim::scenario

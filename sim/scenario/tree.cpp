#include "scenario/tree.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "core/errors.hpp"

namespace migsim::scenario {

std::string Source::str() const {
  return (file ? *file : std::string("<input>")) + ":" + std::to_string(line) + ":" +
         std::to_string(column);
}

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
  std::string shown = scalar.size() > 40 ? scalar.substr(0, 37) + "..." : scalar;
  return "\"" + shown + "\"";
}

namespace {

struct Converter {
  std::shared_ptr<const std::string> file;
  const ParseLimits& limits;
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
    throw InputError({name + ": the file is " + std::to_string(text.size() >> 20) +
                      " MiB, above the limit of " + std::to_string(limits.max_file_bytes >> 20) +
                      " MiB for a scenario"});
  }
  if (text.find('\0') != std::string::npos) {
    throw InputError({name + ": the file contains NUL bytes: it is not a YAML text file"});
  }
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Source s{file, e.mark.line + 1, e.mark.column + 1};
    std::string what = e.msg.empty() ? std::string("invalid YAML") : e.msg;
    throw InputError({(e.mark.is_null() ? name : s.str()) + ": YAML syntax error: " + what});
  }
  Converter conv{file, limits, 0, {}};
  Node root;
  try {
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
    throw InputError({name + ": the file is " + std::to_string(size >> 20) +
                      " MiB, above the limit of " + std::to_string(limits.max_file_bytes >> 20) +
                      " MiB for a scenario"});
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_text(buf.str(), name, limits);
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
  if (base_path.is_relative()) base_path = path.parent_path() / base_path;
  if (!std::filesystem::exists(base_path, ec)) {
    throw InputError({ext.source.str() + ": extends: no such file \"" + base_path.string() + "\""});
  }
  stack.push_back(canonical);
  Node base = load_chain(base_path, files, stack, limits);
  stack.pop_back();
  if (!base.is_map()) {
    throw InputError({base_path.string() + ": a scenario extended by " + path.string() +
                      " must be a map of keys"});
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

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/errors.hpp"
#include "support/temp_dir.hpp"
#include "scenario/tree.hpp"
#include "support/fixtures.hpp"

using namespace migsim;
using namespace migsim::scenario;
using migsim::test::TempDir;

namespace {

std::vector<std::string> parse_problems(const std::string& text, const ParseLimits& limits = {}) {
  try {
    parse_text(text, "t.yaml", limits);
  } catch (const InputError& e) {
    return e.problems();
  }
  return {};
}


}  // namespace

TEST_CASE("nodes remember file, line and column") {
  const Node n = parse_text("a: 1\nb:\n  - x\n  - {c: 2}\n", "f.yaml");
  REQUIRE(n.is_map());
  const Node* b = n.find("b");
  REQUIRE(b);
  CHECK(b->key_source.line == 2);
  CHECK(b->items[1].find("c")->source.str() == "f.yaml:4:9");
  CHECK(n.find("a")->scalar == "1");
  CHECK_FALSE(n.find("a")->quoted);
  CHECK(parse_text("a: '1'", "f").find("a")->quoted);
}

TEST_CASE("syntax errors, duplicated keys and binary files are reported with their place") {
  auto p = parse_problems("a: [1, 2\nb: 3\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("t.yaml:") == 0);
  CHECK(p[0].find("YAML syntax error") != std::string::npos);
  p = parse_problems("a: 1\nb: 2\na: 3\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0] == "t.yaml:3:1: key \"a\" appears twice in this map");
  p = parse_problems(std::string("a: 1\0\x01\x02", 7));
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("NUL bytes") != std::string::npos);
}

TEST_CASE("aliases are copies of their anchor's node, which keep where the anchor was written") {
  const Node n = parse_text("k: &k key\n*k : 1\nl: [&m {a: 1}, *m]\n", "f.yaml");
  REQUIRE(n.is_map());
  const Node* v = n.find("key");  // an alias used as a key
  REQUIRE(v);
  CHECK(v->key_source.str() == "f.yaml:1:4");
  const Node* l = n.find("l");
  REQUIRE(l->items.size() == 2);
  CHECK(l->items[1].source.str() == "f.yaml:3:5");
  CHECK_FALSE(l->items[1].key_source.file);
  CHECK(l->items[1].find("a")->scalar == "1");
  CHECK(l->items[1].find("a")->key_source.str() == "f.yaml:3:9");
}

TEST_CASE("each key that is not a plain word, or is given twice, is reported once") {
  // Once however many aliases repeat the map that holds it (the walk of yaml-cpp's graph
  // reported it once per alias), and also inside values that are not kept.
  auto p = parse_problems("a: &a {[k]: 1}\nb: *a\nc: *a\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0] == "t.yaml:1:8: a map key must be a plain word, not a list");
  p = parse_problems("a: 1\nb: {c: 1, c: 2}\nb: {d: [k], d: 3}\n");
  REQUIRE(p.size() == 3);
  CHECK(p[0] == "t.yaml:2:11: key \"c\" appears twice in this map");
  CHECK(p[1] == "t.yaml:3:1: key \"b\" appears twice in this map");
  CHECK(p[2] == "t.yaml:3:13: key \"d\" appears twice in this map");
  p = parse_problems(":\n  x: 1\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0] == "t.yaml:1:1: a map key must be a plain word, not empty");
  // Keys in a map of more than 16 entries are compared through a set.
  std::string big;
  for (int k = 0; k < 40; ++k) big += "k" + std::to_string(k) + ": 1\n";
  CHECK(parse_problems(big).empty());
  p = parse_problems(big + "k3: 2\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0] == "t.yaml:41:1: key \"k3\" appears twice in this map");
}

TEST_CASE("limits inside an alias's expansion name the node where they are passed") {
  ParseLimits few;
  few.max_nodes = 8;
  auto p = parse_problems("a: &a [x, y, z]\nb: [*a, *a]\n", few);
  REQUIRE(p.size() == 1);
  CHECK(p[0] == "t.yaml:1:11: the document expands to more than 8 nodes (aliases included); refusing to read it");
  ParseLimits shallow;
  shallow.max_depth = 3;
  p = parse_problems("a: &a [x]\nb: [[*a]]\n", shallow);
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("t.yaml:1:8: maps and lists nest more than 3 levels deep") == 0);
  // A list that holds itself, in a key (not counted) and reached through an alias: a cycle;
  // the same alias as the value of a key that is not a plain word is never reached.
  p = parse_problems("? &m [*m]\n: 1\nv: *m\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("t.yaml:1:3: an alias refers to a map or list that contains it") == 0);
  // A map reached through an alias from inside it (b, in a part of a not counted, names a).
  p = parse_problems("a: &a {[k]: [&b {k: *a}], n: *b}\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("t.yaml:1:4: an alias refers to a map or list that contains it") == 0);
  p = parse_problems("x: &r {[k]: *r}\ny: *r\n");
  REQUIRE(p.size() == 1);
  CHECK(p[0] == "t.yaml:1:8: a map key must be a plain word, not a list");
}

TEST_CASE("alias bombs and huge files are refused before they exhaust memory") {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (int i = 0; i < 8; ++i) {
    const std::string name = "l" + std::to_string(i);
    bomb += name + ": &" + name + " [";
    for (int k = 0; k < 10; ++k) bomb += (k ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = name;
  }
  auto p = parse_problems(bomb);
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("expands to more than") != std::string::npos);
  ParseLimits small;
  small.max_file_bytes = 100;
  p = parse_problems(std::string(200, '#'), small);
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("above the limit") != std::string::npos);
}

TEST_CASE("anchors nested in anchors cost their aliases' expansion, not a copy at each level") {
  // 990 aliases of a 1,000-item list, inside 62 anchored lists each inside the next: about a
  // million nodes, within the limits. A copy of each anchored list when it closed, for its
  // aliases, copied the million nodes again at each of the 62 levels: 8.8 GB (a review's
  // measurement). In a child process whose address space is held to 1.5 GiB, it must parse.
#if defined(__SANITIZE_ADDRESS__)
  MESSAGE("skipped under AddressSanitizer, which reserves terabytes of address space");
#else
  std::string doc = "b: &b [x";
  for (int k = 1; k < 1000; ++k) doc += ",x";
  doc += "]\nc: ";
  for (int k = 0; k < 62; ++k) doc += "&a" + std::to_string(k) + " [";
  for (int k = 0; k < 990; ++k) doc += k ? ",*b" : "*b";
  doc += std::string(62, ']') + "\n";
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const rlim_t cap = rlim_t{3} << 29;  // 1.5 GiB
    const rlimit limit{cap, cap};
    setrlimit(RLIMIT_AS, &limit);
    int code = 1;
    try {
      const Node n = parse_text(doc, "t.yaml");
      code = n.find("c") && n.find("c")->items.size() == 1 ? 0 : 2;
    } catch (...) {
      code = 3;
    }
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
#endif
}

TEST_CASE("aliases of aliases are counted without overflow, and their text too") {
  // Nine anchors, each 256 aliases of the one before and 254 more items, inside a key (not
  // counted, so only their sizes are added up): the sizes are 2^(8k - 7) - 1, and the list
  // holding the last one is 2^65 nodes, 0 in a 64-bit count that wraps around. Counts
  // saturate instead, and the alias in a value is refused.
  std::string doc = "? [&t1 x";
  for (int k = 2; k <= 9; ++k) {
    doc += ", &t" + std::to_string(k) + " [";
    for (int j = 0; j < 256; ++j) doc += (j ? ", *t" : "*t") + std::to_string(k - 1);
    for (int j = 0; j < 254; ++j) doc += ", x";
    doc += "]";
  }
  doc += ", &F [*t9]]\n: 1\nv: *F\n";
  auto p = parse_problems(doc);
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("t.yaml:1:4: the document expands to more than 1000000 nodes") == 0);
  // A 1 MiB scalar aliased 100 times is 100 MiB of text in 100 nodes: refused.
  doc = "a: &s " + std::string(1 << 20, 'x') + "\nb: [";
  for (int k = 0; k < 100; ++k) doc += k ? ", *s" : "*s";
  doc += "]\n";
  p = parse_problems(doc);
  REQUIRE(p.size() == 1);
  CHECK(p[0].find("t.yaml:1:4: the document expands to more than 64.0 MiB of text (aliases included)") == 0);
  ParseLimits more;
  more.max_text_bytes = 200u << 20;
  CHECK(parse_problems(doc, more).empty());
}

TEST_CASE("deep nesting is an error, not a stack overflow") {
  const std::string deep = std::string(5000, '[') + std::string(5000, ']');
  const auto p = parse_problems(deep);
  REQUIRE(p.size() == 1);
}

TEST_CASE("merge: maps by key, named lists by name, other lists of maps appended") {
  Node base = parse_text(R"(
a: 1
m: {x: 1, y: 2}
pathways:
  - {name: p1, quota: 10}
  - {name: p2, quota: 20}
events:
  - {date: 2020-01, note: one}
origins: [A, B]
)", "base.yaml");
  Node over = parse_text(R"(
m: {y: 3}
pathways:
  - {name: p2, quota: 25}
  - {name: p3, quota: 5}
  - {name: p1, remove: true}
events:
  - {date: 2021-01, note: two}
origins: [C]
)", "over.yaml");
  merge(base, over);
  CHECK(base.find("a")->scalar == "1");
  CHECK(base.find("m")->find("x")->scalar == "1");
  CHECK(base.find("m")->find("y")->scalar == "3");
  CHECK(*base.find("m")->find("y")->source.file == "over.yaml");
  const Node* pw = base.find("pathways");
  REQUIRE(pw->items.size() == 2);
  CHECK(pw->items[0].find("name")->scalar == "p2");
  CHECK(pw->items[0].find("quota")->scalar == "25");
  CHECK(pw->items[1].find("name")->scalar == "p3");
  CHECK(base.find("events")->items.size() == 2);
  REQUIRE(base.find("origins")->items.size() == 1);
  CHECK(base.find("origins")->items[0].scalar == "C");
}

TEST_CASE("merge: a list mixing named and unnamed events merges the named ones, appends the others") {
  Node base = parse_text(R"(
events:
  - {date: 2020-01, name: cap, note: base}
  - {date: 2020-02, note: plain}
)", "base.yaml");
  Node over = parse_text(R"(
events:
  - {date: 2020-03, name: cap, note: variant}
  - {date: 2020-04, note: added}
)", "over.yaml");
  merge(base, over);
  const Node* ev = base.find("events");
  // Before, one unnamed item made the whole list "unkeyed": both were appended, the named
  // event twice.
  REQUIRE(ev->items.size() == 3);
  CHECK(ev->items[0].find("name")->scalar == "cap");
  CHECK(ev->items[0].find("date")->scalar == "2020-03");
  CHECK(ev->items[0].find("note")->scalar == "variant");
  CHECK(ev->items[1].find("note")->scalar == "plain");
  CHECK(ev->items[2].find("note")->scalar == "added");
}

TEST_CASE("merge: remove must name an item of the base and be a boolean; a route matches in either order") {
  const auto base_text = R"(
pathways:
  - {name: p1, quota: 10}
routes:
  - {edge: AAA-BBB, mortality: 0.1}
)";
  auto merged = [&](const char* over_text) {
    Node base = parse_text(base_text, "base.yaml");
    merge(base, parse_text(over_text, "over.yaml"));
    return base;
  };
  // A route named the other way round is the same edge: merged, and removed.
  Node m = merged("routes:\n  - {edge: BBB-AAA, mortality: 0.2}\n");
  REQUIRE(m.find("routes")->items.size() == 1);
  CHECK(m.find("routes")->items[0].find("mortality")->scalar == "0.2");
  CHECK(merged("routes:\n  - {edge: BBB-AAA, remove: true}\n").find("routes")->items.empty());
  // remove: false merges, and the key does not reach the loader.
  m = merged("pathways:\n  - {name: p1, quota: 20, remove: false}\n");
  CHECK(m.find("pathways")->items[0].find("quota")->scalar == "20");
  CHECK_FALSE(m.find("pathways")->items[0].find("remove"));
  auto error_of = [&](const char* over_text) -> std::string {
    try {
      merged(over_text);
    } catch (const InputError& e) {
      return e.problems().front();
    }
    return "";
  };
  CHECK(error_of("pathways:\n  - {name: p2, remove: true}\n") ==
        "over.yaml:2:12: pathways[p2].name: nothing named \"p2\" in the base's pathways to remove; did you mean \"p1\"?");
  CHECK(error_of("pathways:\n  - {name: p1, remove: maybe}\n") ==
        "over.yaml:2:24: pathways[p1].remove: expected true or false, got \"maybe\"");
  CHECK(error_of("pathways:\n  - {name: p1, remove: \"true\"}\n").find("expected true or false") != std::string::npos);
  CHECK(merged("pathways:\n  - {name: p1, remove: True}\n").find("pathways")->items.empty());
}

TEST_CASE("extends: relative paths, errors point at the file that holds the value") {
  TempDir dir;
  std::filesystem::create_directories(dir.path / "variants");
  dir.write("base.yaml", test::base_yaml() + "pathways:\n  - {name: visa, country: CCC, kind: labour_visa, quota: 100}\n");
  const std::string child = dir.write("variants/child.yaml",
                                      "extends: ../base.yaml\npathways:\n  - {name: visa, quota: lots}\n");
  std::vector<std::string> files;
  Node n = load_with_extends(child, &files);
  REQUIRE(files.size() == 2);
  CHECK(files[0].find("base.yaml") != std::string::npos);
  CHECK_FALSE(n.find("extends"));
  try {
    load_scenario(child);
    FAIL("expected an error");
  } catch (const InputError& e) {
    REQUIRE(e.problems().size() == 1);
    CHECK(e.problems()[0] == child + ":3:25: pathways[visa].quota: expected an integer between 0 and 10000000000, got \"lots\"");
  }
  // A valid variant loads, and keeps the base's other values.
  const std::string ok = dir.write("variants/ok.yaml", "extends: ../base.yaml\npathways:\n  - {name: visa, quota: 250}\n");
  const Scenario s = load_scenario(ok);
  REQUIRE(s.pathways.size() == 1);
  CHECK(*s.pathways[0].quota == 250);
  CHECK(s.pathways[0].kind == PathwayKind::LabourVisa);
  CHECK(s.resolved_yaml.find("quota: 250") != std::string::npos);
  CHECK(s.resolved_yaml.find("extends") == std::string::npos);
  // In a file that extends another, a key near `extends` is not offered it, nor stops the
  // loader before the file's other problems.
  const std::string near = dir.write("variants/near.yaml", "extends: ../base.yaml\nextent: []\nstart: banana\n");
  try {
    load_scenario(near);
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(e.problems().size() == 2);
    CHECK_MESSAGE(e.problems()[0].find("extent: unknown key") != std::string::npos, e.problems()[0]);
    CHECK_MESSAGE(e.problems()[0].find("extends") == std::string::npos, e.problems()[0]);
  }
}

TEST_CASE("extends: cycles and missing bases are clear errors") {
  TempDir dir;
  const std::string a = dir.write("a.yaml", "extends: b.yaml\nname: a\n");
  dir.write("b.yaml", "extends: a.yaml\nname: b\n");
  try {
    load_with_extends(a);
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(e.problems()[0].find("cycle") != std::string::npos);
  }
  const std::string c = dir.write("c.yaml", "extends: nowhere.yaml\n");
  try {
    load_with_extends(c);
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(e.problems()[0].find(c + ":1:10: extends: no such file") == 0);
  }
}

TEST_CASE("extends: a chain longer than the limit is refused at the extends that passes it") {
  // f01 extends f02 ... extends f17: 17 files, one more than the default limit of 16.
  TempDir dir;
  for (int k = 1; k <= 17; ++k) {
    char name[16], next[16];
    std::snprintf(name, sizeof name, "f%02d.yaml", k);
    std::snprintf(next, sizeof next, "f%02d.yaml", k + 1);
    dir.write(name, k < 17 ? "extends: " + std::string(next) + "\nname: n\n" : "name: base\n");
  }
  // 16 files (f02 to f17) are allowed.
  std::vector<std::string> files;
  CHECK(load_with_extends(dir.path / "f02.yaml", &files).find("name"));
  CHECK(files.size() == 16);
  try {
    load_with_extends(dir.path / "f01.yaml");
    FAIL("expected an error");
  } catch (const InputError& e) {
    REQUIRE(e.problems().size() == 1);
    const std::string& m = e.problems()[0];
    CHECK_MESSAGE(m.find((dir.path / "f16.yaml").string() + ":1:10: extends: the chain of files") == 0, m);
    CHECK_MESSAGE(m.find("would be longer than 16 files") != std::string::npos, m);
  }
}

TEST_CASE("to_yaml writes what yaml-cpp's emitter writes") {
  // Every scenario and experiment of the repository, resolved.
  std::size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(std::string(MIGSIM_SOURCE_DIR) + "/configs")) {
    if (e.path().extension() != ".yaml") continue;
    Node n;
    try {
      n = parse_file(e.path());
    } catch (const InputError&) {
      continue;
    }
    INFO(e.path().string());
    CHECK(to_yaml(n) == to_yaml_by_yaml_cpp(n));
    ++files;
  }
  CHECK(files >= 10);
  // Scalars near every rule of the plain style (indicators first or inside, a ": " or " #",
  // spaces at the ends, null's spellings, non-ASCII and control bytes, quotes), in every
  // kind of place: keys, values, items, empty and nested maps and lists.
  const std::vector<std::string> scalars = {
      "x", "USA", "1.0e-5", "-3", "2020-01", "a b", "a,b", "d'Ivoire", "a(b)", ".5", "-x", "x-", "a/b", "50%",
      "a&b", "true", "Peru\xcc\x81", "S\xc3\xa3o", "x!", "a*b", "a?b", "a|b", "a>b", "a[b]", "a@b", "+1", "_k",
      ".inf", "a:b", "", "null", "~", "Null", "NULL", "a: b", "a #b", "#x", "-", "- x", "? x", ": x", " lead",
      "trail ", "tab\there", "new\nline", "quote\"in", "back\\slash", "\x01" "ctl", "*alias", "&anc", "!tag",
      "%p", "@at", "`bt", "[", "{", ",", "|", ">", "'", "a\rb", "\x7f", "\xc2\x85nel", std::string(1100, 'k')};
  Node doc;
  doc.kind = Node::Kind::Map;
  Node list;
  list.kind = Node::Kind::Sequence;
  for (std::size_t k = 0; k < scalars.size(); ++k) {
    for (const bool quoted : {false, true}) {
      Node v;
      v.kind = Node::Kind::Scalar;
      v.scalar = scalars[k];
      v.quoted = quoted;
      list.items.push_back(v);
      if (scalars[k].size() < 1024) doc.entries.emplace_back(scalars[k] + (quoted ? "'" : ""), v);
    }
  }
  Node empty_map, empty_list, nested;
  empty_map.kind = Node::Kind::Map;
  empty_list.kind = Node::Kind::Sequence;
  nested.kind = Node::Kind::Sequence;
  nested.items = {empty_map, empty_list, list, Node{}, doc};
  list.items.push_back(empty_map);
  list.items.push_back(empty_list);
  list.items.push_back(nested);
  doc.entries.emplace_back("list", list);
  doc.entries.emplace_back("nested", nested);
  doc.entries.emplace_back("empty map", empty_map);
  doc.entries.emplace_back("empty list", empty_list);
  CHECK(to_yaml(doc) == to_yaml_by_yaml_cpp(doc));
  CHECK(to_yaml(list) == to_yaml_by_yaml_cpp(list));
  for (const Node& n : {empty_map, empty_list, Node{}, list.items[0]}) CHECK(to_yaml(n) == to_yaml_by_yaml_cpp(n));
  // A key over 1,024 bytes: yaml-cpp writes it as "? key", and to_yaml leaves it the whole tree.
  Node long_key;
  long_key.kind = Node::Kind::Map;
  long_key.entries.emplace_back(std::string(1100, 'k'), list.items[0]);
  CHECK(to_yaml(long_key) == to_yaml_by_yaml_cpp(long_key));
  CHECK(to_yaml(long_key).rfind("? ", 0) == 0);
}

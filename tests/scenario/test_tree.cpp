#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
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
    CHECK(e.problems()[0] == child + ":3:25: pathways[0].quota: expected a non-negative integer, got \"lots\"");
  }
  // A valid variant loads, and keeps the base's other values.
  const std::string ok = dir.write("variants/ok.yaml", "extends: ../base.yaml\npathways:\n  - {name: visa, quota: 250}\n");
  const Scenario s = load_scenario(ok);
  REQUIRE(s.pathways.size() == 1);
  CHECK(*s.pathways[0].quota == 250);
  CHECK(s.pathways[0].kind == PathwayKind::LabourVisa);
  CHECK(s.resolved_yaml.find("quota: 250") != std::string::npos);
  CHECK(s.resolved_yaml.find("extends") == std::string::npos);
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

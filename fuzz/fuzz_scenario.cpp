// libFuzzer target: the scenario loader (YAML text -> tree -> typed Scenario) on arbitrary
// bytes. Any input must either load or throw InputError; anything else (a crash, a sanitizer
// report, another exception, a hang) is a bug. Built by fuzz/CMakeLists.txt with clang,
// run by `make fuzz` (see docs/errors.md and fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/errors.hpp"
#include "scenario/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const migsim::Scenario s = migsim::load_scenario_text(text, "fuzz.yaml");
    // A scenario that loads must be usable: these are what the run reads first.
    (void)s.initial_agents();
    (void)s.months();
  } catch (const migsim::InputError& e) {
    // Every problem must be a non-empty line naming the input.
    for (const auto& p : e.problems()) {
      if (p.empty() || p.rfind("fuzz.yaml", 0) != 0) {
        std::fprintf(stderr, "problem without the file name: \"%s\"\n", p.c_str());
        std::abort();
      }
    }
  }
  return 0;
}

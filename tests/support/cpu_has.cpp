// Whether this CPU runs code built for an x86-64 level: exit 0 if it does, 77 (ctest's
// SKIP_RETURN_CODE for the tests that ask) if not. Built for the baseline, so it runs anywhere
// x86-64 does. Usage: cpu_has x86-64 | x86-64-v3 | x86-64-v4
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: cpu_has x86-64|x86-64-v3|x86-64-v4\n");
    return 2;
  }
  __builtin_cpu_init();
  const char* level = argv[1];
  bool ok = false;
  if (std::strcmp(level, "x86-64") == 0) ok = true;
  else if (std::strcmp(level, "x86-64-v3") == 0) ok = __builtin_cpu_supports("x86-64-v3");
  else if (std::strcmp(level, "x86-64-v4") == 0) ok = __builtin_cpu_supports("x86-64-v4");
  else {
    std::fprintf(stderr, "cpu_has: unknown level %s\n", level);
    return 2;
  }
  if (!ok) std::printf("this CPU does not run %s code: skipped\n", level);
  return ok ? 0 : 77;
}

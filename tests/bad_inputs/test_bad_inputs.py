"""Runs every case of manifest.toml through migsim and checks what a user would see.

Each case must give the expected exit code (2 for bad input, 1 for a run that failed), exactly
one `error:` line that names the file, line and column and the key, no crash and no
sanitizer report, and leave nothing behind in the output's folder (no output, no temporary
file; an earlier file there is untouched). Scenario cases are also given to `validate`,
which must report the same error.

Manifest fields (see manifest.toml):
  file      the input, relative to this folder (or a {tmp} path made by `setup`)
  what      one line saying what is wrong with it
  exit      expected exit code
  where     what follows the file name in the error line: ":LINE:COL: KEY.PATH"
            (or ": ..." for messages with no line, such as file-level ones)
  message   a fragment the error line must contain
  in_file   the file the error names, when it is not `file` (an extends chain)
  output    the -o argument ({tmp} is the case's empty temporary folder); default {tmp}/out.h5
  args      extra arguments for `run`
  command   `run` (default) or `sweep` (the file is an experiment)
  setup     a preparation step (see SETUPS)
  validate  false when `validate` must not give the same error (checks of the run only)
  xfail     a known problem, reported: the case is expected to fail the checks
"""
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SOURCE = Path(os.environ.get("MIGSIM_SOURCE_DIR", HERE.parents[1]))
MIGSIM = os.environ.get("MIGSIM", str(SOURCE / "build" / "migsim"))
CASES = tomllib.loads((HERE / "manifest.toml").read_text())["case"]

SANITIZER = re.compile(r"Sanitizer|runtime error:|LeakSanitizer|AddressSanitizer")


def _huge(tmp):
    """A real text file just above the 4 MiB limit (comments, so only its size is wrong)."""
    path = tmp / "huge.yaml"
    line = "# " + "x" * 77 + "\n"
    with open(path, "w") as f:
        f.write("scenario_format: 1\n")
        f.write(line * ((4 << 20) // len(line) + 10))
    return path


def _folder(tmp):
    """A folder given where a scenario file should be."""
    path = tmp / "scenarios"
    path.mkdir()
    return path


def _file_as_folder(tmp):
    """A file where the output's folder should be."""
    (tmp / "results").write_text("a file, not a folder\n")


def _earlier_output(tmp):
    """An earlier output under the name the run is told to write."""
    (tmp / "out.h5").write_bytes(b"earlier results, to be kept")


def _readonly_mount(tmp):
    """A read-only file system (a tmpfs mounted ro): root cannot write there either."""
    ro = tmp / "ro"
    ro.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)], capture_output=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + p.stderr.decode().strip())
    return lambda: subprocess.run(["umount", str(ro)], check=True)


def _unwritable_folder(tmp):
    """A folder without write permission: refused for users; root passes permissions, so
    for root the probe write succeeds and this case is skipped (see _readonly_mount)."""
    d = tmp / "locked"
    d.mkdir()
    d.chmod(0o500)
    if os.geteuid() == 0:
        d.chmod(0o700)
        pytest.skip("running as root: permissions do not stop root (the ro mount case covers it)")
    return lambda: d.chmod(0o700)


def _full_mount(tmp):
    """A 64 KiB tmpfs, nearly filled: the run is fine, writing its output is not."""
    full = tmp / "full"
    full.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], capture_output=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + p.stderr.decode().strip())
    st = os.statvfs(full)
    (full / "filler").write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - 8192))
    return lambda: subprocess.run(["umount", str(full)], check=True)


def _memory_check(tmp):
    """The memory case must not actually fit here (a machine with >90 GiB free would run it)."""
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:") and int(line.split()[1]) > 90 * 2**20:
            pytest.skip("this machine has enough memory for the case")


SETUPS = {
    "huge": _huge,
    "folder": _folder,
    "file-as-folder": _file_as_folder,
    "earlier-output": _earlier_output,
    "readonly-mount": _readonly_mount,
    "unwritable-folder": _unwritable_folder,
    "memory": _memory_check,
    "full-mount": _full_mount,
}


def _snapshot(folder):
    """Every file under `folder` with its content (to see that nothing was added or changed)."""
    out = {}
    for root, _, files in os.walk(folder):
        for f in files:
            p = Path(root) / f
            out[str(p.relative_to(folder))] = p.read_bytes() if p.stat().st_size < (1 << 20) else p.stat().st_size
    return out


def _run(args, timeout=120):
    p = subprocess.run([MIGSIM, *map(str, args)], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def _check(case, code, stderr, input_name):
    assert code >= 0, f"killed by signal {-code}:\n{stderr}"
    assert not SANITIZER.search(stderr), f"sanitizer report:\n{stderr}"
    assert "internal error" not in stderr, stderr
    assert code == case["exit"], f"exit {code}, expected {case['exit']}:\n{stderr}"
    errors = [l for l in stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 1, f"expected one error line, got {len(errors)}:\n{stderr}"
    expected_start = "error: " + input_name + case["where"]
    assert errors[0].startswith(expected_start), f"expected the line to start with\n  {expected_start}\ngot\n  {errors[0]}"
    assert case["message"] in errors[0], f"expected {case['message']!r} in\n  {errors[0]}"


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    ids = [c.get("id", c["file"]) for c in CASES]
    assert len(ids) == len(set(ids)), "two cases with one id"
    for c in CASES:
        assert c["exit"] in (1, 2), c
        if not c["file"].startswith("{tmp}") and "setup" not in c:
            assert (HERE / c["file"]).exists(), c["file"]


def test_every_case_file_is_in_the_manifest():
    listed = {c["file"] for c in CASES}
    on_disk = {str(p.relative_to(HERE)) for p in (HERE / "cases").iterdir()}
    assert on_disk <= listed, f"not in manifest.toml: {sorted(on_disk - listed)}"


@pytest.mark.parametrize("case", CASES, ids=[c.get("id", c["file"].split("/")[-1]) for c in CASES])
def test_case(case, tmp_path):
    if "xfail" in case:
        # A known problem: the case must still fail the checks (else remove `xfail`).
        try:
            _test_case(case, tmp_path)
        except AssertionError:
            pytest.xfail(case["xfail"])
        pytest.fail("passes now: remove `xfail` from the manifest")
    _test_case(case, tmp_path)


def _test_case(case, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    cleanup = None
    if "setup" in case:
        made = SETUPS[case["setup"]](work)
        if callable(made):
            cleanup = made
    try:
        if case["file"].startswith("{tmp}"):
            scenario = case["file"].replace("{tmp}", str(work))
        elif case.get("setup") == "huge":
            scenario = str(work / "huge.yaml")
        elif case.get("setup") == "folder":
            scenario = str(work / "scenarios")
        else:
            scenario = str(HERE / case["file"])
        output = case.get("output", "{tmp}/out.h5").replace("{tmp}", str(work))
        in_file = case.get("in_file")
        if in_file is None:
            input_name = scenario
        elif in_file == "{output}":
            input_name = output
        elif in_file == "":
            input_name = ""
        else:
            input_name = os.path.normpath(HERE / in_file)
        case = dict(case, where=case["where"].replace("{tmp}", str(work)))
        before = _snapshot(work)
        command = case.get("command", "run")
        code, _, err = _run([command, scenario, "-o", output, "--quiet", "--threads", "1", *case.get("args", [])])
        _check(case, code, err, input_name)
        assert _snapshot(work) == before, "the run left files behind or changed them"
        # Problems of the input itself: `validate` must say the same.
        if case.get("validate", case.get("in_file") != "{output}" and not case.get("args") and command == "run"):
            code, _, err = _run(["validate", scenario])
            _check(case, code, err, input_name)
            assert _snapshot(work) == before
    finally:
        if cleanup:
            cleanup()


REGRESSIONS = sorted(p for p in (SOURCE / "fuzz" / "regressions").glob("*") if p.is_file() and p.name != "README.md")


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_fuzz_regressions(path):
    """Inputs that once crashed migsim (found by the fuzzer or by hand, fuzz/README.md): now
    loaded or refused cleanly."""
    code, _, err = _run(["validate", path])
    assert code in (0, 2), f"exit {code}:\n{err}"
    assert not SANITIZER.search(err), err
    if code == 2:
        assert [l for l in err.splitlines() if l.startswith("error: ")], err

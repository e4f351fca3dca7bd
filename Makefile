# migsim: the two commands a new user needs are `make run` and `make test`.
# Both install the Debian packages that are missing, then build.

BUILD     ?= build
PYTHON    := /usr/bin/python3
JOBS      ?= $(shell nproc)
SCENARIO  ?= configs/americas.yaml
OUT       ?= outputs/$(basename $(notdir $(SCENARIO))).h5

DEPS_BUILD := cmake g++ make git pkg-config libhdf5-dev hdf5-tools zlib1g-dev libyaml-cpp-dev \
              libboost-dev doctest-dev libcli11-dev librandom123-dev libxxhash-dev libopenmpi-dev openmpi-bin
DEPS_PYTHON := python3-h5py python3-xarray python3-h5netcdf python3-netcdf4 netcdf-bin \
               python3-pandas python3-matplotlib python3-pytest python3-yaml

.PHONY: all deps deps-build deps-python build build-migsim run test clean help

all: build

help:
	@echo "make run     install what is missing, build, run the default scenario into outputs/"
	@echo "make test    install what is missing, build, run every test"
	@echo "make build   build $(BUILD)/migsim (Release, -O3)"
	@echo "make deps    install the missing Debian packages (and say which)"
	@echo "make figures figures from FILE= (default outputs/americas.h5) into FIGDIR= (outputs/figures)"
	@echo "make brief   a PDF comparing BASE= and POLICY= (default: two example scenarios); COUNTRY=USA adds one country's numbers"
	@echo "make bench   performance benchmarks into outputs/bench/results.json"
	@echo "make test-hpc   only the MPI and Slurm tests"
	@echo "make test-asan  the whole suite under AddressSanitizer and UBSan (build-asan/)"
	@echo "make fuzz    fuzz the scenario loader with libFuzzer for FUZZ_SECONDS (default 240)"
	@echo "make scenario / make calibrate   rebuild the Americas scenario / redo its calibration"
	@echo "make clean   remove $(BUILD)/"

deps: deps-build deps-python deps-figures deps-hpc

deps-build:
	@tools/install-deps.sh $(DEPS_BUILD)

deps-python:
	@tools/install-deps.sh $(DEPS_PYTHON)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps-build $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The program alone, without the tests and the benchmark (what `make run` needs).
build-migsim: deps-build $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target migsim

run: deps build-migsim
	@mkdir -p outputs
	$(BUILD)/migsim run $(SCENARIO) -o $(OUT) --force
	$(PYTHON) analysis/summary.py $(OUT)
	@$(MAKE) --no-print-directory figures FILE=$(OUT)

test: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)

# --- performance (issue 6) ---
.PHONY: bench
bench: deps build
	$(PYTHON) bench/run_bench.py

# --- figures (issue 5) ---
# Figures and the policy brief from migsim output files, by analysis/migsim_figures
# (docs/figures.md). FILE may be a single run, an ensemble (migsim sweep) or a comparison
# (migsim compare); BASE and POLICY two runs, or BASE one comparison file holding both:
#   make figures [FILE=outputs/americas.h5] [FIGDIR=outputs/figures]
#   make brief [BASE=base.h5 POLICY=policy.h5 | BASE=comparison.h5] [BRIEF=outputs/brief.pdf] [COUNTRY=USA]
FILE      ?= outputs/americas.h5
FIGDIR    ?= outputs/figures
BRIEF     ?= outputs/brief.pdf
FIGURES   := PYTHONPATH=$(CURDIR)/analysis MPLBACKEND=Agg $(PYTHON) -m migsim_figures
DEPS_FIGURES := python3-xarray python3-h5netcdf python3-h5py python3-pandas python3-matplotlib \
                python3-geopandas python3-yaml python3-pytest

.PHONY: figures brief deps-figures

deps-figures:
	@tools/install-deps.sh $(DEPS_FIGURES)

figures: deps-figures
	$(FIGURES) figures $(FILE) -o $(FIGDIR)

# Without BASE, the brief compares the two example scenarios (the corridor and its
# labour-pathways variant), run here into outputs/.
BRIEF_EXAMPLE_BASE   := configs/examples/corridor.yaml
BRIEF_EXAMPLE_POLICY := configs/examples/corridor-labour-pathways.yaml

brief: deps-figures
ifeq ($(strip $(BASE)),)
	@$(MAKE) --no-print-directory build-migsim
	@mkdir -p outputs
	$(BUILD)/migsim run $(BRIEF_EXAMPLE_BASE) -o outputs/brief-base.h5 --force --quiet
	$(BUILD)/migsim run $(BRIEF_EXAMPLE_POLICY) -o outputs/brief-policy.h5 --force --quiet
	$(FIGURES) brief outputs/brief-base.h5 outputs/brief-policy.h5 -o $(BRIEF) $(if $(COUNTRY),--country $(COUNTRY))
else
	$(FIGURES) brief $(BASE) $(POLICY) -o $(BRIEF) $(if $(COUNTRY),--country $(COUNTRY))
endif

# --- batch and HPC (issue 4) ---
# MPI (OpenMPI) for `migsim run` over ranks, and Slurm + munge for the job-array test
# (tests/hpc/local-slurm.sh starts a single-node Slurm on this host).
DEPS_HPC := libopenmpi-dev openmpi-bin slurm-wlm munge

.PHONY: deps-hpc test-hpc slurm-start slurm-stop sweep-example

deps-hpc:
	@tools/install-deps.sh $(DEPS_HPC)

test-hpc: deps build
	cd $(BUILD) && ctest --output-on-failure -L hpc

slurm-start:
	tests/hpc/local-slurm.sh start

slurm-stop:
	tests/hpc/local-slurm.sh stop

sweep-example: build
	@mkdir -p outputs
	$(BUILD)/migsim sweep configs/experiments/move-rate.yaml -o outputs/move-rate.h5 --force
# --- end of batch and HPC (issue 4) ---

# --- scenario and calibration (issue 3) ---
# `make scenario` rebuilds configs/americas.yaml from configs/data/ (byte for byte the same);
# `make calibrate` searches the free behavioural parameters (configs/calibration/ranges.yaml),
# writes configs/calibration/behaviour.yaml and fit_report.md, and confirms at full scale
# (about 6 minutes on 2 cores; CALIBRATE_ARGS=--no-confirm skips the full-scale runs).
.PHONY: scenario calibrate
CALIBRATE_ARGS ?=
scenario:
	$(PYTHON) analysis/build_scenario.py

calibrate: deps build
	$(PYTHON) analysis/calibrate.py --migsim $(BUILD)/migsim $(CALIBRATE_ARGS)

# --- reliability (issue 7) ---
# make test-asan   the whole suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#                  (GCC, RelWithDebInfo) in $(ASAN_BUILD)/; any report fails the test.
# make fuzz        libFuzzer (clang) on the scenario loader for FUZZ_SECONDS, from the
#                  examples and the bad-input corpus; crashes land in $(FUZZ_BUILD)/crashes/
#                  (add each to fuzz/regressions/, which the bad-input tests replay).
ASAN_BUILD   ?= build-asan
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 240
SANITIZER_ENV := ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:check_initialization_order=1 \
                 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/reliability/lsan.supp \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: test-asan fuzz

test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMIGSIM_SANITIZE=ON -DMIGSIM_BUILD_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS) -LE hpc
	@# MPI runs without leak checking: OpenMPI unloads its plugins before the check, leaving
	@# allocations no suppression can name (AddressSanitizer and UBSan stay on).
	cd $(ASAN_BUILD) && $(SANITIZER_ENV) ASAN_OPTIONS=abort_on_error=1:detect_leaks=0 \
	  ctest --output-on-failure -j $(JOBS) -L hpc

fuzz: deps-build
	@tools/install-deps.sh clang libclang-rt-14-dev
	cmake -S fuzz -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/crashes
	$(FUZZ_BUILD)/fuzz_scenario $(FUZZ_BUILD)/corpus configs/examples tests/bad_inputs/_base \
	  tests/bad_inputs/cases fuzz/regressions -dict=fuzz/scenario.dict -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=16384 -timeout=10 -rss_limit_mb=2048 -artifact_prefix=$(FUZZ_BUILD)/crashes/ -print_final_stats=1

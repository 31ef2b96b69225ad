# scgrn — build, test, demo and benchmarks.
#
#   make demo    build release binaries and run the pipeline on the bundled example
#   make test    build and run every test (optimised, with testing enabled)
#   make bench   the benchmarks (minutes; see BENCHMARKS.md)
#   make model CORPUS=<dir>
#                rebuild the default model models/default/ bit for bit from the pretraining
#                corpus (models/corpus.sha256 lists it; about 1 h 15 min)
#   make install PREFIX=/opt/scgrn
#                the tools to PREFIX/bin, the bundled model, priors and ortholog table to
#                PREFIX/share/scgrn (where the tools look for them; default PREFIX /usr/local)
#   make fuzz    fuzz the parsers, FUZZ_SECONDS (60) per target (docs/FUZZING.md)

SWIFT   ?= swift
BIN     := .build/release
# Tests build with testing enabled in a scratch folder of their own, so `make test` and
# `make demo` do not rebuild each other's binaries.
TESTBUILD := -c release -Xswiftc -enable-testing --scratch-path .build/test
TOOLS   := tokenize embed graphify score frames
PREFIX  ?= /usr/local
SHARE   := $(DESTDIR)$(PREFIX)/share/scgrn
# The data the tools find through BundledData (Sources/ToolKit/BundledData.swift), with its notes.
BUNDLED := models/default/model.safetensors models/default/genes.txt models/default/MODEL_CARD.md \
           models/knowledge/gene_table_64.txt.gz models/knowledge/go_bp.gmt.gz models/knowledge/README.md \
           $(wildcard priors/*.tsv) priors/README.md data/orthologs/mouse_human.tsv data/orthologs/README.md LICENSE

.PHONY: all build test demo bench deps clean model install fuzz

all: build

# System libraries: OpenBLAS, zlib, ISA-L and HDF5 (Debian/Ubuntu package names), installed when missing.
deps:
	@missing=""; \
	pkg-config --exists openblas 2>/dev/null || missing="$$missing libopenblas-dev"; \
	pkg-config --exists zlib 2>/dev/null || missing="$$missing zlib1g-dev"; \
	pkg-config --exists libisal 2>/dev/null || missing="$$missing libisal-dev"; \
	pkg-config --exists hdf5 2>/dev/null || missing="$$missing libhdf5-dev"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

# The tests run on the kernels the tools choose for this CPU (docs/ENGINE.md, "Determinism"), not
# on a family OPENBLAS_CORETYPE may name for other work: several compare products bit for bit.
test: deps
	$(SWIFT) build $(TESTBUILD)
	env -u OPENBLAS_CORETYPE $(SWIFT) test $(TESTBUILD) --disable-swift-testing

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(addprefix $(BIN)/,$(TOOLS) pretrain) $(DESTDIR)$(PREFIX)/bin/
	for f in $(BUNDLED); do install -D -m 644 $$f $(SHARE)/$$f || exit 1; done
	@echo "installed $(TOOLS) pretrain to $(DESTDIR)$(PREFIX)/bin and the bundled data to $(SHARE)"

demo: build
	bash pipelines/demo.sh $(BIN)

# The default model, from the pretraining corpus in CORPUS (models/default/MODEL_CARD.md).
model: build
	@test -n "$(CORPUS)" || { echo "make model: give CORPUS=<folder holding the sets of models/corpus.sha256>" >&2; exit 64; }
	bash models/build_default.sh $(CORPUS) $(BIN)

# The benchmarks (tens of minutes; never part of make test). Figures and how they were taken:
# BENCHMARKS.md. Peers (scanpy, PyTorch) are installed into virtual environments under /tmp by
# the scripts. Two need data outside the repository: MOUSE10X=<10x v3 dir of the 10k-cell
# mouse-brain counts> for tokenize, BEELINE=<folder holding beeline/> for the engine and graphify.
# TORCH_VENV=<venv with torch (CPU), numpy, safetensors> runs embed on the default model against
# the same model in PyTorch (bench/embed_default_bench.sh).
bench: build
	bash bench/frames_cat.sh $(BIN)/frames
	python3 bench/score_speed.py $(BIN)/score
	bash bench/embed_bench.sh
	$(if $(TORCH_VENV),bash bench/embed_default_bench.sh models/default/model.safetensors $(TORCH_VENV) $(BIN),@echo "bench: embed vs PyTorch on the default model skipped (set TORCH_VENV=<venv with torch, numpy, safetensors>)")
	bash bench/pretrain_bench.sh $(BIN)
	$(if $(MOUSE10X),bash bench/tokenize.sh $(MOUSE10X),@echo "bench: tokenize skipped (set MOUSE10X=<mouse-brain 10x dir>)")
	$(if $(BEELINE),bash bench/engine_bench.sh $(BEELINE)/beeline,@echo "bench: engine skipped (set BEELINE=<folder holding beeline/>)")
	$(if $(BEELINE),python3 bench/beeline_prepare.py $(BEELINE) bench/work/beeline && bash bench/graphify_speed.sh bench/work/beeline/hHEP_TFs500_Specific_sample1,@echo "bench: graphify skipped (set BEELINE=<folder holding beeline/>)")

# The fuzz targets (docs/FUZZING.md): the parsers built with libFuzzer and AddressSanitizer in
# .build/fuzz, then each run for FUZZ_SECONDS; a crash fails with the input under .build/fuzz/artifacts.
FUZZ_SECONDS ?= 60
fuzz: deps
	bash Fuzz/fuzz.sh build
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash Fuzz/fuzz.sh run

clean:
	rm -rf .build bench/work out

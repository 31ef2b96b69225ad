# scgrn — build, test, demo and benchmarks.
#
#   make demo    build release binaries and run the pipeline on the bundled example
#   make test    build and run every test (optimised, with testing enabled)
#   make bench   the benchmarks (minutes; see BENCHMARKS.md)
#   make model   rebuild the default model models/default/ bit for bit (about 15 minutes)

SWIFT   ?= swift
BIN     := .build/release
TOOLS   := tokenize embed graphify score frames

.PHONY: all build test demo bench deps clean model

all: build

# System libraries: OpenBLAS and zlib (Debian/Ubuntu package names), installed when missing.
deps:
	@missing=""; \
	pkg-config --exists openblas 2>/dev/null || missing="$$missing libopenblas-dev"; \
	pkg-config --exists zlib 2>/dev/null || missing="$$missing zlib1g-dev"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release

test: deps
	$(SWIFT) build -c release -Xswiftc -enable-testing
	$(SWIFT) test -c release -Xswiftc -enable-testing --disable-swift-testing

demo: build
	bash pipelines/demo.sh $(BIN)

# The default model, from the corpus bundled in the repository (models/default/MODEL_CARD.md).
model: build
	bash models/build_default.sh $(BIN)

bench: build
	bash bench/frames_cat.sh $(BIN)/frames

clean:
	rm -rf .build bench/work out

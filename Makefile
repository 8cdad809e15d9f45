# fdcnn's two entry points; each sets up everything it needs first:
# a virtualenv in .venv with the project installed, and Icarus Verilog (apt) when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fdcnn-installed

.PHONY: demo test setup icarus clean

## demo: generate the default FFT, check it bit-exactly in Icarus, synthesize, print utilization
demo: setup
	$(BIN)/fdcnn demo

## test: the full default regression (cocotb + Icarus, golden-model and CLI tests)
test: setup
	$(BIN)/fdcnn regress --jobs 2

setup: $(STAMP) icarus

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

icarus:
	@if ! command -v iverilog >/dev/null 2>&1; then \
	  if [ "$$(id -u)" -ne 0 ]; then \
	    echo "Icarus Verilog is missing and installing it needs root: run" \
	         "'sudo apt-get update && sudo apt-get install -y iverilog', then retry." >&2; \
	    exit 1; \
	  fi; \
	  echo "Installing Icarus Verilog (apt-get install -y iverilog)"; \
	  apt-get update -qq && apt-get install -y -qq iverilog >/dev/null; \
	fi

clean:
	rm -rf build

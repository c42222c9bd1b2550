# Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The hand teacher (mediapipe pins numpy<2) has its own environment.
MP_VENV := .venv-mediapipe
# Every ROS process the project starts keeps DDS on loopback.
export FASTDDS_DEFAULT_PROFILES_FILE := $(CURDIR)/config/fastdds_loopback.xml
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export AMENT_PREFIX_PATH := $(CURDIR)/$(VENV)
export PYTHONUNBUFFERED := 1

SOURCES := $(shell find mtl_hri launch config resource -type f -not -name '*.pyc' 2>/dev/null) setup.py setup.cfg package.xml
MODEL := models/default/model.json

.PHONY: setup demo test footage mediapipe env clean
.DEFAULT_GOAL := demo

$(BIN)/.deps: requirements.txt requirements-nodeps.txt requirements-build.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (ROS 2 wheels need CPython 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install -r requirements-build.txt  # rosidl/ament_cmake: the tests build a vision_msgs fixture
	touch $@

# The bundled model is committed (trained, see models/default/model.json). Only if it is missing,
# an untrained stand-in (ImageNet trunk, random heads, card saying so) is made.
$(MODEL): | $(BIN)/.deps
	PYTHONPATH=$(CURDIR) $(BIN)/python -m mtl_hri.tools.init_model --out models/default

$(BIN)/.installed: $(BIN)/.deps $(MODEL) $(SOURCES) $(wildcard models/default/*)
	$(BIN)/python -m pip install -q --no-deps --force-reinstall .
	$(BIN)/python -c "from ament_index_python.packages import get_package_share_directory as g; print('installed', g('mtl_hri'))"
	touch $@

setup: $(BIN)/.installed

$(MP_VENV)/bin/.deps: requirements-mediapipe.txt
	test -x $(MP_VENV)/bin/python || $(PYTHON) -m venv $(MP_VENV)
	$(MP_VENV)/bin/python -m pip install -q --no-deps -r requirements-mediapipe.txt
	touch $@

mediapipe: $(MP_VENV)/bin/.deps

footage: setup
	$(BIN)/mtl-hri-fetch-footage

# Fresh synthetic clips through DDS, decisions scored against the truth; then real pedestrian footage.
demo: setup footage
	$(BIN)/mtl-hri-demo --synthetic 1 --out demo_out/synthetic
	$(BIN)/mtl-hri-demo --duration 20 --out demo_out/footage

test: setup footage mediapipe
	$(BIN)/python -m pytest test

env:
	@echo "export FASTDDS_DEFAULT_PROFILES_FILE=$(FASTDDS_DEFAULT_PROFILES_FILE) ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST AMENT_PREFIX_PATH=$(AMENT_PREFIX_PATH)"

clean:
	rm -rf build *.egg-info demo_out

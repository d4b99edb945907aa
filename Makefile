# The two README commands: `make live` (set up, then the live window) and `make test`.
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

.PHONY: setup system-deps weights live test clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Debian packages for Qt on X11/Xvfb and OpenCV; installed when apt-get and root (or sudo) exist.
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "install these system packages: $$missing"; exit 0; fi; \
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null

weights: setup
	@$(BIN)/poserec weights verify >/dev/null 2>&1 || $(BIN)/poserec weights install

live: system-deps setup weights
	$(BIN)/poserec live $(ARGS)

test: SYSTEM_PACKAGES += $(TEST_SYSTEM_PACKAGES)
test: system-deps setup
	$(BIN)/python -m pytest $(ARGS)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache

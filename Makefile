# Set-up around the plain MkDocs commands: environments, front-end assets, browser. Behaviour lives
# in mkdocs.yml and scripts/, so `mkdocs serve` inside .venvs/site does what `make serve` does.
PYTHON ?= python3.11
SITE_BIN := .venvs/site/bin
# Every requirements/<env>.lock is an environment; all but "site" are notebook kernels.
ENVS := $(basename $(notdir $(wildcard requirements/*.lock)))
ENV_TARGETS := $(foreach env,$(ENVS),env-$(env))

# uv installs the environments. It is pinned here and installed with pip into .venvs/.uv.
UV_VERSION := 0.13.8
UV := .venvs/.uv/bin/uv
# uv.toml names the package sources. uv does not read pip's configuration: where pip finds the CPU
# build of torch on disk, scripts/commands/package_sources.py gives uv pip's sources instead (asked once).
UV_SOURCES = $(eval UV_SOURCES := $$(shell $(PYTHON) -m scripts.commands.package_sources))$(UV_SOURCES)

# Environments whose record (.venvs/<env>/.installed, see scripts/site/environments.py) does not match
# their lock file: only these are created again, whatever the files' dates say.
STALE_ENVS := $(shell for env in $(ENVS); do \
	$(PYTHON) -m scripts.site.environments check $$env 2>/dev/null || echo $$env; done)

.PHONY: help setup setup-site environments serve preview build test execute new-tool notebook lock \
	linkcheck-external lighthouse browser clang clean FORCE $(ENV_TARGETS)

help:
	@echo "make serve    set up everything, build (executing notebooks) and serve on http://127.0.0.1:8000/field-guide/"
	@echo "make test     set up everything, then run the whole test suite"
	@echo "make build    strict build into site/"
	@echo "make preview  serve without executing notebooks (needs only the site environment)"
	@echo "make env-<name>   create the environment .venvs/<name> again if its lock file changed"
	@echo "make execute SHARD=i/N   execute the i-th of N shares of the stale notebooks into the cache"
	@echo "make new-tool ID=<id> PART=<part> NAME='<Name>'   scaffold a registry entry, page and notebook"

$(UV): $(if $(filter $(UV_VERSION),$(word 2,$(shell $(UV) --version 2>/dev/null))),,FORCE)
	rm -rf .venvs/.uv
	$(PYTHON) -m venv .venvs/.uv
	.venvs/.uv/bin/pip install --quiet uv==$(UV_VERSION)

$(ENV_TARGETS): env-%: .venvs/%/.installed
$(foreach env,$(STALE_ENVS),.venvs/$(env)/.installed): FORCE

# Besides its lock file, every environment gets what `python -m venv` used to add, pinned to the
# versions Python 3.11.7 bundles so that every machine gets the same: torch.compile imports setuptools.
VENV_SEED := pip==23.2.1 setuptools==65.5.0

# uv links each package's files from its cache: environments share what they have in common.
.venvs/%/.installed: | $(UV)
	@echo "==> creating environment '$*': $$($(PYTHON) -m scripts.site.environments check $* 2>&1)"
	rm -rf .venvs/$*
	$(UV) venv --quiet --python $(PYTHON) --python-preference only-system .venvs/$*
	$(UV) pip install --quiet --no-deps --python .venvs/$*/bin/python $(UV_SOURCES) -r requirements/$*.lock $(VENV_SEED)
	@if [ "$*" != site ]; then \
	  .venvs/$*/bin/python -m ipykernel install --prefix .venvs/$* --name fieldguide-$* \
	    --display-name "Field guide ($*)" >/dev/null; fi
	$(PYTHON) -m scripts.site.environments record $*

FORCE:

# llama-cpp-python is published on PyPI as source only: installing it compiles llama.cpp with CMake and the
# machine's C++ compiler (uv keeps the built wheel in its cache). Its multimodal library, which the binding
# loads only for image input, is left out: a third less to compile.
.venvs/llamacpp/.installed: export CMAKE_ARGS := -DLLAVA_BUILD=OFF

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

environments: $(ENV_TARGETS)
setup-site: env-site node_modules/.installed
setup: setup-site environments

# A browser at /usr/bin/chromium: every build draws the charts' static pictures in it, and the browser
# tests drive it. Playwright never downloads one here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "==> installing Debian's chromium for the browser tests"; \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  { echo "error: the build and the browser tests need a Chromium at /usr/bin/chromium;" \
	         "on Debian install it with: sudo apt-get install chromium" >&2; exit 1; }; }

# A C compiler for the tinygrad notebook: tinygrad's CPU device compiles every kernel, and at start-up
# its own worker programs, by running `clang` (Debian's, without the recommended extras).
clang:
	@command -v clang >/dev/null 2>&1 || { \
	  echo "==> installing Debian's clang for the tinygrad notebook"; \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null; } || \
	  { echo "error: the tinygrad notebook needs clang on the PATH;" \
	         "on Debian install it with: sudo apt-get install --no-install-recommends clang" >&2; exit 1; }; }

serve: setup browser clang
	$(SITE_BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

preview: setup-site browser
	FIELDGUIDE_EXECUTE=0 $(SITE_BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: setup browser clang
	$(SITE_BIN)/mkdocs build --strict

test: setup browser clang
	$(SITE_BIN)/python -m pytest

# Lighthouse's mobile performance score of one page of each kind (tests/test_lighthouse.py): kept out
# of `make test` because on a two-core machine the pages score below the bar (CONTRIBUTING.md).
lighthouse: setup browser
	$(SITE_BIN)/python -m pytest -m lighthouse tests/test_lighthouse.py

# One share of the stale notebooks into the cache (.cache/fieldguide/executed), for runners that
# split the work: CI runs SHARD=1/2 and SHARD=2/2 side by side, then builds once from both caches.
execute: environments clang
	@test -n "$(SHARD)" || { echo "usage: make execute SHARD=i/N" >&2; exit 1; }
	$(SITE_BIN)/python -m scripts.commands.execute --shard $(SHARD)

new-tool: setup-site
	$(SITE_BIN)/python -m scripts.commands.new_tool --id "$(ID)" --part "$(PART)" --name "$(NAME)"

# External links need the network: a scheduled workflow runs this, `make test` does not. A preview
# build needs only the site environment (notebooks appear without their outputs, as in `make preview`).
linkcheck-external: setup-site browser
	rm -rf .cache/fieldguide/linkcheck-site
	FIELDGUIDE_EXECUTE=0 $(SITE_BIN)/mkdocs build --strict --site-dir .cache/fieldguide/linkcheck-site
	$(SITE_BIN)/python -m scripts.commands.linkcheck_external .cache/fieldguide/linkcheck-site

# Re-resolve an environment from requirements/<env>.in (and <env>.nodeps.in, installed without
# dependencies) and write its lock file, leaving out the packages named in <env>.exclude.
lock:
	@test -n "$(ENV)" || { echo "usage: make lock ENV=<env>" >&2; exit 1; }
	rm -rf /tmp/fieldguide-lock-$(ENV)
	$(PYTHON) -m venv /tmp/fieldguide-lock-$(ENV)
	/tmp/fieldguide-lock-$(ENV)/bin/pip install --quiet -r requirements/$(ENV).in
	if [ -f requirements/$(ENV).nodeps.in ]; then \
	  /tmp/fieldguide-lock-$(ENV)/bin/pip install --quiet --no-deps -r requirements/$(ENV).nodeps.in; fi
	{ echo "# Generated by 'make lock ENV=$(ENV)' from requirements/$(ENV).in: do not edit."; \
	  /tmp/fieldguide-lock-$(ENV)/bin/pip freeze --exclude-editable | \
	  if [ -f requirements/$(ENV).exclude ]; then \
	    grep -v -i -E "^($$(grep -v '^#' requirements/$(ENV).exclude | paste -sd'|' -))=="; else cat; fi; \
	} > requirements/$(ENV).lock

clean:
	rm -rf site .cache

# Execute notebooks (or take them from the cache) and print their outputs: make notebook ID=pytorch
notebook: setup clang
	$(SITE_BIN)/python -m scripts.commands.run_notebook $(ID)

# Two entry points (see README): `make test` and `make book`. Both build .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export MPLBACKEND := Agg

.PHONY: venv test test-cpu-paths book lab notebooks clean bench slides student

venv: $(STAMP)

# The package with its three extras, every version pinned by constraints.txt (torch: the CPU wheel
# 2.13.0 where a local wheel is offered, see README).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip -c constraints.txt
	$(BIN)/python -m pip install --quiet -e ".[notebooks,book,test]" -c constraints.txt
	touch $(STAMP)

# Unit tests, then every notebook re-executed by nbval and compared with its committed outputs,
# in kernels that cannot reach the network (tests/no_network.py runs at kernel start).
test: $(STAMP)
	$(BIN)/python -m pytest tests
	rm -rf $(VENV)/ipython && mkdir -p $(VENV)/ipython/profile_default/startup
	cp tests/no_network.py $(VENV)/ipython/profile_default/startup/
	IPYTHONDIR=$(CURDIR)/$(VENV)/ipython $(BIN)/python -m pytest --nbval --nbval-current-env --nbval-cell-timeout=120 \
		--nbval-sanitize-with notebooks/sanitize.cfg notebooks

# The unit and property tests again on other CPU code paths: ATen's portable default kernels, its
# AVX2 kernels, and two intra-op threads (`make test` runs the native kernels on one thread). The
# browser tests, the light-install test and nbval do not depend on the code path: `make test` runs them.
UNIT_TESTS := tests --ignore=tests/test_browser_book.py --ignore=tests/test_browser_explorer.py \
	--ignore=tests/test_light_install.py
test-cpu-paths: $(STAMP)
	ATEN_CPU_CAPABILITY=default $(BIN)/python -m pytest -q $(UNIT_TESTS)
	ATEN_CPU_CAPABILITY=avx2 $(BIN)/python -m pytest -q $(UNIT_TESTS)
	LSTM_TEACH_TEST_THREADS=2 $(BIN)/python -m pytest -q $(UNIT_TESTS)

# Re-execute every notebook in place (after a package change), then `make test` checks them.
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace notebooks/[0-9]*.ipynb

book: $(STAMP)
	$(BIN)/python book/build.py

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf book/_build

# A chapter as a reveal.js deck: `make slides CHAPTER=06` (a number or a notebook name;
# without CHAPTER, every chapter) writes book/_build/slides/NAME.slides.html, with
# reveal.js, MathJax and the widget manager copied next to it. Fails if a deck would
# load anything from the network.
slides: $(STAMP)
	$(BIN)/python book/slides.py $(CHAPTER)

# The chapter notebooks without their solutions (cells tagged "solution"), to hand out:
# book/_build/student/NN_*.ipynb. The exercises and their folded checks stay.
student: $(STAMP)
	$(BIN)/python book/student.py

# Chapter 7's explorers as a stand-alone page for a lecture (Voilà: code hidden, widgets live) at
# http://127.0.0.1:8866 ; it opens a browser tab. Headless: make explorer VOILA_ARGS=--no-browser
.PHONY: explorer
explorer: $(STAMP)
	$(BIN)/voila --Voila.ip=127.0.0.1 --port=8866 --strip_sources=True --theme=light \
		$(VOILA_ARGS) notebooks/07_interactive_explorer.ipynb

# Speed and memory against captum and shap; writes benchmarks/RESULTS.md (about 3 minutes).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

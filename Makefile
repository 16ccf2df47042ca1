# Storefront — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
EDGE_PY := .venv-edge/bin/python
COVERAGE_MIN := 95
APP_COVERAGE_MIN := 92
# The node's coverage from its own tests is 94% (tests/edge, tests/contract); the gate sits below.
EDGE_COVERAGE_MIN := 92

.PHONY: help setup test lint typecheck pytest pytest-edge demo stop drill bench bench-ha bench-data bench-app bench-offers accuracy accuracy-rates accuracy-shelves screenshots lock clean

## setup: Debian packages, Python 3.14 and .venv, the node's Python 3.11 .venv-edge, footage (idempotent)
setup:
	@scripts/setup.sh

## test: set up, lint, type-check, run every test with the integration's and the node's
##   coverage gates, then the edge node's tests again on Python 3.11 (Raspberry Pi OS bookworm's)
test: setup lint typecheck pytest pytest-edge

## help: this list of targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## lint: ruff check and ruff format --check on the whole tree
lint:
	$(VENV)/bin/ruff check --no-cache .
	$(VENV)/bin/ruff format --check --no-cache .

## typecheck: mypy --strict on the integration, the analyst app, the node (also as Python 3.11)
##   and storefront_dev
typecheck:
	$(VENV)/bin/mypy --strict custom_components/storefront
	$(VENV)/bin/mypy --strict streamlit_app
	# The node and the simulator it can run (`storefront-edge simulate`) on a Pi's Python 3.11.
	$(VENV)/bin/mypy --strict --python-version 3.11 edge_node storefront_dev/simulator.py \
	  storefront_dev/synthetic.py
	$(VENV)/bin/mypy --strict --follow-imports=silent storefront_dev  # the integration: checked above

## pytest: every test on Python 3.14 and Home Assistant, with the integration's, the analyst
##   app's and the node's coverage gates
pytest:
	$(PY) -m pytest --cov --cov-report= -p no:cacheprovider
	$(PY) -m coverage report --include='custom_components/storefront/*' --fail-under=$(COVERAGE_MIN)
	$(PY) -m coverage report --include='streamlit_app/*' --fail-under=$(APP_COVERAGE_MIN)
	$(PY) -m coverage report --include='edge_node/*' --fail-under=$(EDGE_COVERAGE_MIN)

## pytest-edge: the edge node's tests in .venv-edge (Python 3.11, no Home Assistant)
pytest-edge:
	$(EDGE_PY) -m pytest tests/edge -p no:cacheprovider

## bench: speed and memory figures as JSON in .run/bench/ (see docs/benchmarks.md)
BENCH := .run/bench
VTEST := .assets/vtest.avi
EDGE := $(VENV)/bin/storefront-edge
bench: setup
	mkdir -p $(BENCH)
	$(PY) -m storefront_dev.footage quiet $(VTEST) $(BENCH)/quiet.avi
	$(EDGE) bench --video $(VTEST) --models --output $(BENCH)/edge_vtest.json
	$(EDGE) bench --video $(VTEST) --motion --output $(BENCH)/edge_vtest_motion.json
	$(EDGE) bench --video $(BENCH)/quiet.avi --output $(BENCH)/edge_quiet.json
	$(EDGE) bench --video $(BENCH)/quiet.avi --motion --output $(BENCH)/edge_quiet_motion.json
	$(EDGE) bench --video $(VTEST) --model ssdlite --output $(BENCH)/edge_vtest_ssdlite.json
	$(EDGE) bench --video $(VTEST) --model ssdlite-int8 --output $(BENCH)/edge_vtest_int8.json
	$(PY) -m tests.bench.bench_edge_mqtt --video $(VTEST) > $(BENCH)/edge_mqtt.json
	$(PY) -m tests.bench.summary $(BENCH)

## bench-ha: how much the integration absorbs from a real broker (20 nodes)
bench-ha: setup
	$(PY) -m pytest tests/integration/test_bench_ha.py -m bench -s -q -p no:cacheprovider

## bench-data: InfluxDB export throughput and loss across an outage (docs/benchmarks.md)
bench-data: setup
	mkdir -p $(BENCH)
	$(PY) -m tests.bench.bench_export | tee $(BENCH)/export.json

## bench-app: the analyst app's page queries on 90 days x 10 nodes of minute-level data
bench-app: setup
	mkdir -p $(BENCH)
	$(PY) -m tests.bench.bench_streamlit | tee $(BENCH)/streamlit.json

## bench-offers: the offer policy replayed on the Open Bandit Dataset sample (docs/benchmarks.md)
bench-offers: setup
	mkdir -p $(BENCH)
	$(PY) tools/replay_obd.py --calibration | tee $(BENCH)/offers_calibration.json
	$(PY) tools/replay_obd.py | tee $(BENCH)/offers.json

## accuracy: the node's counts on vtest.avi against the hand-made labels (docs/accuracy.md)
accuracy: setup
	mkdir -p $(BENCH)
	$(EDGE) eval --video $(VTEST) --line 0.42,0,0.42,1 --output $(BENCH)/eval_vtest.json
	$(EDGE) score --eval $(BENCH)/eval_vtest.json --labels tests/data/vtest_labels.json \
	  --output $(BENCH)/accuracy_vtest.json
	cat $(BENCH)/accuracy_vtest.json

## accuracy-rates: both bundled detectors at lower detection rates, scored on both halves
accuracy-rates: setup
	mkdir -p $(BENCH)
	$(PY) tools/accuracy_rates.py --video $(VTEST) --labels tests/data/vtest_labels.json \
	  --models bundled,ssdlite --rates 10,7,6,5,4,3,2 | tee $(BENCH)/accuracy_rates.jsonl

## accuracy-personas: personas and groups on vtest.avi against the hand-made persona labels
##   (no counting line: the walkway has no shop door, so no one is a passer-by for not coming in)
.PHONY: accuracy-personas
accuracy-personas: setup
	mkdir -p $(BENCH)
	$(EDGE) eval --video $(VTEST) --output $(BENCH)/eval_vtest_personas.json
	$(EDGE) score --eval $(BENCH)/eval_vtest_personas.json --labels tests/data/vtest_personas.json \
	  --output $(BENCH)/accuracy_vtest_personas.json
	cat $(BENCH)/accuracy_vtest_personas.json

## accuracy-shelves: shelf changes and stock on the composed scoring scenes (docs/accuracy.md)
accuracy-shelves: setup
	mkdir -p $(BENCH)/shelves
	$(PY) -m storefront_dev.shelf_accuracy .assets $(BENCH)/shelves | tee $(BENCH)/accuracy_shelves.json

## demo: the whole system on 127.0.0.1 — broker, InfluxDB, Home Assistant, a camera node on the
##   bundled footage, the analyst app (storefront_dev/demo.py). In the foreground until Ctrl-C or
##   make stop; DETACH=1 returns once everything is up; SIMULATE=N adds N synthetic nodes
##   and their last HISTORY_DAYS (default 7) days in InfluxDB.
demo: setup
	$(PY) -m storefront_dev.demo $(if $(filter 1 yes true,$(DETACH)),--detach) \
	  $(if $(SIMULATE),--simulate $(SIMULATE)) $(if $(HISTORY_DAYS),--history-days $(HISTORY_DAYS))

## drill: the demo stack through four faults (broker, node, Home Assistant, InfluxDB) and 3,000
##   hostile payloads, counted end to end as JSON (storefront_dev/drill.py); QUICK=1 shortens
##   the pauses, INFLUX_DOWN=S sets InfluxDB's outage (default 60 s), FAULTS=broker,node,ha,influxd
##   picks faults
drill: setup
	$(PY) -m storefront_dev.drill $(if $(filter 1 yes true,$(QUICK)),--quick) \
	  $(if $(INFLUX_DOWN),--influx-down $(INFLUX_DOWN)) $(if $(FAULTS),--faults $(FAULTS))

## stop: stop everything `make demo` started, by pid, and wait until it has exited
stop:
	@$(if $(wildcard $(PY)),$(PY),python3) -m storefront_dev.demo stop

## screenshots: the browser tests' pictures of the analyst app and the panel replace the README's
screenshots: setup
	STOREFRONT_UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/streamlit/test_browser.py \
	  tests/panel/test_browser.py -q -p no:cacheprovider

## lock: re-resolve pinned dependencies after editing requirements/*.in
lock:
	$(VENV)/bin/uv pip compile requirements/test.in --python $(PY) \
	  --python-platform x86_64-manylinux_2_28 -o requirements/lock.txt
	$(VENV)/bin/uv pip compile requirements/edge-test.in --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 -o requirements/edge-lock.txt

## clean: remove both venvs, the footage and everything under .run
clean:
	rm -rf $(VENV) $(VENV)-edge .assets .run

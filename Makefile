# The two commands: `make run` starts the assistant, `make test` runs every check.
# Both set up .venv first (Python 3.10, locked versions) and train the model only when its inputs changed.
VENV := .venv
BIN := $(VENV)/bin
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export OMP_NUM_THREADS := 1

.PHONY: run test lint typecheck validate pytest stories train lock bench

run: $(VENV)/.installed
	$(BIN)/kejibang run

test: lint typecheck train validate pytest stories

$(VENV)/.installed: pyproject.toml constraints.txt scripts/bootstrap
	./scripts/bootstrap

lint: $(VENV)/.installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

train: $(VENV)/.installed
	$(BIN)/kejibang train

validate: $(VENV)/.installed
	$(BIN)/kejibang validate

pytest: $(VENV)/.installed train
	$(BIN)/python -m pytest

stories: $(VENV)/.installed train
	$(BIN)/rasa test core --stories tests/stories --model "$$($(BIN)/kejibang train)" \
		--fail-on-prediction-errors --out var/story-results

bench: $(VENV)/.installed
	$(BIN)/kejibang bench matching

# Regenerate the lock after changing pyproject.toml (one resolve, Rasa's pins included).
lock:
	rm -rf /tmp/kejibang-lock && python3.10 -m venv /tmp/kejibang-lock
	/tmp/kejibang-lock/bin/pip install --quiet -e ".[dev]"
	(echo "# Lock for a fresh install: pip install -c constraints.txt -e .[dev]  (regenerate with: make lock)"; \
	 /tmp/kejibang-lock/bin/pip freeze --exclude-editable | grep -v '^-e') > constraints.txt

# The project's verbs. Logic lives in scripts/; each target is a line or two.
.PHONY: build demo test unit acceptance stack-up stack-down fmt lint clean docs docs-check

CARGO ?= cargo

build:
	$(CARGO) build

## Build the provider, bring the local stack up, apply examples/terraform/quickstart, print outputs.
demo:
	bash scripts/demo.sh

## Unit tests + acceptance tests against a fresh local stack (started and stopped here).
test:
	bash scripts/test.sh

unit:
	$(CARGO) test --lib --bins

acceptance:
	bash scripts/test.sh --acceptance-only

## Start / stop the local stack (moto for S3+IAM+STS, tansu for Kafka) on free loopback ports.
stack-up:
	bash scripts/stack-up.sh

stack-down:
	bash scripts/stack-down.sh

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## Registry docs in docs/, generated from the built provider's schema and examples/.
docs:
	bash scripts/tools.sh && $(CARGO) build
	python3 scripts/docs.py generate --provider-dir "$(or $(CARGO_TARGET_DIR),target)/debug"

## Fail (with a diff) when docs/ differs from what `make docs` would write, or an example is invalid.
docs-check:
	bash scripts/tools.sh && $(CARGO) build
	python3 scripts/docs.py check --provider-dir "$(or $(CARGO_TARGET_DIR),target)/debug"

clean:
	$(CARGO) clean

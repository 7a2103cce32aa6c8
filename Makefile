# The project's verbs. Logic lives in scripts/; each target is a line or two.
# soak: see below
.PHONY: soak build demo mesh test unit acceptance stack-up stack-down fmt lint clean docs docs-check install release fuzz bench

CARGO ?= cargo

build:
	$(CARGO) build

## Build the provider, bring the local stack up, apply examples/terraform/quickstart, print outputs.
demo:
	bash scripts/demo.sh

## Draw the demo's mesh (after make demo) into target/mesh/mesh.html; prints the path.
mesh:
	bash scripts/mesh.sh

## Unit tests + acceptance tests against a fresh local stack (started and stopped here).
test:
	bash scripts/test.sh

unit:
	$(CARGO) test --workspace --lib --bins
	$(CARGO) test -p tfplugin -p backend-wire --doc

acceptance:
	bash scripts/test.sh --acceptance-only

## Start / stop the local stack on free loopback ports (STACK_SERVICES=s3,kafka,... for a subset; default all).
stack-up:
	bash scripts/stack-up.sh

stack-down:
	bash scripts/stack-down.sh

fmt:
	$(CARGO) fmt --all

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p tfplugin --no-default-features -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

## Registry docs in docs/, generated from the built provider's schema and examples/.
docs:
	bash scripts/tools.sh && $(CARGO) build
	python3 scripts/docs.py generate --provider-dir "$(or $(CARGO_TARGET_DIR),target)/debug"

## Fail (with a diff) when docs/ differs from what `make docs` would write, or an example is invalid.
docs-check:
	bash scripts/tools.sh && $(CARGO) build
	python3 scripts/docs.py check --provider-dir "$(or $(CARGO_TARGET_DIR),target)/debug"

## Release build into a Terraform filesystem mirror (DIR=..., default target/mirror); prints the CLI config.
install:
	bash scripts/install.sh $(if $(DIR),"$(DIR)")

## Release zip, SHA256SUMS and registry manifest in target/release-artifacts (or OUT=...).
release:
	bash scripts/release.sh $(if $(OUT),--out "$(OUT)")

## Fuzz the decoders of Terraform's values, the parsers of the backends' answers and the CQL quoting, 300 s per target (`bash scripts/fuzz.sh SECONDS` for other lengths).
fuzz:
	bash scripts/fuzz.sh 300

## Benchmarks against the Go null provider and the backends' own limit (issue 6): release build,
## then bench/results.json and bench/results.md. A report, not a test; not part of `make test`.
bench:
	bash scripts/bench.sh

## Load test: 1,000 streams + 200 products + 1,000 grants, apply/plan/destroy (local stack).
soak:
	bash scripts/test.sh --soak

clean:
	$(CARGO) clean

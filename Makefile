# The two commands a fresh machine needs (see README.md):
#   make run    serve the contract on the embedded default (SQLite under ./data, no provider)
#   make test   the whole suite: unit, API, store (SQLite and PostgreSQL), e2e (WireMock in Docker)
# Everything else supports them.
GO        ?= go
REDOCLY   ?= npx --yes @redocly/cli@2.77.0
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
SPECTRAL  ?= npx --yes @stoplight/spectral-cli@6.16.3
OASDIFF   ?= $(GO) run github.com/oasdiff/oasdiff@v1.37.0
# The released contract consumers generated their clients from, and the breaking changes of
# openapi.yaml against it that were accepted deliberately (each with its CHANGELOG.md entry).
RELEASED_CONTRACT = api/released/openapi.yaml
ACCEPTED_BREAKING = api/accepted-breaking.txt
GOTESTSUM ?= $(GO) run gotest.tools/gotestsum@v1.13.0
# The provider suite: the service in front of one WireMock per identity provider, and each
# adapter against its mocks. JUnit XML goes to reports/ (gitignored) for CI and QA.
E2E_PKGS   = ./e2e/... ./internal/provider/...
REPORTS    = reports
UO_IMAGE  ?= usersorchestrator:dev
# Our packages; gen/ is generated code and is linted by its generator, not by us.
PKGS       = $$($(GO) list ./... | grep -v /gen/)
TEST_ENV   = .tools/test.env

export TESTCONTAINERS_RYUK_DISABLED := true

.PHONY: run build generate check-generate lint ts-check breaking release-contract test test-unit test-infra fuzz bench soak image e2e e2e-image \
        mocks-image mocks-up mocks-down clean-test-containers

## run: serve the API on 127.0.0.1:8080 with the built-in configuration
run:
	$(GO) run ./cmd/usersorchestrator serve

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/usersorchestrator ./cmd/usersorchestrator

## generate: rewrite gen/ from openapi.yaml
generate:
	$(GO) generate ./gen/...

## check-generate: fail when gen/ is not what openapi.yaml generates (CI)
check-generate: generate
	@git diff --exit-code -- gen openapi.yaml || (echo "make generate changed gen/: commit the regenerated code" && exit 1)
	@test -z "$$(git status --porcelain -- gen)" || (git status --porcelain -- gen; echo "make generate left untracked files in gen/" && exit 1)

## lint: the contract (Redocly's recommended-strict, Spectral's spectral:oas with nothing reported), gofmt, go vet, staticcheck
lint:
	$(REDOCLY) lint openapi.yaml
	$(SPECTRAL) lint --ruleset .spectral.yaml --fail-severity=hint openapi.yaml
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt would change these files" && exit 1)
	$(GO) vet ./...
	$(GO) vet -tags e2e ./...
	$(STATICCHECK) $(PKGS)

## ts-check: generate the TypeScript clients from openapi.yaml with the default settings of
## openapi-typescript (+ openapi-fetch) and @hey-api/openapi-ts, and type-check a consumer of each
## (create, get, authenticate) with TypeScript 5.9; versions pinned in clients/typescript/package-lock.json
ts-check:
	cd clients/typescript && npm ci --no-audit --no-fund && npm run generate && npm run check

## breaking: fail when openapi.yaml breaks the released contract (oasdiff), except for the
## breaking changes listed in api/accepted-breaking.txt
breaking:
	$(OASDIFF) breaking --fail-on ERR --err-ignore $(ACCEPTED_BREAKING) $(RELEASED_CONTRACT) openapi.yaml

## release-contract: make openapi.yaml the released contract. Deliberate: openapi.yaml's
## info.version must be new and have its "## <version>" entry in CHANGELOG.md.
release-contract:
	@v=$$(sed -n 's/^  version: *//p' openapi.yaml | head -n 1); \
	old=$$(sed -n 's/^  version: *//p' $(RELEASED_CONTRACT) | head -n 1); \
	test "$$v" != "$$old" || { echo "info.version is still $$old: raise it first"; exit 1; }; \
	grep -q "^## $$v" CHANGELOG.md || { echo "CHANGELOG.md has no '## $$v' entry"; exit 1; }; \
	cp openapi.yaml $(RELEASED_CONTRACT) && : > $(ACCEPTED_BREAKING) && echo "released contract: $$old -> $$v"

## test: the whole suite, on a fresh machine too (brings up Docker, the WireMock image, PostgreSQL).
## The packages with WireMock containers (build tag e2e) run two at a time (-p 2): they mostly wait
## (JVM starts, rate-limit resets, delayed answers), so the e2e package runs beside the adapters'
## suites in about half the time of -p 1; more at once on two cores starves the JVMs and the
## providers' timeouts for no gain (measured: README.md, Tests).
test: test-infra
	. ./$(TEST_ENV) && $(GO) test -count=1 ./...
	. ./$(TEST_ENV) && $(GO) test -count=1 -p 2 -timeout 20m -tags e2e ./e2e/... ./internal/provider/... ./internal/testkit/...
	$(MAKE) fuzz

## e2e: the provider suite alone, with a JUnit report in reports/e2e.xml (gotestsum)
e2e: test-infra
	@mkdir -p $(REPORTS)
	. ./$(TEST_ENV) && $(GOTESTSUM) --format testname --junitfile $(REPORTS)/e2e.xml -- \
		-count=1 -p 2 -timeout 20m -tags e2e $(E2E_PKGS)

## e2e-image: the e2e suite against the container image `make image` builds (UO_IMAGE) instead of
## the service in the test process, so the shipped artifact is what is tested; reports/e2e-image.xml
e2e-image: test-infra image
	@mkdir -p $(REPORTS)
	. ./$(TEST_ENV) && UO_E2E_IMAGE=$(UO_IMAGE) $(GOTESTSUM) --format testname --junitfile $(REPORTS)/e2e-image.xml -- \
		-count=1 -p 1 -timeout 30m -tags e2e ./e2e/...

## test-unit: the suite without Docker or PostgreSQL (e2e left out, PostgreSQL tests skip)
test-unit:
	$(GO) test ./...

## test-infra: Docker engine, WireMock image, PostgreSQL; writes their settings to .tools/test.env
test-infra:
	@mkdir -p .tools
	bash scripts/test-infra.sh > $(TEST_ENV).tmp && mv $(TEST_ENV).tmp $(TEST_ENV)

## fuzz: every Fuzz* target for FUZZTIME each, from its committed corpus (testdata/fuzz/<Target>);
## a failure leaves its input there: commit it as a seed with the fix (scripts/fuzz.sh says more,
## and which failure of Go's own coordinator it passes over).
FUZZTIME ?= 20s
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash scripts/fuzz.sh

## bench: load benchmark of the service against a bare gin baseline: SQLite, then PostgreSQL (one and two
## instances) when a DSN is set or .tools/test.env (make test-infra) names one; else those rows are skipped
bench:
	bash scripts/bench.sh

## soak: the release binary for SOAK_DURATION (default 10m) under a steady mixed load at half the
## machine's CPU, the pruner at a short retention, one SIGKILL and restart; fails when a
## metric grows after the warm-up, a request fails or the restart lost anything. Writes soak/
## (samples.csv, a PNG per metric, summary.txt). Not part of `make test`.
soak:
	bash scripts/soak.sh

## image: the FROM scratch image, smoke-tested
image:
	bash scripts/image.sh

## mocks-image: the WireMock 3.13.2 image (built locally when it cannot be pulled)
mocks-image:
	bash scripts/wiremock-image.sh

## mocks-up: one WireMock per provider on fixed loopback ports, printing the config to use them
mocks-up:
	bash scripts/mocks-up.sh

## mocks-down: stop what mocks-up started
mocks-down:
	bash scripts/mocks-down.sh

## clean-test-containers: remove WireMock containers left by crashed test runs
clean-test-containers:
	bash scripts/wiremock-leftovers.sh

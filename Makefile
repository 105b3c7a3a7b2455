# The two commands a fresh machine needs: `make run` (the service on its embedded default) and
# `make test` (the whole suite). Everything else supports them.
GO      ?= go
REDOCLY ?= npx --yes @redocly/cli@2.77.0

.PHONY: run build generate check-generate lint test

run:
	$(GO) run ./cmd/usersorchestrator serve

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/usersorchestrator ./cmd/usersorchestrator

generate:
	$(GO) generate ./gen/...

# CI: generation must be reproducible and committed.
check-generate: generate
	@git diff --exit-code -- gen openapi.yaml || (echo "make generate changed gen/: commit the regenerated code" && exit 1)
	@test -z "$$(git status --porcelain -- gen)" || (git status --porcelain -- gen; echo "make generate left untracked files in gen/" && exit 1)

lint:
	$(REDOCLY) lint openapi.yaml
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt would change these files" && exit 1)
	$(GO) vet ./...

test:
	$(GO) test ./...

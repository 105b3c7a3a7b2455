// Package usersorchestrator holds the contract: openapi.yaml, embedded so that the server serves,
// and every test reads, exactly the file in the repository.
package usersorchestrator

import _ "embed"

// OpenAPI is the content of openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Package client is the typed client generated from openapi.yaml (ClientWithResponses). Only this
// file and config.yaml are written by hand; run `make generate`.
package client

//go:generate go tool oapi-codegen -config config.yaml ../../openapi.yaml

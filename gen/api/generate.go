// Package api is generated from openapi.yaml: the models, the gin strict-server interface and the
// embedded spec. Only this file and config.yaml are written by hand; run `make generate`.
package api

//go:generate go tool oapi-codegen -config config.yaml ../../openapi.yaml

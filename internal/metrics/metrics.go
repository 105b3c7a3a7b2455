// Package metrics is the service's Prometheus instrumentation: API requests by operation and
// message code and their latency, the identity providers' calls by outcome and their latency, and
// the outbox backlog. Everything lives on a registry the Metrics value owns, never on the global
// default registry, so that two services in one process (the tests start many) keep their own
// counts and nothing registers twice.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "usersorchestrator"

// NoOperation is the operation label of requests that match no operation of the contract.
const NoOperation = "none"

// NoCode is the code label of an API request that was answered without a message code (a
// response the server failed to write, a client that went away before the answer).
const NoCode = "none"

// DefaultBacklogTimeout bounds the outbox count made at each scrape: a slow database must not
// hold the scrape (Prometheus gives up after its own timeout, 10 s by default, and would then lose
// every other metric of the scrape too).
const DefaultBacklogTimeout = 2 * time.Second

// liveHeap adds go_gc_heap_live_bytes to the Go collector's defaults.
var liveHeap = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}

// Buckets of the API latency: most answers take 0.1-50 ms (store only); those that call an
// identity provider take up to seconds (one attempt may take 5 s, retries included up to ~16 s).
var requestBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20}

// Buckets of one provider call: a network round trip (a few ms at best), up to the adapter's
// timeout of 5 s per attempt times its retries.
var providerBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20}

// Options configure New.
type Options struct {
	// Backlog counts the unsent emails (registration.Store.OutboxBacklog); it is called at each
	// scrape. Nil leaves the gauge out.
	Backlog func(ctx context.Context) (int64, error)
	// BacklogTimeout bounds one Backlog call; DefaultBacklogTimeout when zero.
	BacklogTimeout time.Duration
	// Log receives the errors of a scrape (a failed backlog count).
	Log *slog.Logger
}

// Metrics holds the service's collectors and the registry they are registered on.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	requests         *prometheus.CounterVec
	requestDuration  *prometheus.HistogramVec
	providerCalls    *prometheus.CounterVec
	providerDuration *prometheus.HistogramVec
}

// New builds the collectors and registers them, with the Go runtime and process collectors, on a
// registry of their own.
func New(o Options) *Metrics {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.BacklogTimeout <= 0 {
		o.BacklogTimeout = DefaultBacklogTimeout
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "API requests by the contract's operationId (\"none\": no operation matched) and the message code answered.",
		}, []string{"operation", "code"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an API request, by the contract's operationId.",
			Buckets: requestBuckets,
		}, []string{"operation"}),
		providerCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "provider", Name: "calls_total",
			Help: "Calls to the identity providers by provider, call (AuthSystem method) and outcome (success or the provider error kind).",
		}, []string{"provider", "call", "outcome"}),
		providerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "provider", Name: "call_duration_seconds",
			Help:    "Duration of a call to an identity provider, retries included, by provider and call.",
			Buckets: providerBuckets,
		}, []string{"provider", "call"}),
	}
	m.reg.MustRegister(
		// Go's defaults, plus the heap still live after the last collection: heap_alloc saws
		// with every collection, the live heap is what shows a leak (`make soak` judges it).
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(liveHeap)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		m.requests, m.requestDuration, m.providerCalls, m.providerDuration,
	)
	if o.Backlog != nil {
		m.reg.MustRegister(&backlogCollector{
			count:   o.Backlog,
			timeout: o.BacklogTimeout,
			desc: prometheus.NewDesc(prometheus.BuildFQName(namespace, "outbox", "backlog"),
				"Emails in the outbox not sent yet, counted at scrape time.", nil, nil),
		})
	}
	// ContinueOnError: a failing collector (the database does not answer the backlog count) is
	// logged and left out, and the scrape still carries every other metric.
	m.handler = promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	}))
	return m
}

// Registry is the registry the metrics are on (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Mount serves GET /metrics beside api, on the same listener. It is dispatched ahead of api, so
// scrapes stay out of the API's middleware (access log, request counts) and cannot be mistaken
// for API traffic; every other request goes to api untouched (no http.ServeMux, whose path
// cleaning and redirects would change how the API answers odd paths).
//
// /metrics has no authentication, as is usual for a scrape endpoint on an internal port: it shows
// operation ids, message codes, provider names and counts, never tenants, users or request data.
// A deployment that publishes the port beyond its network routes only /v4 to it (the same holds
// for /healthz, /readyz and /docs).
func (m *Metrics) Mount(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			m.handler.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// Gin is the gin middleware that counts and times API requests. It must run first (outermost),
// so that it sees the whole request and what every later middleware decided. outcome reads what
// the API made of the request once it is answered: the operation the contract's validator matched
// ("" when the request did not get that far) and the message code answered
// (httpapi.RequestOutcome). routes maps gin routes to operations (Routes), for the requests
// refused before validation (401, 403, 413, unknown tenant), which still belong to an operation.
//
// Requests to the service's own routes (/healthz, /readyz, /docs, /openapi.yaml) are not counted:
// they are not API traffic, and probes every few seconds would drown the counts.
func (m *Metrics) Gin(routes map[string]string, outcome func(c *gin.Context) (operation, code string)) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		operation, code := outcome(c)
		if operation == "" {
			route := c.FullPath()
			switch op, ok := routes[c.Request.Method+" "+route]; {
			case ok:
				operation = op
			case route == "":
				operation = NoOperation
			default:
				return
			}
		}
		if code == "" {
			code = NoCode
		}
		m.requests.WithLabelValues(operation, code).Inc()
		m.requestDuration.WithLabelValues(operation).Observe(time.Since(start).Seconds())
	}
}

// pathParam is an OpenAPI path template parameter, "{name}".
var pathParam = regexp.MustCompile(`\{([^{}/]+)\}`)

// Routes maps each operation of the contract by its gin route, "METHOD /v4/Users/:id", to its
// operationId. The generated server registers exactly the contract's paths, with {name} written
// :name, so gin's FullPath of a matched request is one of these keys.
func Routes(doc *openapi3.T) map[string]string {
	routes := map[string]string{}
	for path, item := range doc.Paths.Map() {
		ginPath := pathParam.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			routes[method+" "+ginPath] = op.OperationID
		}
	}
	return routes
}

// backlogCollector reports the outbox backlog, counted when Prometheus scrapes: a gauge updated
// by the worker would go stale whenever the worker stalls, which is when the number matters.
type backlogCollector struct {
	count   func(ctx context.Context) (int64, error)
	timeout time.Duration
	desc    *prometheus.Desc
}

func (b *backlogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	// Collect gets no context from the registry; the timeout keeps a slow database from holding
	// the scrape.
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	n, err := b.count(ctx)
	if err != nil {
		// The gauge is absent from this scrape rather than a made-up 0: absent() alerts catch it.
		ch <- prometheus.NewInvalidMetric(b.desc, fmt.Errorf("count the outbox backlog: %w", err))
		return
	}
	ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, float64(n))
}

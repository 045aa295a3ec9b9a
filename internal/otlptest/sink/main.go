// Command sink is an OpenTelemetry OTLP/HTTP receiver for aieval's tests:
// the collector's own otlpreceiver, feeding consumers that record what
// arrives. It prints "OTLP <url> DUMP <url>" once listening; GET on the
// dump URL returns everything received so far as flat JSON. It exits when
// its standard input closes, so a test that dies leaves no process behind.
//
// It is its own module: the collector's dependencies stay out of aieval's
// go.mod and binary.
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
)

// Span is one received span, flattened.
type Span struct {
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	TraceID    string         `json:"trace_id"`
	SpanID     string         `json:"span_id"`
	ParentID   string         `json:"parent_span_id"`
	StartNanos uint64         `json:"start_unix_nano"`
	EndNanos   uint64         `json:"end_unix_nano"`
	Status     string         `json:"status"`
	StatusMsg  string         `json:"status_message"`
	Attrs      map[string]any `json:"attributes"`
	Resource   map[string]any `json:"resource"`
	Scope      string         `json:"scope"`
}

// Point is one data point of a received metric.
type Point struct {
	Metric string         `json:"metric"`
	Type   string         `json:"type"`
	Unit   string         `json:"unit"`
	Attrs  map[string]any `json:"attributes"`
	Value  float64        `json:"value"` // sum or gauge value; a histogram's sum
	Count  uint64         `json:"count"` // a histogram's count
}

// Dump is everything received, with the request headers seen.
type Dump struct {
	Spans   []Span              `json:"spans"`
	Points  []Point             `json:"points"`
	Headers map[string][]string `json:"headers"`
}

type recorder struct {
	mu sync.Mutex
	d  Dump
}

func attrs(m pcommon.Map) map[string]any {
	out := map[string]any{}
	m.Range(func(k string, v pcommon.Value) bool {
		out[k] = v.AsRaw()
		return true
	})
	return out
}

func (r *recorder) traces(_ context.Context, td ptrace.Traces) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		rs := td.ResourceSpans().At(i)
		res := attrs(rs.Resource().Attributes())
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			ss := rs.ScopeSpans().At(j)
			for k := 0; k < ss.Spans().Len(); k++ {
				s := ss.Spans().At(k)
				tid, sid, pid := s.TraceID(), s.SpanID(), s.ParentSpanID()
				parent := ""
				if !pid.IsEmpty() {
					parent = hex.EncodeToString(pid[:])
				}
				r.d.Spans = append(r.d.Spans, Span{
					Name: s.Name(), Kind: s.Kind().String(),
					TraceID: hex.EncodeToString(tid[:]), SpanID: hex.EncodeToString(sid[:]), ParentID: parent,
					StartNanos: uint64(s.StartTimestamp()), EndNanos: uint64(s.EndTimestamp()),
					Status: s.Status().Code().String(), StatusMsg: s.Status().Message(),
					Attrs: attrs(s.Attributes()), Resource: res, Scope: ss.Scope().Name(),
				})
			}
		}
	}
	return nil
}

func (r *recorder) metrics(_ context.Context, md pmetric.Metrics) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			sm := rm.ScopeMetrics().At(j)
			for k := 0; k < sm.Metrics().Len(); k++ {
				m := sm.Metrics().At(k)
				add := func(p Point) {
					p.Metric, p.Type, p.Unit = m.Name(), m.Type().String(), m.Unit()
					r.d.Points = append(r.d.Points, p)
				}
				switch m.Type() {
				case pmetric.MetricTypeSum:
					for n := 0; n < m.Sum().DataPoints().Len(); n++ {
						dp := m.Sum().DataPoints().At(n)
						add(Point{Attrs: attrs(dp.Attributes()), Value: number(dp)})
					}
				case pmetric.MetricTypeGauge:
					for n := 0; n < m.Gauge().DataPoints().Len(); n++ {
						dp := m.Gauge().DataPoints().At(n)
						add(Point{Attrs: attrs(dp.Attributes()), Value: number(dp)})
					}
				case pmetric.MetricTypeHistogram:
					for n := 0; n < m.Histogram().DataPoints().Len(); n++ {
						dp := m.Histogram().DataPoints().At(n)
						add(Point{Attrs: attrs(dp.Attributes()), Value: dp.Sum(), Count: dp.Count()})
					}
				}
			}
		}
	}
	return nil
}

func number(dp pmetric.NumberDataPoint) float64 {
	if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
		return float64(dp.IntValue())
	}
	return dp.DoubleValue()
}

// headers wraps the receiver's listener address: a proxy in front of it
// records request headers (the exporter's OTEL_EXPORTER_OTLP_HEADERS).
func (r *recorder) proxy(target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		if r.d.Headers == nil {
			r.d.Headers = map[string][]string{}
		}
		for k, v := range req.Header {
			r.d.Headers[k] = append(r.d.Headers[k], v...)
		}
		r.mu.Unlock()
		out, err := http.NewRequestWithContext(req.Context(), req.Method, "http://"+target+req.URL.RequestURI(), req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = req.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	rec := &recorder{}
	recvAddr, err := freeAddr()
	if err != nil {
		return err
	}
	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	cfg.Protocols.GRPC = configoptional.None[configgrpc.ServerConfig]()
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = recvAddr
	set := receivertest.NewNopSettings(f.Type())
	tc, err := consumer.NewTraces(rec.traces)
	if err != nil {
		return err
	}
	mc, err := consumer.NewMetrics(rec.metrics)
	if err != nil {
		return err
	}
	// The factory shares one receiver between signals of one config.
	tr, err := f.CreateTraces(ctx, set, cfg, tc)
	if err != nil {
		return err
	}
	mr, err := f.CreateMetrics(ctx, set, cfg, mc)
	if err != nil {
		return err
	}
	host := componenttest.NewNopHost()
	if err := tr.Start(ctx, host); err != nil {
		return err
	}
	if err := mr.Start(ctx, host); err != nil {
		return err
	}
	defer tr.Shutdown(ctx)
	defer mr.Shutdown(ctx)

	front, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	dump, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(front, rec.proxy(recvAddr))
	go http.Serve(dump, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rec.d)
	}))
	fmt.Printf("OTLP http://%s DUMP http://%s\n", front.Addr(), dump.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

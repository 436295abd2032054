// The service the async-enrich workload calls (bench/workloads/async-enrich.ts): an HTTP/1.1
// server on 127.0.0.1 and a free port, keeping connections alive, that answers
// `GET /enrich?key=<key>&value=<value>` after a delay drawn uniformly from BENCH_DELAY_MS
// (`min,max` in ms, default 10,30) with {"key","value","segment","score"}, the enrichment a
// fixed function of the key (FNV-1a over its UTF-16 code units, as `enrichmentOf` computes it).
// `GET /stats` gives what it counted: calls, calls in flight integrated over time, the most in
// flight since the previous read, and its CPU (the workload's `ServiceStats`).
//
// It stands in for a service on another machine, so it should take as little as it can of the
// two cores the system measured runs on: written in Go, one OS thread running Go code at a time
// (GOMAXPROCS 1). Measured beside the Node service it replaced: 44 µs of CPU per call against
// 54-73, and the system measured ran 8% faster (bench/README.md).
//
// Prints {"event":"endpoint","url":...} once listening; exits on SIGTERM or SIGINT.
package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf16"
)

var segments = []string{"retail", "business", "partner", "staff"}

// enrichment is the segment and score of a key.
func enrichment(key string) (string, uint32) {
	h := uint32(0x811c9dc5)
	for _, unit := range utf16.Encode([]rune(key)) {
		h = (h ^ uint32(unit)) * 0x01000193
	}
	return segments[h%uint32(len(segments))], (h >> 8) % 1000
}

type answer struct {
	Key     string `json:"key"`
	Value   string `json:"value"`
	Segment string `json:"segment"`
	Score   uint32 `json:"score"`
}

// counters are what /stats reports, under one lock.
type counters struct {
	mu         sync.Mutex
	start      time.Time
	calls      int64
	inFlight   int64
	peak       int64
	inFlightMs float64
	changedAt  float64
}

// change integrates the calls in flight up to now, then moves them by `by`. Called under the lock.
func (c *counters) change(by int64) {
	now := float64(time.Since(c.start).Nanoseconds()) / 1e6
	c.inFlightMs += float64(c.inFlight) * (now - c.changedAt)
	c.changedAt = now
	c.inFlight += by
	if c.inFlight > c.peak {
		c.peak = c.inFlight
	}
}

func (c *counters) moved(by int64, call bool) {
	c.mu.Lock()
	if call {
		c.calls++
	}
	c.change(by)
	c.mu.Unlock()
}

func (c *counters) stats() []byte {
	var usage syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	cpuMs := float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e6
	c.mu.Lock()
	defer c.mu.Unlock()
	c.change(0)
	body := fmt.Sprintf(`{"atMs":%f,"calls":%d,"inFlightMs":%f,"peakInFlight":%d,"cpuMs":%f}`, c.changedAt, c.calls, c.inFlightMs, c.peak, cpuMs)
	c.peak = c.inFlight
	return []byte(body)
}

func reply(w http.ResponseWriter, status int, body []byte) {
	header := w.Header()
	header["Content-Type"] = []string{"application/json"}
	header["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// delays reads BENCH_DELAY_MS.
func delays() (float64, float64) {
	spec := os.Getenv("BENCH_DELAY_MS")
	if spec == "" {
		return 10, 30
	}
	parts := strings.Split(spec, ",")
	if len(parts) == 2 {
		minMs, errMin := strconv.ParseFloat(parts[0], 64)
		maxMs, errMax := strconv.ParseFloat(parts[1], 64)
		if errMin == nil && errMax == nil && minMs <= maxMs {
			return minMs, maxMs
		}
	}
	fmt.Fprintf(os.Stderr, "BENCH_DELAY_MS must be min,max in ms, not %q\n", spec)
	os.Exit(2)
	return 0, 0
}

func main() {
	runtime.GOMAXPROCS(1)
	minMs, maxMs := delays()
	c := &counters{start: time.Now()}
	notFound := []byte(`{"error":"GET /enrich?key=..&value=.. or /stats"}`)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stats":
			reply(w, 200, c.stats())
		case "/enrich":
			query := r.URL.Query()
			keys, ok := query["key"]
			if !ok {
				reply(w, 404, notFound)
				return
			}
			c.moved(1, true)
			time.Sleep(time.Duration((minMs + rand.Float64()*(maxMs-minMs)) * float64(time.Millisecond)))
			c.moved(-1, false)
			segment, score := enrichment(keys[0])
			body, _ := json.Marshal(answer{keys[0], query.Get("value"), segment, score})
			reply(w, 200, body)
		default:
			reply(w, 404, notFound)
		}
	})
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot listen: %v\n", err)
		os.Exit(1)
	}
	server := &http.Server{Handler: handler, IdleTimeout: time.Minute}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		_ = server.Close()
		os.Exit(0)
	}()
	fmt.Printf("{\"event\":\"endpoint\",\"url\":\"http://%s\"}\n", listener.Addr().String())
	_ = server.Serve(listener)
}

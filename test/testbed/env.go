package testbed

import (
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"
)

// Env owns the processes and temporary files of one test bed. Everything it
// starts is stopped, in reverse order, by Close.
type Env struct {
	// Dir is the temporary directory that holds certificates, data and logs.
	Dir string

	mu      sync.Mutex
	procs   []*process
	closers []func()
	engine  string // the hpa-engine binary BuildEngine built
}

// NewEnv creates an empty environment in a new temporary directory.
func NewEnv() (*Env, error) {
	dir, err := os.MkdirTemp("", "hpa-engine-testbed-")
	if err != nil {
		return nil, err
	}
	return &Env{Dir: dir}, nil
}

// New returns an environment for one test: it is closed when the test ends,
// printing every process's log if the test failed.
func New(tb testing.TB) *Env {
	tb.Helper()
	e, err := NewEnv()
	if err != nil {
		tb.Fatalf("testbed: %v", err)
	}
	tb.Cleanup(func() { e.Close(tb.Failed(), os.Stderr) })
	return e
}

// Main runs a test package against one shared environment: setup starts what
// the package needs, then the tests run, then everything stops. Logs are
// printed when setup or any test fails. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testbed.Main(m, setup)) }
func Main(m *testing.M, setup func(*Env) error) int {
	e, err := NewEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testbed:", err)
		return 1
	}
	if err := setup(e); err != nil {
		fmt.Fprintln(os.Stderr, "testbed setup:", err)
		e.Close(true, os.Stderr)
		return 1
	}
	code := m.Run()
	e.Close(code != 0, os.Stderr)
	return code
}

func (e *Env) addProcess(p *process) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.procs = append(e.procs, p)
}

// OnClose registers fn to run when the environment closes, before the
// processes started earlier stop.
func (e *Env) OnClose(fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closers = append(e.closers, fn)
}

// Close stops everything in reverse order of start. When failed is set it
// first writes the tail of each process's log to w.
func (e *Env) Close(failed bool, w io.Writer) {
	e.mu.Lock()
	procs, closers := e.procs, e.closers
	e.procs, e.closers = nil, nil
	e.mu.Unlock()

	if failed {
		e.DumpLogs(w, procs)
	}
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
	for i := len(procs) - 1; i >= 0; i-- {
		start := time.Now()
		procs[i].stop()
		if d := time.Since(start); d > time.Second {
			logf("%s took %s to stop", procs[i].name, d.Round(time.Millisecond))
		}
	}
	_ = os.RemoveAll(e.Dir)
}

// DumpLogs writes the last lines of every process's log to w.
func (e *Env) DumpLogs(w io.Writer, procs []*process) {
	if procs == nil {
		e.mu.Lock()
		procs = append([]*process(nil), e.procs...)
		e.mu.Unlock()
	}
	const lines = 150
	for _, p := range procs {
		fmt.Fprintf(w, "\n===== %s: last %d lines of %s =====\n%s\n", p.name, lines, p.logFile, p.tail(lines))
	}
}

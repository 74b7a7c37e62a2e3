package testbed

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// BuildEngine builds cmd/hpa-engine into the environment's directory, once
// per environment, and returns the binary's path, so end-to-end tests run the
// real command with its real flags.
func (e *Env) BuildEngine(ctx context.Context) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.engine == "" {
		path, err := buildEngine(ctx, e.Dir)
		if err != nil {
			return "", err
		}
		e.engine = path
	}
	return e.engine, nil
}

func buildEngine(ctx context.Context, dir string) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "bin", "hpa-engine")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/hpa-engine")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hpa-engine: %w\n%s", err, b)
	}
	return out, nil
}

// ProcessOptions describe a program a test runs through the environment.
type ProcessOptions struct {
	// Name labels the process in logs.
	Name string
	Path string
	Args []string
	// Env is added to the test's environment.
	Env []string
	// Ready, when set, is polled after start until it returns nil.
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds the wait (default 60s).
	ReadyTimeout time.Duration
}

// Process is a program started by StartProcess. Its log is printed with the
// others when a test fails.
type Process struct {
	p    *process
	opts ProcessOptions
}

// StartProcess starts a program and waits until opts.Ready passes.
func (e *Env) StartProcess(ctx context.Context, opts ProcessOptions) (*Process, error) {
	p := &Process{opts: opts, p: &process{
		name:    opts.Name,
		path:    opts.Path,
		args:    opts.Args,
		env:     opts.Env,
		logFile: filepath.Join(e.Dir, opts.Name+".log"),
	}}
	e.addProcess(p.p)
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Start starts the program again after Stop or Kill, with the same arguments.
func (p *Process) Start(ctx context.Context) error {
	if err := p.p.start(); err != nil {
		return err
	}
	if p.opts.Ready == nil {
		return nil
	}
	timeout := p.opts.ReadyTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	return waitFor(ctx, p.opts.Name+" ready", timeout, p.p, p.opts.Ready)
}

// Stop sends SIGTERM and waits (SIGKILL after 5s).
func (p *Process) Stop() { p.p.stop() }

// Kill sends SIGKILL at once, as a crash would.
func (p *Process) Kill() {
	p.p.stopSignal, p.p.stopGrace = syscall.SIGKILL, time.Second
	p.p.stop()
	p.p.stopSignal, p.p.stopGrace = nil, 0
}

// Running reports whether the program runs.
func (p *Process) Running() bool { return p.p.running() }

// Log returns the last n lines of the program's output.
func (p *Process) Log(n int) string { return p.p.tail(n) }

// HTTPReady returns a readiness check that GETs url (TLS not verified: the
// test bed probes servers it started itself) and wants a 2xx.
func HTTPReady(url string) func(ctx context.Context) error {
	return httpOK(insecureClient(), url, nil)
}

// HTTPReadyWithToken is HTTPReady with a bearer token.
func HTTPReadyWithToken(url, token string) func(ctx context.Context) error {
	return httpOK(insecureClient(), url, http.Header{"Authorization": {"Bearer " + token}})
}

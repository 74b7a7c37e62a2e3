package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// DefaultReloadDelay is how long the reloader lets a burst of file events
// settle before reading the file: editors and ConfigMap updates write in
// several steps.
const DefaultReloadDelay = 200 * time.Millisecond

// Reloader follows the configuration file and hands every changed, valid
// version to a callback. It watches the file's directory rather than the
// file, so that replacing the file (editors, `kubectl cp`) and the symlink
// swap of a mounted ConfigMap (`..data` pointing at a new directory) are
// both seen.
type Reloader struct {
	path    string
	delay   time.Duration
	metrics *reloadMetrics
	now     func() time.Time
	// watching is closed once Run watches the directory; changes made
	// before that are only seen through the next event.
	watching     chan struct{}
	watchingOnce sync.Once

	mu   sync.Mutex
	last [sha256.Size]byte // hash of the last content tried, valid or not
}

// NewReloader returns a reloader of the file at path, with its metrics on
// reg (nil registers nothing).
func NewReloader(path string, reg prometheus.Registerer) *Reloader {
	return &Reloader{path: path, delay: DefaultReloadDelay, metrics: newReloadMetrics(reg), now: time.Now, watching: make(chan struct{})}
}

// Load reads and loads the file now. The adapter calls it once at start,
// where a bad file is fatal; Run then reloads only content that differs.
func (r *Reloader) Load() (*config.Config, error) {
	data, err := os.ReadFile(r.path)
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", r.path, err)
	}
	cfg, err := config.Load(data)
	r.mu.Lock()
	r.last = sha256.Sum256(data)
	r.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", r.path, err)
	}
	r.succeeded(cfg)
	return cfg, nil
}

// Run watches the file until ctx is done. Each change is loaded; a valid
// configuration is passed to apply (SetConfig), and a file that does not
// load or that apply refuses is logged and counted as a failure while the
// previous configuration keeps serving.
func (r *Reloader) Run(ctx context.Context, apply func(*config.Config) error) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch config %q: %w", r.path, err)
	}
	defer w.Close()
	dir := filepath.Dir(r.path)
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watch config directory %q: %w", dir, err)
	}
	klog.InfoS("Watching the configuration file for changes", "path", r.path)
	r.watchingOnce.Do(func() { close(r.watching) })

	// Since Go 1.23 a stopped timer delivers no stale tick, so the timer
	// starts stopped and each event re-arms it.
	timer := time.NewTimer(r.delay)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			klog.V(4).InfoS("Configuration directory event", "event", ev.String())
			timer.Reset(r.delay)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			klog.ErrorS(err, "Watching the configuration directory", "dir", dir)
		case <-timer.C:
			r.reload(apply)
		}
	}
}

// reload loads the file if its content changed since the last attempt.
// Every event in the directory leads here; the hash keeps other files'
// events and repeated events from reloading.
func (r *Reloader) reload(apply func(*config.Config) error) {
	data, err := os.ReadFile(r.path)
	if err != nil {
		// Mid-swap the file can be missing for a moment: count it, and try
		// again on the next event without remembering this state.
		r.failed(fmt.Errorf("config %q: %w", r.path, err))
		return
	}
	sum := sha256.Sum256(data)
	r.mu.Lock()
	unchanged := bytes.Equal(sum[:], r.last[:])
	r.last = sum
	r.mu.Unlock()
	if unchanged {
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		// An empty file is a valid configuration that serves nothing; while
		// serving it is far more likely a write caught between truncation
		// and content, so it is not swapped in. The next write reloads.
		r.mu.Lock()
		r.last = [sha256.Size]byte{}
		r.mu.Unlock()
		r.failed(fmt.Errorf("config %q: empty file", r.path))
		return
	}
	cfg, err := config.Load(data)
	if err != nil {
		r.failed(fmt.Errorf("config %q: %w", r.path, err))
		return
	}
	if err := apply(cfg); err != nil {
		// The file is fine but what it points at (a backend's CA file) may
		// not be yet: forget it so that the next event tries again.
		r.mu.Lock()
		r.last = [sha256.Size]byte{}
		r.mu.Unlock()
		r.failed(fmt.Errorf("config %q: %w", r.path, err))
		return
	}
	r.succeeded(cfg)
	klog.InfoS("Configuration reloaded", "path", r.path, "rules", len(cfg.Rules), "externalRules", len(cfg.ExternalRules), "backends", len(cfg.Backends))
}

func (r *Reloader) failed(err error) {
	r.metrics.reloads.WithLabelValues(outcomeFailure).Inc()
	klog.ErrorS(err, "Configuration rejected; the previous configuration keeps serving", "path", r.path)
}

func (r *Reloader) succeeded(cfg *config.Config) {
	r.metrics.reloads.WithLabelValues(outcomeSuccess).Inc()
	r.metrics.lastSuccess.Set(float64(r.now().UnixNano()) / 1e9)
	for _, w := range cfg.Warnings {
		klog.InfoS("Configuration warning", "path", r.path, "warning", w)
	}
}

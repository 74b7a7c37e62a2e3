package promapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// DefaultLookbackDelta is Prometheus' default: how far back an instant query
// looks for a sample of a series without a staleness marker.
const DefaultLookbackDelta = 5 * time.Minute

// Config is the embedded Prometheus' plain configuration.
type Config struct {
	// Dir is the TSDB directory; the caller creates and removes it.
	Dir string
	// Retention is how long samples are kept; 2h when zero, which is
	// plenty for a demo and keeps memory flat.
	Retention time.Duration
	// QueryTimeout bounds each query; 30s when zero.
	QueryTimeout time.Duration
	// Logger receives the TSDB's and the engine's logs; discarded when nil.
	Logger *slog.Logger
}

// Store is a TSDB with a PromQL engine over it.
type Store struct {
	db      *tsdb.DB
	engine  *promql.Engine
	timeout time.Duration
}

// Open opens the TSDB in cfg.Dir and builds the engine. Neither registers
// metrics: the demo's registry holds the engine's own metrics only.
func Open(cfg Config) (*Store, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("open tsdb: %w", ErrNoDir)
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 2 * time.Hour
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 30 * time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = cfg.Retention.Milliseconds()
	db, err := tsdb.Open(cfg.Dir, logger, nil, opts, nil)
	if err != nil {
		return nil, fmt.Errorf("open tsdb %q: %w", cfg.Dir, err)
	}
	engine := promql.NewEngine(promql.EngineOpts{
		Logger:        logger,
		MaxSamples:    50_000_000,
		Timeout:       cfg.QueryTimeout,
		LookbackDelta: DefaultLookbackDelta,
	})
	return &Store{db: db, engine: engine, timeout: cfg.QueryTimeout}, nil
}

// Appender returns a transaction that adds samples; Commit makes them
// visible to queries.
func (s *Store) Appender(ctx context.Context) storage.Appender { return s.db.Appender(ctx) }

// Close releases the TSDB; the caller removes its directory.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close tsdb: %w", err)
	}
	return nil
}

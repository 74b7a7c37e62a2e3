package promapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"
)

// maxPoints is Prometheus' own bound on the points of one range query
// series, which keeps a mistyped step from exhausting memory.
const maxPoints = 11000

// Handler returns the read side of the Prometheus HTTP API over the store:
// /api/v1/query, /api/v1/query_range, /api/v1/series, /api/v1/labels and
// /api/v1/label/{name}/values, each by GET or by POST form.
func (s *Store) Handler() http.Handler {
	mux := http.NewServeMux()
	for path, h := range map[string]func(*http.Request) (any, *apiError){
		"/api/v1/query":               s.query,
		"/api/v1/query_range":         s.queryRange,
		"/api/v1/series":              s.series,
		"/api/v1/labels":              s.labelNames,
		"/api/v1/label/{name}/values": s.labelValues,
	} {
		handle := serve(h)
		mux.HandleFunc("GET "+path, handle)
		mux.HandleFunc("POST "+path, handle)
	}
	return mux
}

// errorType is the errorType field of an error response; the names are
// Prometheus', which client_golang maps onto its own error types.
type errorType string

const (
	errBadData   errorType = "bad_data"
	errExecution errorType = "execution"
	errTimeout   errorType = "timeout"
	errCanceled  errorType = "canceled"
	errInternal  errorType = "internal"
)

type apiError struct {
	typ errorType
	err error
}

func badData(format string, args ...any) *apiError {
	return &apiError{typ: errBadData, err: fmt.Errorf(format, args...)}
}

// status is the HTTP code Prometheus answers an error type with.
func (e *apiError) status() int {
	switch e.typ {
	case errBadData:
		return http.StatusBadRequest
	case errExecution:
		return http.StatusUnprocessableEntity
	case errTimeout:
		return http.StatusServiceUnavailable
	case errCanceled:
		return 499
	default:
		return http.StatusInternalServerError
	}
}

type response struct {
	Status    string    `json:"status"`
	Data      any       `json:"data,omitempty"`
	ErrorType errorType `json:"errorType,omitempty"`
	Error     string    `json:"error,omitempty"`
	Warnings  []string  `json:"warnings,omitempty"`
}

func serve(h func(*http.Request) (any, *apiError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, response{Status: "error", ErrorType: errBadData, Error: fmt.Sprintf("parse form: %v", err)})
			return
		}
		data, apiErr := h(r)
		if apiErr != nil {
			writeJSON(w, apiErr.status(), response{Status: "error", ErrorType: apiErr.typ, Error: apiErr.err.Error()})
			return
		}
		resp := response{Status: "success", Data: data}
		if wr, ok := data.(warned); ok {
			resp.Data, resp.Warnings = wr.data, wr.warnings
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// warned carries a result with the engine's warnings (annotations).
type warned struct {
	data     any
	warnings []string
}

func withWarnings(data any, annos annotations.Annotations) any {
	if len(annos) == 0 {
		return data
	}
	var ws []string
	for _, err := range annos {
		ws = append(ws, err.Error())
	}
	slices.Sort(ws)
	return warned{data: data, warnings: ws}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.WriteHeader(code)
	// The status line is out: an encoding error can only cut the body, which
	// the client reports as a decoding error.
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Store) query(r *http.Request) (any, *apiError) {
	ts, err := parseTimeParam(r, "time", time.Now())
	if err != nil {
		return nil, badData("invalid parameter \"time\": %v", err)
	}
	ctx, cancel, apiErr := s.queryContext(r)
	if apiErr != nil {
		return nil, apiErr
	}
	defer cancel()
	q, err := s.engine.NewInstantQuery(ctx, s.db, nil, r.Form.Get("query"), ts)
	if err != nil {
		return nil, badData("invalid parameter \"query\": %v", err)
	}
	defer q.Close()
	return s.exec(ctx, q)
}

func (s *Store) queryRange(r *http.Request) (any, *apiError) {
	start, err := parseTime(r.Form.Get("start"))
	if err != nil {
		return nil, badData("invalid parameter \"start\": %v", err)
	}
	end, err := parseTime(r.Form.Get("end"))
	if err != nil {
		return nil, badData("invalid parameter \"end\": %v", err)
	}
	if end.Before(start) {
		return nil, badData("invalid parameter \"end\": end timestamp must not be before start time")
	}
	step, err := parseDuration(r.Form.Get("step"))
	if err != nil {
		return nil, badData("invalid parameter \"step\": %v", err)
	}
	if step <= 0 {
		return nil, badData("zero or negative query resolution step widths are not accepted. Try a positive integer")
	}
	if end.Sub(start)/step > maxPoints {
		return nil, badData("exceeded maximum resolution of %d points per timeseries. Try decreasing the query resolution (?step=XX)", maxPoints)
	}
	ctx, cancel, apiErr := s.queryContext(r)
	if apiErr != nil {
		return nil, apiErr
	}
	defer cancel()
	q, err := s.engine.NewRangeQuery(ctx, s.db, nil, r.Form.Get("query"), start, end, step)
	if err != nil {
		return nil, badData("invalid parameter \"query\": %v", err)
	}
	defer q.Close()
	return s.exec(ctx, q)
}

// queryContext bounds a query by the request's timeout parameter, if any,
// within the store's own timeout.
func (s *Store) queryContext(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	timeout := s.timeout
	if t := r.Form.Get("timeout"); t != "" {
		d, err := parseDuration(t)
		if err != nil {
			return nil, nil, badData("invalid parameter \"timeout\": %v", err)
		}
		timeout = min(timeout, d)
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	return ctx, cancel, nil
}

func (s *Store) exec(ctx context.Context, q promql.Query) (any, *apiError) {
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, execError(res.Err)
	}
	v, err := encodeValue(res.Value)
	if err != nil {
		return nil, &apiError{typ: errExecution, err: err}
	}
	return withWarnings(v, res.Warnings), nil
}

func execError(err error) *apiError {
	var (
		timeout promql.ErrQueryTimeout
		cancel  promql.ErrQueryCanceled
		storErr promql.ErrStorage
	)
	switch {
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{typ: errTimeout, err: err}
	case errors.As(err, &cancel), errors.Is(err, context.Canceled):
		return &apiError{typ: errCanceled, err: err}
	case errors.As(err, &storErr):
		return &apiError{typ: errInternal, err: err}
	}
	return &apiError{typ: errExecution, err: err}
}

func (s *Store) series(r *http.Request) (any, *apiError) {
	matchers, apiErr := parseMatchers(r.Form["match[]"], true)
	if apiErr != nil {
		return nil, apiErr
	}
	q, apiErr := s.querier(r)
	if apiErr != nil {
		return nil, apiErr
	}
	defer q.Close()
	var sets []storage.SeriesSet
	for _, ms := range matchers {
		sets = append(sets, q.Select(r.Context(), len(matchers) > 1, nil, ms...))
	}
	set := storage.NewMergeSeriesSet(sets, 0, storage.ChainedSeriesMerge)
	out := []map[string]string{}
	for set.Next() {
		out = append(out, set.At().Labels().Map())
	}
	if err := set.Err(); err != nil {
		return nil, &apiError{typ: errInternal, err: err}
	}
	return withWarnings(out, set.Warnings()), nil
}

func (s *Store) labelNames(r *http.Request) (any, *apiError) {
	matchers, apiErr := parseMatchers(r.Form["match[]"], false)
	if apiErr != nil {
		return nil, apiErr
	}
	q, apiErr := s.querier(r)
	if apiErr != nil {
		return nil, apiErr
	}
	defer q.Close()
	return collect(matchers, func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelNames(r.Context(), nil, ms...)
	})
}

func (s *Store) labelValues(r *http.Request) (any, *apiError) {
	name := r.PathValue("name")
	if !model.LabelName(name).IsValid() {
		return nil, badData("invalid label name: %q", name)
	}
	matchers, apiErr := parseMatchers(r.Form["match[]"], false)
	if apiErr != nil {
		return nil, apiErr
	}
	q, apiErr := s.querier(r)
	if apiErr != nil {
		return nil, apiErr
	}
	defer q.Close()
	return collect(matchers, func(ms []*labels.Matcher) ([]string, annotations.Annotations, error) {
		return q.LabelValues(r.Context(), name, nil, ms...)
	})
}

// collect unions the names or values over every matcher set (or no
// matcher at all), sorted, as Prometheus answers.
func collect(matchers [][]*labels.Matcher, get func([]*labels.Matcher) ([]string, annotations.Annotations, error)) (any, *apiError) {
	if len(matchers) == 0 {
		matchers = [][]*labels.Matcher{nil}
	}
	seen := map[string]struct{}{}
	var annos annotations.Annotations
	for _, ms := range matchers {
		vals, a, err := get(ms)
		if err != nil {
			return nil, &apiError{typ: errExecution, err: err}
		}
		annos.Merge(a)
		for _, v := range vals {
			seen[v] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return withWarnings(out, annos), nil
}

// querier opens a querier over [start, end], the whole store by default.
func (s *Store) querier(r *http.Request) (storage.Querier, *apiError) {
	start, end := time.UnixMilli(math.MinInt64/2), time.UnixMilli(math.MaxInt64/2)
	var err error
	if v := r.Form.Get("start"); v != "" {
		if start, err = parseTime(v); err != nil {
			return nil, badData("invalid parameter \"start\": %v", err)
		}
	}
	if v := r.Form.Get("end"); v != "" {
		if end, err = parseTime(v); err != nil {
			return nil, badData("invalid parameter \"end\": %v", err)
		}
	}
	q, err := s.db.Querier(start.UnixMilli(), end.UnixMilli())
	if err != nil {
		return nil, &apiError{typ: errInternal, err: err}
	}
	return q, nil
}

func parseMatchers(raw []string, required bool) ([][]*labels.Matcher, *apiError) {
	if required && len(raw) == 0 {
		return nil, badData("no match[] parameter provided")
	}
	p := parser.NewParser(parser.Options{})
	out := make([][]*labels.Matcher, 0, len(raw))
	for _, s := range raw {
		ms, err := p.ParseMetricSelector(s)
		if err != nil {
			return nil, badData("invalid parameter \"match[]\": %v", err)
		}
		out = append(out, ms)
	}
	return out, nil
}

func parseTimeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.Form.Get(name)
	if v == "" {
		return def, nil
	}
	return parseTime(v)
}

// parseTime accepts what Prometheus accepts: Unix seconds with an optional
// fraction, or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration accepts seconds with an optional fraction or a Prometheus
// duration (5m, 1h30m).
func parseDuration(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		// Decimal seconds parse exactly as a Go duration; exponents and
		// the like go through the float.
		if d, err := time.ParseDuration(s + "s"); err == nil {
			return d, nil
		}
		d := f * float64(time.Second)
		if math.IsNaN(d) || d >= math.MaxInt64 || d <= math.MinInt64 {
			return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
		}
		return time.Duration(d), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	sigsjson "sigs.k8s.io/json"

	"github.com/hpa-engine/hpa-engine/recommender/simulate"
)

// Simulator replays a manifest over metric history. The command that mounts
// the API implements it over Prometheus (adapter/history) and the manifest
// types (an Autoscaler's live in the scaler, which this package must not
// import).
type Simulator interface {
	// Simulate replays s. Errors wrapping simulate.ErrInvalid are the
	// request's fault (a manifest that does not parse, a metric no rule
	// exposes); errors wrapping simulate.ErrUnavailable mean the history
	// could not be read.
	Simulate(ctx context.Context, s Simulation) (*simulate.Timeline, error)
}

// Simulation is a validated POST /api/v1/simulate request.
type Simulation struct {
	// Manifest is the HorizontalPodAutoscaler or Autoscaler, YAML or JSON.
	Manifest []byte
	// Range is valid (simulate.Range.Validate).
	Range           simulate.Range
	InitialReplicas *int32
	// PodName and SeriesSelector pick the target's pods in history (see
	// adapter/history); empty means the default.
	PodName        string
	SeriesSelector string
}

// SimulateRequest is the body of POST /api/v1/simulate.
type SimulateRequest struct {
	// Manifest is an autoscaling/v2 HorizontalPodAutoscaler or an
	// autoscaling.hpa-engine.io/v1alpha1 Autoscaler: a string holding YAML
	// or JSON, or the object itself.
	Manifest json.RawMessage `json:"manifest"`
	// From and To are RFC 3339 times, "now", or durations relative to now
	// ("-24h", "now-90m").
	From string `json:"from"`
	To   string `json:"to"`
	// Step is a duration ("15s") or a number of seconds; empty means 15s,
	// the HPA's sync period.
	Step string `json:"step,omitempty"`
	// InitialReplicas is the replica count at From; absent means
	// minReplicas (1 when it is 0).
	InitialReplicas *int32 `json:"initialReplicas,omitempty"`
	// PodName is a regular expression the names of the target's pods
	// matched in history; empty means "<scaleTargetRef.name>-.+".
	PodName string `json:"podName,omitempty"`
	// SeriesSelector is a label selector that narrows a Pods metric's series
	// by their own labels ("app=web").
	SeriesSelector string `json:"seriesSelector,omitempty"`
}

// DefaultSimulateStep is the HPA controller's sync period.
const DefaultSimulateStep = "15s"

// Reasons of the simulate route's own statuses.
const (
	reasonNotImplemented     = "NotImplemented"
	reasonServiceUnavailable = "ServiceUnavailable"
)

func (s *server) simulate(w http.ResponseWriter, req *http.Request) {
	if s.sim == nil {
		writeError(w, &apiError{code: http.StatusNotImplemented, reason: reasonNotImplemented,
			msg: "simulation is not configured on this server: it needs the Prometheus provider (hpa-engine controller with --config and --prometheus-url)"})
		return
	}
	var body SimulateRequest
	if aerr := s.decodeStrict(w, req, &body); aerr != nil {
		writeError(w, aerr)
		return
	}
	sim, aerr := s.simulation(body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	tl, err := s.sim.Simulate(req.Context(), sim)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, tl)
	case errors.Is(err, simulate.ErrInvalid):
		writeError(w, invalid(err.Error()))
	case errors.Is(err, simulate.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		writeError(w, &apiError{code: http.StatusServiceUnavailable, reason: reasonServiceUnavailable, msg: err.Error()})
	default:
		s.log.Error(err, "Simulation failed")
		writeError(w, &apiError{code: http.StatusInternalServerError, reason: reasonInternalError, msg: fmt.Sprintf("simulate: %v", err)})
	}
}

// simulation checks a request's manifest and range; a range that cannot be
// read or is too long is the request's shape, 400, like a bad query.
func (s *server) simulation(body SimulateRequest) (Simulation, *apiError) {
	manifest, aerr := manifestBytes(body.Manifest)
	if aerr != nil {
		return Simulation{}, aerr
	}
	now := s.clock()
	from, err := simulate.ParseTime(body.From, now)
	if err != nil {
		return Simulation{}, badRequest("from: "+err.Error(), Cause{Field: "from", Message: err.Error()})
	}
	to, err := simulate.ParseTime(body.To, now)
	if err != nil {
		return Simulation{}, badRequest("to: "+err.Error(), Cause{Field: "to", Message: err.Error()})
	}
	stepText := body.Step
	if stepText == "" {
		stepText = DefaultSimulateStep
	}
	step, err := simulate.ParseStep(stepText)
	if err != nil {
		return Simulation{}, badRequest("step: "+err.Error(), Cause{Field: "step", Message: err.Error()})
	}
	r := simulate.Range{From: from, To: to, Step: step}
	if err := r.Validate(); err != nil {
		return Simulation{}, badRequest(err.Error())
	}
	if body.InitialReplicas != nil && *body.InitialReplicas < 0 {
		return Simulation{}, invalid("initialReplicas must not be negative", Cause{Field: "initialReplicas", Message: "must not be negative"})
	}
	return Simulation{Manifest: manifest, Range: r, InitialReplicas: body.InitialReplicas, PodName: body.PodName, SeriesSelector: body.SeriesSelector}, nil
}

// manifestBytes accepts the manifest as a JSON string (YAML or JSON text)
// or as a JSON object.
func manifestBytes(raw json.RawMessage) ([]byte, *apiError) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return nil, badRequest("manifest is required: a HorizontalPodAutoscaler or Autoscaler, as a YAML or JSON string or an object",
			Cause{Field: "manifest", Message: "required"})
	case raw[0] == '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, badRequest("manifest: "+err.Error(), Cause{Field: "manifest", Message: err.Error()})
		}
		if len(bytes.TrimSpace([]byte(text))) == 0 {
			return nil, badRequest("manifest is empty", Cause{Field: "manifest", Message: "empty"})
		}
		return []byte(text), nil
	case raw[0] == '{':
		return raw, nil
	}
	return nil, badRequest("manifest must be a string (YAML or JSON) or an object", Cause{Field: "manifest", Message: "wrong type"})
}

// decodeStrict reads a JSON body as decodeInput does: JSON only, fields
// case-sensitive, unknown and duplicate fields rejected with their paths,
// the body bounded, no query parameters.
func (s *server) decodeStrict(w http.ResponseWriter, req *http.Request, v any) *apiError {
	if _, err := queryParams(req); err != nil {
		return err
	}
	ct := req.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != contentTypeJSON {
		return &apiError{code: http.StatusUnsupportedMediaType, reason: reasonUnsupportedMedia,
			msg: fmt.Sprintf("content type %q: the body must be %s", ct, contentTypeJSON)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, s.maxBody))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return &apiError{code: http.StatusRequestEntityTooLarge, reason: reasonTooLarge, msg: fmt.Sprintf("body larger than %d bytes", mbe.Limit)}
		}
		return badRequest(fmt.Sprintf("read body: %v", err))
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("empty body: expected a JSON object (manifest, from, to, step, ...)")
	}
	strict, err := sigsjson.UnmarshalStrict(body, v)
	if err != nil {
		if ok, off := sigsjson.SyntaxErrorOffset(err); ok {
			return badRequest(fmt.Sprintf("body is not valid JSON at byte %d: %v", off, err))
		}
		return badRequest(fmt.Sprintf("decode body: %v", err))
	}
	if len(strict) > 0 {
		causes := make([]Cause, 0, len(strict))
		for _, e := range strict {
			c := Cause{Message: e.Error()}
			var fe sigsjson.FieldError
			if errors.As(e, &fe) {
				c.Field = fe.FieldPath()
			}
			causes = append(causes, c)
		}
		return badRequest(fmt.Sprintf("decode body: %s", errors.Join(strict...)), causes...)
	}
	return nil
}

package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	sigsjson "sigs.k8s.io/json"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// RecommendResponse is the answer to POST /api/v1/recommend.
type RecommendResponse struct {
	// Now is the time the recommendation was computed for: the input's, or
	// the server's clock when the input had none.
	Now time.Time `json:"now"`
	// Result is the algorithm's output.
	Result recommender.Result `json:"result"`
	// Explanation is Result rendered as text, one line per fact.
	Explanation []string `json:"explanation"`
}

func (s *server) recommend(w http.ResponseWriter, req *http.Request) {
	in, aerr := s.decodeInput(w, req)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if in.Now.IsZero() {
		in.Now = s.clock()
	}
	if errs := validateInput(in); len(errs) > 0 {
		writeError(w, invalid(fmt.Sprintf("invalid input: %s", errs.ToAggregate()), causesOf(errs)...))
		return
	}
	res, err := recommender.Recommend(in)
	switch {
	case errors.Is(err, recommender.ErrInvalidInput):
		writeError(w, invalid(fmt.Sprintf("invalid input: %v", err)))
		return
	case err != nil:
		s.log.Error(err, "Recommend failed on validated input")
		writeError(w, &apiError{code: http.StatusInternalServerError, reason: reasonInternalError, msg: fmt.Sprintf("recommend: %v", err)})
		return
	}
	writeJSON(w, http.StatusOK, RecommendResponse{Now: in.Now, Result: res, Explanation: res.Lines()})
}

// decodeInput reads a recommender.Input the way the API server reads
// objects: JSON only, field names case-sensitive, unknown and duplicate
// fields rejected with their paths, trailing data rejected, the body bounded.
func (s *server) decodeInput(w http.ResponseWriter, req *http.Request) (recommender.Input, *apiError) {
	var in recommender.Input
	if _, err := queryParams(req); err != nil {
		return in, err
	}
	ct := req.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != contentTypeJSON {
		return in, &apiError{code: http.StatusUnsupportedMediaType, reason: reasonUnsupportedMedia,
			msg: fmt.Sprintf("content type %q: the body must be %s", ct, contentTypeJSON)}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, s.maxBody))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return in, &apiError{code: http.StatusRequestEntityTooLarge, reason: reasonTooLarge,
				msg: fmt.Sprintf("body larger than %d bytes", mbe.Limit)}
		}
		return in, badRequest(fmt.Sprintf("read body: %v", err))
	}
	if len(body) == 0 {
		return in, badRequest("empty body: expected a JSON object (spec, target, observations, ...)")
	}
	strict, err := sigsjson.UnmarshalStrict(body, &in)
	if err != nil {
		if ok, off := sigsjson.SyntaxErrorOffset(err); ok {
			return in, badRequest(fmt.Sprintf("body is not valid JSON at byte %d: %v", off, err))
		}
		return in, badRequest(fmt.Sprintf("decode body: %v", err))
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
		return in, badRequest(fmt.Sprintf("decode body: %s", errors.Join(strict...)), causes...)
	}
	return in, nil
}

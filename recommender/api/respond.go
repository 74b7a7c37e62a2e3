package api

import (
	"encoding/json"
	"net/http"
)

// ErrorResponse is the body of every error the API returns, whatever the
// status: {"error": {"code": 404, "reason": "NotFound", "message": "..."}}.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody describes one failed request.
type ErrorBody struct {
	// Code repeats the HTTP status code.
	Code int `json:"code"`
	// Reason is a machine-readable word for the kind of failure, named as
	// metav1.StatusReason names them (BadRequest, Unauthorized, NotFound,
	// MethodNotAllowed, RequestEntityTooLarge, UnsupportedMediaType, Invalid,
	// InternalError).
	Reason string `json:"reason"`
	// Message is for people.
	Message string `json:"message"`
	// Causes lists the offending fields of an invalid or malformed body, one
	// entry per problem, when there is more than the message to say.
	Causes []Cause `json:"causes,omitempty"`
}

// Cause is one problem with one field of a request.
type Cause struct {
	// Field is the JSON path of the field ("spec.metrics[0].pods.target").
	Field string `json:"field,omitempty"`
	// Message says what is wrong with it.
	Message string `json:"message"`
}

// Reasons, as metav1.StatusReason spells them, for the statuses the API
// returns.
const (
	reasonBadRequest       = "BadRequest"
	reasonUnauthorized     = "Unauthorized"
	reasonNotFound         = "NotFound"
	reasonMethodNotAllowed = "MethodNotAllowed"
	reasonTooLarge         = "RequestEntityTooLarge"
	reasonUnsupportedMedia = "UnsupportedMediaType"
	reasonInvalid          = "Invalid"
	reasonInternalError    = "InternalError"
)

const contentTypeJSON = "application/json"

// apiError is an error that knows its HTTP answer.
type apiError struct {
	code   int
	reason string
	msg    string
	causes []Cause
}

func (e *apiError) Error() string { return e.msg }

func badRequest(msg string, causes ...Cause) *apiError {
	return &apiError{code: http.StatusBadRequest, reason: reasonBadRequest, msg: msg, causes: causes}
}

func notFound(msg string) *apiError {
	return &apiError{code: http.StatusNotFound, reason: reasonNotFound, msg: msg}
}

func invalid(msg string, causes ...Cause) *apiError {
	return &apiError{code: http.StatusUnprocessableEntity, reason: reasonInvalid, msg: msg, causes: causes}
}

// writeJSON writes v indented, so that curl output is readable; the cost is
// negligible next to computing it.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		// Only a value that cannot encode gets here (a bug): say so in the
		// API's own shape rather than a half-written body.
		code = http.StatusInternalServerError
		b, _ = json.MarshalIndent(ErrorResponse{Error: ErrorBody{Code: code, Reason: reasonInternalError, Message: "response does not encode as JSON: " + err.Error()}}, "", "  ")
	}
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON)
	h.Set("X-Content-Type-Options", "nosniff")
	// Recommendations change every sync period; never serve a stale one.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.code, ErrorResponse{Error: ErrorBody{Code: e.code, Reason: e.reason, Message: e.msg, Causes: e.causes}})
}

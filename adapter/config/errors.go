package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error Load returns for a configuration
// that cannot be used, so callers (hot reload) can tell a bad file from an
// unreadable one with errors.Is.
var ErrInvalid = errors.New("invalid configuration")

// ErrUnknownField is wrapped by the FieldError of a key the schema does not
// have, which prometheus-adapter rejects too.
var ErrUnknownField = errors.New("unknown field")

// FieldError is one problem in the file, located by its path in the
// document ("rules[2].name.matches") and, when the YAML gives it, its line.
type FieldError struct {
	// Path is the dotted path of the field, with list indexes.
	Path string
	// Line is the 1-based line of the field's value, or 0 when unknown.
	Line int
	// Err says what is wrong.
	Err error
}

// Error formats the problem as "line N: path: reason".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the reason, so errors.Is sees ErrUnknownField and the like.
func (e *FieldError) Unwrap() error { return e.Err }

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Errors is the list of every problem found in one file, in document order.
// Load reports all of them at once so a user fixes a file in one pass.
type Errors []*FieldError

// Error joins the problems, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Is makes the list match ErrInvalid even when it is empty of matches.
func (es Errors) Is(target error) bool { return target == ErrInvalid }

// ErrTooLarge is wrapped when a template renders more than its limit, in
// the trial run at load or when a query is rendered.
var ErrTooLarge = errors.New("output too large")

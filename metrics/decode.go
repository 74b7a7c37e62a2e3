package metrics

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// This file decodes the answer of /api/v1/query in one pass, straight into
// Samples. client_golang's API validates the whole body with encoding/json,
// decodes the envelope, decodes "data" again into a RawMessage, hands the
// result to jsoniter, which calls encoding/json once more for every sample,
// builds a model.LabelSet map per sample and leaves us to copy it into a
// second map: at 1,000 pods that was about ten times the cost of reading the
// body. This decoder reads each byte once and builds one map per sample.
//
// It is strict on purpose. It accepts the answers of Prometheus' HTTP API as
// Prometheus writes them (any key order, unknown fields skipped), and
// everything it accepts client_golang accepts with the same meaning (FuzzDecodeQuery checks this against client_golang's own
// decoding). Where client_golang would quietly guess (a sample without a
// value becoming 0 at the epoch, a null element, a duplicate key, extra
// array elements) this decoder reports an error instead.

// maxSkipDepth bounds the nesting of values the decoder skips without
// interpreting them. encoding/json stops at 10,000; anything deeper than this
// is no answer a Prometheus would send.
const maxSkipDepth = 512

// decodeError reports a body the decoder does not understand. Like
// client_golang's bad_response errors it is neither ErrBadQuery nor
// ErrUnavailable: retrying will not make the body readable.
type decodeError struct {
	offset int
	msg    string
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("bad_response: undecodable answer at byte %d: %s", e.offset, e.msg)
}

// decodeQueryResponse turns an HTTP status and body of /api/v1/query into
// samples and Prometheus' warnings, or into the error client_golang's API
// would return for the same answer (a *promv1.Error, whose type classify
// reads), or into a *decodeError for a body it does not understand.
func decodeQueryResponse(code int, body []byte) ([]Sample, []string, error) {
	if code/100 != 2 {
		return nil, nil, apiErrorFor(code, body)
	}
	// One copy of the body backs every label name and value that needs no
	// unescaping, so they cost no allocation of their own. The samples keep
	// the whole body alive; they are as short-lived as the request.
	d := decoder{s: string(body)}
	ans, err := d.answer(true)
	if err != nil {
		return nil, nil, err
	}
	switch ans.status {
	case "success":
	case "error":
		if ans.resultType == resultMatrix {
			// A matrix is skipped, not checked, so the decoder cannot tell
			// whether client_golang would have reported it as malformed
			// rather than as the error it carries.
			return nil, nil, &decodeError{offset: 0, msg: "error answer with a matrix result"}
		}
		return nil, ans.warnings, &promv1.Error{Type: promv1.ErrorType(ans.errorType), Msg: ans.errorMsg}
	default:
		return nil, nil, &decodeError{offset: 0, msg: fmt.Sprintf("status %q, want success or error", ans.status)}
	}
	switch ans.resultType {
	case resultVector, resultScalar:
		return ans.samples, ans.warnings, nil
	case resultMatrix:
		return nil, ans.warnings, fmt.Errorf("result type matrix, want vector or scalar: %w", ErrUnexpectedResult)
	default:
		return nil, ans.warnings, fmt.Errorf("result type none, want vector or scalar: %w", ErrUnexpectedResult)
	}
}

// apiErrorFor builds the error of a non-2xx answer exactly as client_golang's
// API does: Prometheus' own errorType and message for 400 and 422 when the
// body says so, the status otherwise, so that messages and classification do
// not change with the decoder.
func apiErrorFor(code int, body []byte) error {
	generic := func() error {
		typ, msg := promv1.ErrBadResponse, fmt.Sprintf("bad response code %d", code)
		switch code / 100 {
		case 4:
			typ, msg = promv1.ErrClient, fmt.Sprintf("client error: %d", code)
		case 5:
			typ, msg = promv1.ErrServer, fmt.Sprintf("server error: %d", code)
		}
		return &promv1.Error{Type: typ, Msg: msg, Detail: string(body)}
	}
	if code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
		return generic()
	}
	d := decoder{s: string(body)}
	ans, err := d.answer(false)
	if err != nil {
		return generic()
	}
	if ans.status == "success" {
		return &promv1.Error{Type: promv1.ErrBadResponse, Msg: "inconsistent body for response code"}
	}
	typ, msg := promv1.ErrorType(ans.errorType), ans.errorMsg
	if typ == "" {
		typ = promv1.ErrClient
	}
	if msg == "" {
		msg = fmt.Sprintf("client error: %d", code)
	}
	return &promv1.Error{Type: typ, Msg: msg}
}

// Result types of "data".
const (
	resultNone = iota
	resultScalar
	resultVector
	resultMatrix
)

// answer is the decoded envelope.
type answer struct {
	status     string
	errorType  string
	errorMsg   string
	warnings   []string
	resultType int
	samples    []Sample
}

// decoder reads one JSON document from s.
type decoder struct {
	s   string
	pos int
	// pairs and buf are scratch space reused from sample to sample.
	pairs []labelPair
	buf   []byte
}

type labelPair struct{ name, value string }

func (d *decoder) fail(format string, args ...any) error {
	return &decodeError{offset: d.pos, msg: fmt.Sprintf(format, args...)}
}

// answer decodes the envelope. With withData false (an error status code)
// "data" is only checked to be JSON, as client_golang does.
func (d *decoder) answer(withData bool) (answer, error) {
	var a answer
	seenData := false
	err := d.object(func(key string) error {
		switch {
		case keyIs(key, "status"):
			s, err := d.optString()
			a.status = s
			return err
		case keyIs(key, "errorType"):
			s, err := d.optString()
			a.errorType = s
			return err
		case keyIs(key, "error"):
			s, err := d.optString()
			a.errorMsg = s
			return err
		case keyIs(key, "warnings"):
			w, err := d.stringList()
			a.warnings = w
			return err
		case keyIs(key, "infos"):
			_, err := d.stringList()
			return err
		case keyIs(key, "data") && withData:
			if seenData {
				return d.fail("duplicate key %q", key)
			}
			seenData = true
			if d.literal("null") {
				return nil
			}
			return d.data(&a)
		default:
			return d.skip(0)
		}
	})
	if err != nil {
		return answer{}, err
	}
	d.ws()
	if d.pos != len(d.s) {
		return answer{}, d.fail("data after the answer")
	}
	return a, nil
}

// keyIs matches an object key the way encoding/json matches struct fields:
// exactly or, failing that, case-insensitively ("Status" sets status).
// Matching the same way keeps a stray "Data" from meaning something else to
// this decoder than to client_golang.
func keyIs(key, name string) bool {
	return key == name || strings.EqualFold(key, name)
}

// data decodes {"resultType": ..., "result": ...}.
func (d *decoder) data(a *answer) error {
	typeSeen, resultAt := false, -1
	err := d.object(func(key string) error {
		switch {
		case keyIs(key, "resultType"):
			if typeSeen {
				return d.fail("duplicate key %q", key)
			}
			typeSeen = true
			s, err := d.str()
			if err != nil {
				return err
			}
			switch s {
			case "vector":
				a.resultType = resultVector
			case "scalar":
				a.resultType = resultScalar
			case "matrix":
				a.resultType = resultMatrix
			default:
				// client_golang refuses "string" results too.
				return d.fail("result type %q, want vector, scalar or matrix", s)
			}
			return nil
		case keyIs(key, "result"):
			if resultAt >= 0 {
				return d.fail("duplicate key %q", key)
			}
			d.ws()
			resultAt = d.pos
			if !typeSeen {
				// Prometheus sends resultType first; otherwise come back
				// once it is known.
				return d.skip(0)
			}
			return d.result(a)
		default:
			return d.skip(0)
		}
	})
	if err != nil {
		return err
	}
	if !typeSeen || resultAt < 0 {
		return d.fail("data without resultType and result")
	}
	if a.samples == nil && a.resultType != resultMatrix {
		end := d.pos
		d.pos = resultAt
		if err := d.result(a); err != nil {
			return err
		}
		d.pos = end
	}
	return nil
}

func (d *decoder) result(a *answer) error {
	switch a.resultType {
	case resultVector:
		return d.vector(a)
	case resultScalar:
		return d.scalar(a)
	default:
		// A matrix is the wrong answer to an instant query whatever it
		// holds.
		return d.skip(0)
	}
}

// vector decodes [{"metric":{...},"value":[ts,"v"]}, ...].
func (d *decoder) vector(a *answer) error {
	if err := d.expect('['); err != nil {
		return err
	}
	a.samples = []Sample{}
	if d.tryConsume(']') {
		return nil
	}
	first := d.pos
	for {
		s, err := d.sample()
		if err != nil {
			return err
		}
		if len(a.samples) == 0 {
			// Every sample of a Pods metric looks alike: size the slice
			// from the first one instead of growing it ten times.
			if n := d.pos - first; n > 0 {
				a.samples = make([]Sample, 0, (len(d.s)-first)/n+1)
			}
		}
		a.samples = append(a.samples, s)
		more, err := d.more(']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// sample decodes one element of a vector. It and labels run once per series
// and loop by hand: object's callback would put their state on the heap.
func (d *decoder) sample() (Sample, error) {
	var s Sample
	var ms int64
	hasValue, hasHistogram := false, false
	more, err := d.beginObject()
	for more && err == nil {
		var key string
		if key, err = d.key(); err != nil {
			break
		}
		switch {
		case keyIs(key, "metric"):
			if s.Labels != nil {
				return Sample{}, d.fail("duplicate key %q", key)
			}
			s.Labels, err = d.labels()
		case keyIs(key, "value"):
			if hasValue || hasHistogram {
				return Sample{}, d.fail("more than one value")
			}
			hasValue = true
			ms, s.Value, err = d.pair(true)
		case keyIs(key, "histogram"):
			if hasValue || hasHistogram {
				return Sample{}, d.fail("more than one value")
			}
			hasHistogram = true
			ms, err = d.histogramPair()
			// A native histogram has no single float value; NaN keeps the
			// sample visible while callers treat it as missing, never 0.
			s.Value = math.NaN()
		default:
			err = d.skip(0)
		}
		if err == nil {
			more, err = d.more('}')
		}
	}
	if err != nil {
		return Sample{}, err
	}
	if s.Labels == nil {
		return Sample{}, d.fail("sample without metric")
	}
	if !hasValue && !hasHistogram {
		return Sample{}, d.fail("sample without value")
	}
	s.Timestamp = msTime(ms)
	return s, nil
}

// labels decodes a label set into a map sized to it.
func (d *decoder) labels() (map[string]string, error) {
	d.pairs = d.pairs[:0]
	more, err := d.beginObject()
	for more && err == nil {
		var p labelPair
		if p.name, err = d.key(); err != nil {
			break
		}
		if p.value, err = d.str(); err != nil {
			break
		}
		d.pairs = append(d.pairs, p)
		more, err = d.more('}')
	}
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(d.pairs))
	for _, p := range d.pairs {
		m[p.name] = p.value
	}
	if len(m) != len(d.pairs) {
		return nil, d.fail("duplicate label name")
	}
	return m, nil
}

// scalar decodes [ts, "v"] into one sample without labels.
func (d *decoder) scalar(a *answer) error {
	ms, v, err := d.pair(false)
	if err != nil {
		return err
	}
	a.samples = []Sample{{Labels: map[string]string{}, Value: v, Timestamp: msTime(ms)}}
	return nil
}

// pair decodes [ts, "v"]. A vector's value is parsed from the bytes between
// the quotes (raw), a scalar's from the unescaped string, as
// prometheus/common does for each.
func (d *decoder) pair(raw bool) (int64, float64, error) {
	if err := d.expect('['); err != nil {
		return 0, 0, err
	}
	ms, err := d.timestamp()
	if err != nil {
		return 0, 0, err
	}
	if err := d.expect(','); err != nil {
		return 0, 0, err
	}
	var s string
	if raw {
		s, err = d.rawString()
	} else {
		s, err = d.str()
	}
	if err != nil {
		return 0, 0, err
	}
	v, err := d.float(s)
	if err != nil {
		return 0, 0, err
	}
	if err := d.expect(']'); err != nil {
		return 0, 0, err
	}
	return ms, v, nil
}

// histogramPair decodes [ts, {"count":"c","sum":"s","buckets":[...]}],
// checking the histogram as prometheus/common would and returning only the
// timestamp.
func (d *decoder) histogramPair() (int64, error) {
	if err := d.expect('['); err != nil {
		return 0, err
	}
	ms, err := d.timestamp()
	if err != nil {
		return 0, err
	}
	if err := d.expect(','); err != nil {
		return 0, err
	}
	err = d.object(func(key string) error {
		switch {
		case keyIs(key, "count"), keyIs(key, "sum"):
			return d.rawFloat()
		case keyIs(key, "buckets"):
			return d.buckets()
		default:
			return d.skip(0)
		}
	})
	if err != nil {
		return 0, err
	}
	if err := d.expect(']'); err != nil {
		return 0, err
	}
	return ms, nil
}

// buckets checks [[boundaries, "lower", "upper", "count"], ...].
func (d *decoder) buckets() error {
	if d.literal("null") {
		return nil
	}
	return d.array(func() error {
		if err := d.expect('['); err != nil {
			return err
		}
		n, err := d.number()
		if err != nil {
			return err
		}
		if _, err := strconv.ParseInt(n, 10, 32); err != nil {
			return d.fail("bucket boundaries %q: %v", n, err)
		}
		for range 3 {
			if err := d.expect(','); err != nil {
				return err
			}
			if err := d.rawFloat(); err != nil {
				return err
			}
		}
		return d.expect(']')
	})
}

func (d *decoder) rawFloat() error {
	s, err := d.rawString()
	if err != nil {
		return err
	}
	_, err = d.float(s)
	return err
}

func (d *decoder) float(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, d.fail("value %q: %v", s, err)
	}
	return v, nil
}

// timestamp reads Prometheus' seconds with a fraction into milliseconds,
// with prometheus/common's model.Time rules: digits past the third decimal
// are dropped, not rounded, and an exponent is refused.
func (d *decoder) timestamp() (int64, error) {
	n, err := d.number()
	if err != nil {
		return 0, err
	}
	ms, ok := parseMillis(n)
	if !ok {
		return 0, d.fail("timestamp %q", n)
	}
	return ms, nil
}

func parseMillis(n string) (int64, bool) {
	base, frac, found := strings.Cut(n, ".")
	sec, err := strconv.ParseInt(base, 10, 64)
	if err != nil {
		return 0, false
	}
	if !found {
		return sec * 1000, true
	}
	prec := 3 - len(frac)
	if prec < 0 {
		frac = frac[:3]
	}
	milli, err := strconv.ParseInt(frac, 10, 32)
	if err != nil {
		return 0, false
	}
	switch prec {
	case 1:
		milli *= 10
	case 2:
		milli *= 100
	}
	if len(base) > 0 && base[0] == '-' {
		milli = -milli
	}
	return sec*1000 + milli, true
}

// msTime converts as model.Time.Time does.
func msTime(ms int64) time.Time {
	return time.Unix(ms/1000, (ms%1000)*int64(time.Millisecond))
}

// stringList decodes null or an array of strings (a null element is "", as
// encoding/json makes it).
func (d *decoder) stringList() ([]string, error) {
	if d.literal("null") {
		return nil, nil
	}
	out := []string{}
	err := d.array(func() error {
		s, err := d.optString()
		out = append(out, s)
		return err
	})
	return out, err
}

// optString decodes a string or null ("").
func (d *decoder) optString() (string, error) {
	if d.literal("null") {
		return "", nil
	}
	return d.str()
}

// --- JSON primitives ---

func (d *decoder) ws() {
	for d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) expect(c byte) error {
	d.ws()
	if d.pos < len(d.s) && d.s[d.pos] == c {
		d.pos++
		return nil
	}
	if d.pos >= len(d.s) {
		return d.fail("unexpected end, want %q", c)
	}
	return d.fail("found %q, want %q", d.s[d.pos], c)
}

func (d *decoder) tryConsume(c byte) bool {
	d.ws()
	if d.pos < len(d.s) && d.s[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// more consumes ',' (true) or the closing bracket (false).
func (d *decoder) more(closing byte) (bool, error) {
	d.ws()
	if d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ',':
			d.pos++
			return true, nil
		case closing:
			d.pos++
			return false, nil
		}
	}
	return false, d.fail("want ',' or %q", closing)
}

// literal consumes lit (true, false, null) if it comes next.
func (d *decoder) literal(lit string) bool {
	d.ws()
	if strings.HasPrefix(d.s[d.pos:], lit) {
		d.pos += len(lit)
		return true
	}
	return false
}

// beginObject consumes '{' and reports whether a member follows.
func (d *decoder) beginObject() (bool, error) {
	if err := d.expect('{'); err != nil {
		return false, err
	}
	return !d.tryConsume('}'), nil
}

// key reads a member's key and the colon after it.
func (d *decoder) key() (string, error) {
	k, err := d.str()
	if err != nil {
		return "", err
	}
	return k, d.expect(':')
}

// object decodes an object, calling member for each key with the decoder
// placed before the value; member must consume the value.
func (d *decoder) object(member func(key string) error) error {
	more, err := d.beginObject()
	for more && err == nil {
		var key string
		if key, err = d.key(); err != nil {
			break
		}
		if err = member(key); err != nil {
			break
		}
		more, err = d.more('}')
	}
	return err
}

// array decodes an array, calling elem for each element.
func (d *decoder) array(elem func() error) error {
	if err := d.expect('['); err != nil {
		return err
	}
	if d.tryConsume(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		more, err := d.more(']')
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// str decodes a string. Without escapes or non-ASCII bytes it is a slice of
// the body; otherwise it is unescaped as encoding/json does, invalid UTF-8
// and unpaired surrogates becoming U+FFFD.
func (d *decoder) str() (string, error) {
	d.ws()
	if d.pos >= len(d.s) || d.s[d.pos] != '"' {
		return "", d.fail("want a string")
	}
	start := d.pos + 1
	for i := start; i < len(d.s); i++ {
		switch c := d.s[i]; {
		case c == '"':
			d.pos = i + 1
			return d.s[start:i], nil
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return d.strSlow(start, i)
		}
	}
	d.pos = len(d.s)
	return "", d.fail("unterminated string")
}

func (d *decoder) strSlow(start, i int) (string, error) {
	b := append(d.buf[:0], d.s[start:i]...)
	s := d.s
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.buf = b
			return string(b), nil
		case c < 0x20:
			d.pos = i
			return "", d.fail("control character in string")
		case c == '\\':
			if i+1 >= len(s) {
				d.pos = i
				return "", d.fail("unterminated string")
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(s, i+2)
				if !ok {
					d.pos = i
					return "", d.fail("bad \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if r2, ok := hex4(s, i+2); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								b = utf8.AppendRune(b, dec)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				d.pos = i
				return "", d.fail("bad escape \\%c", e)
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	d.pos = len(s)
	return "", d.fail("unterminated string")
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// rawString returns the bytes between the quotes of a string that holds a
// number. A backslash or a non-ASCII byte cannot be part of one, so either
// is an error here rather than something to unescape.
func (d *decoder) rawString() (string, error) {
	d.ws()
	if d.pos >= len(d.s) || d.s[d.pos] != '"' {
		return "", d.fail("want a quoted number")
	}
	start := d.pos + 1
	for i := start; i < len(d.s); i++ {
		switch c := d.s[i]; {
		case c == '"':
			d.pos = i + 1
			return d.s[start:i], nil
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			d.pos = i
			return "", d.fail("character %q in a quoted number", c)
		}
	}
	d.pos = len(d.s)
	return "", d.fail("unterminated string")
}

// number reads a JSON number and returns its text.
func (d *decoder) number() (string, error) {
	d.ws()
	s, start := d.s, d.pos
	i := start
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return "", d.fail("want a number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			d.pos = i
			return "", d.fail("want a digit after '.'")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			d.pos = i
			return "", d.fail("want a digit in the exponent")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	d.pos = i
	return s[start:i], nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skip checks and passes over one value of any kind: fields this decoder
// does not use must still be valid JSON, as they are for client_golang.
func (d *decoder) skip(depth int) error {
	if depth > maxSkipDepth {
		return d.fail("nesting deeper than %d", maxSkipDepth)
	}
	d.ws()
	if d.pos >= len(d.s) {
		return d.fail("unexpected end, want a value")
	}
	switch c := d.s[d.pos]; {
	case c == '{':
		return d.object(func(string) error { return d.skip(depth + 1) })
	case c == '[':
		return d.array(func() error { return d.skip(depth + 1) })
	case c == '"':
		return d.skipString()
	case c == 't':
		return d.need("true")
	case c == 'f':
		return d.need("false")
	case c == 'n':
		return d.need("null")
	default:
		_, err := d.number()
		return err
	}
}

func (d *decoder) need(lit string) error {
	if !d.literal(lit) {
		return d.fail("want %s", lit)
	}
	return nil
}

// skipString checks a string without building its value.
func (d *decoder) skipString() error {
	s := d.s
	for i := d.pos + 1; i < len(s); {
		switch c := s[i]; {
		case c == '"':
			d.pos = i + 1
			return nil
		case c < 0x20:
			d.pos = i
			return d.fail("control character in string")
		case c == '\\':
			if i+1 >= len(s) {
				d.pos = i
				return d.fail("unterminated string")
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(s, i+2); !ok {
					d.pos = i
					return d.fail("bad \\u escape")
				}
				i += 6
			default:
				d.pos = i
				return d.fail("bad escape")
			}
		default:
			i++
		}
	}
	d.pos = len(s)
	return d.fail("unterminated string")
}

package rules

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/hpa-engine/hpa-engine/adapter/config"
)

// FuzzSelectorToPromQL feeds arbitrary selectors, label names, values,
// namespaces and object names through selector translation and query
// rendering, and checks the query structurally: it lexes the rendered
// matchers with PromQL's own string rules (the promql parser is too heavy a
// dependency for this module) and requires exactly the expected matchers,
// each value decoding back to the input, and the template's text around
// them unchanged. No input may leave its matcher or change the query's
// shape; what cannot be expressed must fail with a 400 sentinel.
func FuzzSelectorToPromQL(f *testing.F) {
	rule, err := config.Load([]byte("rules:\n- seriesQuery: up\n  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>,container!=\"POD\"}[2m])) by (<<.GroupBy>>)'\n"))
	if err != nil {
		f.Fatal(err)
	}
	metric := &CustomMetric{
		Resource: schema.GroupResource{Resource: "pods"}, Metric: "rps", Namespaced: true,
		Series: "http_requests_total", ResourceLabel: "pod", NamespaceLabel: "namespace", Rule: rule.Rules[0],
	}
	// The template's text before and after the matchers; the last matcher,
	// container!="POD", is the template's own.
	const prefix, suffix = "sum(rate(http_requests_total{", "[2m])) by (pod)"

	f.Add("app in (a,b),tier!=db", "k", uint8(0), "v", "w", "ns", "pod-1", "pod-2")
	f.Fuzz(func(t *testing.T, selector, key string, op uint8, v1, v2, namespace, name1, name2 string) {
		// 1. A parsed selector: one matcher per requirement, or a 400.
		if sel, err := labels.Parse(selector); err == nil {
			reqs, _ := sel.Requirements()
			ms, err := SelectorMatchers(sel)
			switch {
			case err != nil && !errors.Is(err, ErrUnsupportedSelector):
				t.Fatalf("SelectorMatchers(%q): error %v is not ErrUnsupportedSelector", selector, err)
			case err == nil && len(ms) != len(reqs):
				t.Fatalf("SelectorMatchers(%q) = %d matchers for %d requirements", selector, len(ms), len(reqs))
			case err == nil:
				for i, m := range ms {
					checkMatcher(t, m, reqs[i].Key(), reqs[i].Operator(), reqs[i].ValuesUnsorted())
				}
			}
		}

		// 2. One requirement with any key, operator and values.
		ops := []selection.Operator{selection.Equals, selection.DoubleEquals, selection.NotEquals, selection.In,
			selection.NotIn, selection.Exists, selection.DoesNotExist, selection.GreaterThan, selection.LessThan}
		o := ops[int(op)%len(ops)]
		var values []string
		switch o {
		case selection.In, selection.NotIn:
			values = []string{v1, v2}
		case selection.Exists, selection.DoesNotExist:
		default:
			values = []string{v1}
		}
		m, err := RequirementMatcher(key, o, values)
		if err != nil {
			if !errors.Is(err, ErrUnsupportedSelector) {
				t.Fatalf("RequirementMatcher: error %v is not ErrUnsupportedSelector", err)
			}
		} else {
			checkMatcher(t, m, key, o, values)
		}

		// 3. A whole query: a selector with an unvalidated value (Kubernetes
		// would refuse most of these; the renderer must not rely on it), a
		// namespace and two object names, all arbitrary.
		var sel labels.Selector
		if key != "" {
			sel = labels.SelectorFromValidatedSet(labels.Set{key: v1})
		}
		names := []string{name1}
		if name2 != "" {
			names = append(names, name2)
		}
		q, err := RenderCustom(metric, CustomQuery{Namespace: namespace, Names: names, MetricSelector: sel})
		if err != nil {
			if !errors.Is(err, ErrUnsupportedSelector) && !errors.Is(err, ErrInvalidName) {
				t.Fatalf("RenderCustom: error %v is neither ErrUnsupportedSelector nor ErrInvalidName", err)
			}
			return
		}
		var want []Matcher
		if sel != nil {
			want = append(want, Matcher{Label: key, Op: MatchEqual, Value: v1})
		}
		if namespace != "" {
			want = append(want, Matcher{Label: "namespace", Op: MatchEqual, Value: namespace})
		}
		if len(names) == 1 {
			want = append(want, Matcher{Label: "pod", Op: MatchEqual, Value: name1})
		} else {
			want = append(want, Matcher{Label: "pod", Op: MatchRegexp, Value: regexp.QuoteMeta(name1) + "|" + regexp.QuoteMeta(name2)})
		}
		if !strings.HasPrefix(q, prefix) {
			t.Fatalf("query %q lost its prefix", q)
		}
		got, rest, err := lexMatchers(q[len(prefix):])
		if err != nil {
			t.Fatalf("query %q: %v", q, err)
		}
		if rest != suffix {
			t.Fatalf("query %q: text after the matchers changed: %q", q, rest)
		}
		want = append(want, Matcher{Label: "container", Op: MatchNotEqual, Value: "POD"})
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("query %q:\nmatchers %q\nwant     %q", q, got, want)
		}
		if len(names) > 1 {
			// Prometheus anchors regexps; the alternation must match exactly the names.
			re := regexp.MustCompile("^(?:" + got[len(got)-2].Value + ")$")
			for _, n := range names {
				if !re.MatchString(n) {
					t.Fatalf("name regexp %q does not match %q", got[len(got)-2].Value, n)
				}
			}
			if probe := name1 + "x"; probe != name2 && re.MatchString(probe) {
				t.Fatalf("name regexp %q matches %q", got[len(got)-2].Value, probe)
			}
		}
	})
}

// checkMatcher verifies one translated requirement: a valid label name,
// the right operator, and a value that, once quoted and lexed back the way
// PromQL does, is the input value, or (for in/notin) an anchored regexp
// that matches every input value and nothing longer.
func checkMatcher(t *testing.T, m Matcher, key string, op selection.Operator, values []string) {
	t.Helper()
	if m.Label != key || !isLabelName(key) || strings.HasPrefix(key, "__") {
		t.Fatalf("matcher %s for key %q", m, key)
	}
	lexed, rest, err := lexMatchers(m.String() + "}")
	if err != nil || rest != "" || len(lexed) != 1 || lexed[0] != m {
		t.Fatalf("matcher %s lexes as %v, rest %q, err %v", m, lexed, rest, err)
	}
	switch op {
	case selection.Equals, selection.DoubleEquals, selection.NotEquals:
		wantOp := MatchEqual
		if op == selection.NotEquals {
			wantOp = MatchNotEqual
		}
		if m.Op != wantOp || m.Value != values[0] {
			t.Fatalf("matcher %s for %s %q", m, op, values)
		}
	case selection.In, selection.NotIn:
		wantOp := MatchRegexp
		if op == selection.NotIn {
			wantOp = MatchNotRegexp
		}
		re, err := regexp.Compile("^(?:" + m.Value + ")$")
		if m.Op != wantOp || err != nil {
			t.Fatalf("matcher %s for %s %q: %v", m, op, values, err)
		}
		set := map[string]bool{}
		for _, v := range values {
			set[v] = true
		}
		for _, v := range values {
			if !re.MatchString(v) {
				t.Fatalf("regexp %q does not match value %q", m.Value, v)
			}
			if !set[v+"x"] && re.MatchString(v+"x") {
				t.Fatalf("regexp %q matches %q, not a value", m.Value, v+"x")
			}
		}
	case selection.Exists, selection.DoesNotExist:
		wantOp := MatchNotEqual
		if op == selection.DoesNotExist {
			wantOp = MatchEqual
		}
		if m.Op != wantOp || m.Value != "" {
			t.Fatalf("matcher %s for %s", m, op)
		}
	default:
		t.Fatalf("operator %s translated to %s", op, m)
	}
}

func isLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// lexMatchers reads `name op "string", ...}` the way PromQL's lexer does
// and returns the matchers with their string literals decoded, and the text
// after the closing brace.
func lexMatchers(s string) ([]Matcher, string, error) {
	var out []Matcher
	for {
		i := 0
		for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > 0 && s[i] >= '0' && s[i] <= '9') {
			i++
		}
		if i == 0 {
			return nil, "", fmt.Errorf("expected a label name at %q", s)
		}
		m := Matcher{Label: s[:i]}
		s = s[i:]
		switch {
		case strings.HasPrefix(s, "=~"), strings.HasPrefix(s, "!~"), strings.HasPrefix(s, "!="):
			m.Op, s = MatchOp(s[:2]), s[2:]
		case strings.HasPrefix(s, "="):
			m.Op, s = MatchEqual, s[1:]
		default:
			return nil, "", fmt.Errorf("expected an operator at %q", s)
		}
		lit, rest, err := lexString(s)
		if err != nil {
			return nil, "", err
		}
		if m.Value, err = strconv.Unquote(lit); err != nil {
			return nil, "", fmt.Errorf("literal %s: %w", lit, err)
		}
		out = append(out, m)
		switch {
		case strings.HasPrefix(rest, ","):
			s = rest[1:]
		case strings.HasPrefix(rest, "}"):
			return out, rest[1:], nil
		default:
			return nil, "", fmt.Errorf("expected , or } at %q", rest)
		}
	}
}

// lexString reads one double-quoted PromQL string literal: the escapes
// PromQL accepts (\a \b \f \n \r \t \v \\ \" \xHH \uHHHH \UHHHHHHHH \OOO),
// no raw newline, valid UTF-8.
func lexString(s string) (lit, rest string, err error) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", fmt.Errorf("expected a string at %q", s)
	}
	digits := func(i, n int, ok func(byte) bool) (int, error) {
		if i+n > len(s) {
			return 0, fmt.Errorf("short escape in %q", s)
		}
		for j := i; j < i+n; j++ {
			if !ok(s[j]) {
				return 0, fmt.Errorf("bad escape digit in %q", s)
			}
		}
		return i + n, nil
	}
	hex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
	oct := func(c byte) bool { return c >= '0' && c <= '7' }
	for i := 1; i < len(s); {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], s[i+1:], nil
		case c == '\n':
			return "", "", fmt.Errorf("newline in string %q", s)
		case c == '\\':
			if i+1 >= len(s) {
				return "", "", fmt.Errorf("unterminated escape in %q", s)
			}
			switch e := s[i+1]; {
			case strings.IndexByte(`abfnrtv\"`, e) >= 0:
				i += 2
			case e == 'x':
				i, err = digits(i+2, 2, hex)
			case e == 'u':
				i, err = digits(i+2, 4, hex)
			case e == 'U':
				i, err = digits(i+2, 8, hex)
			case oct(e):
				i, err = digits(i+1, 3, oct)
			default:
				return "", "", fmt.Errorf("unknown escape \\%c in %q", e, s)
			}
			if err != nil {
				return "", "", err
			}
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", "", fmt.Errorf("invalid UTF-8 in string %q", s)
			}
			i += size
		}
	}
	return "", "", fmt.Errorf("unterminated string %q", s)
}

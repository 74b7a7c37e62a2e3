package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// MatchOp is a PromQL label-matching operator.
type MatchOp string

// The PromQL label-matching operators.
const (
	MatchEqual     MatchOp = "="
	MatchNotEqual  MatchOp = "!="
	MatchRegexp    MatchOp = "=~"
	MatchNotRegexp MatchOp = "!~"
)

// Matcher is one PromQL label matcher. Value is the raw value (for = and
// !=) or the regular expression (for =~ and !~), unquoted; String quotes it.
type Matcher struct {
	// Label is the label name; always a valid Prometheus label name.
	Label string
	// Op is the matching operator.
	Op MatchOp
	// Value is the value or regular expression, unquoted.
	Value string
}

// String renders the matcher as PromQL, `label="value"`, with the value
// quoted by Go's rules, which PromQL's string literals share: no value can
// end the literal early or add a matcher.
func (m Matcher) String() string {
	return m.Label + string(m.Op) + strconv.Quote(m.Value)
}

// FormatMatchers joins matchers with commas, the form .LabelMatchers has.
func FormatMatchers(ms []Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ",")
}

// SelectorMatchers translates a label selector into PromQL matchers, one
// per requirement, in the selector's (key-sorted) order:
//
//	key=v, key==v   key="v"
//	key!=v          key!="v"
//	key in (a,b)    key=~"^(a|b)$"   values regexp-quoted, anchored
//	key notin (a,b) key!~"^(a|b)$"
//	key             key!=""
//	!key            key=""
//
// Prometheus treats an absent label as empty, so != and notin match series
// without the label, as they match objects without it. Anything else
// (Gt, Lt, a key that is not a Prometheus label name or is reserved with a
// "__" prefix, a value that is not UTF-8) wraps ErrUnsupportedSelector.
// A nil or empty selector yields no matchers.
func SelectorMatchers(sel labels.Selector) ([]Matcher, error) {
	if sel == nil || sel.Empty() {
		return nil, nil
	}
	reqs, selectable := sel.Requirements()
	if !selectable {
		return nil, fmt.Errorf("%w: the selector matches nothing", ErrUnsupportedSelector)
	}
	out := make([]Matcher, 0, len(reqs))
	for _, r := range reqs {
		m, err := RequirementMatcher(r.Key(), r.Operator(), r.ValuesUnsorted())
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// RequirementMatcher translates one selector requirement. It is
// SelectorMatchers' core, exported for callers that hold requirements
// rather than a selector; values may come in any order.
func RequirementMatcher(key string, op selection.Operator, values []string) (Matcher, error) {
	if !model.LegacyValidation.IsValidLabelName(key) {
		return Matcher{}, fmt.Errorf("%w: %q is not a Prometheus label name", ErrUnsupportedSelector, key)
	}
	if strings.HasPrefix(key, "__") {
		// Reserved labels (__name__ above all) would let a selector pick a
		// different metric than the rule's.
		return Matcher{}, fmt.Errorf("%w: label %q is reserved", ErrUnsupportedSelector, key)
	}
	for _, v := range values {
		if !utf8.ValidString(v) {
			return Matcher{}, fmt.Errorf("%w: label %q: value %q is not UTF-8", ErrUnsupportedSelector, key, v)
		}
	}
	one := func(pop MatchOp) (Matcher, error) {
		if len(values) != 1 {
			return Matcher{}, fmt.Errorf("%w: label %q: operator %q needs one value, got %d", ErrUnsupportedSelector, key, op, len(values))
		}
		return Matcher{Label: key, Op: pop, Value: values[0]}, nil
	}
	set := func(pop MatchOp) (Matcher, error) {
		if len(values) == 0 {
			return Matcher{}, fmt.Errorf("%w: label %q: operator %q needs values", ErrUnsupportedSelector, key, op)
		}
		return Matcher{Label: key, Op: pop, Value: "^(" + alternation(sortedCopy(values)) + ")$"}, nil
	}
	none := func(pop MatchOp) (Matcher, error) {
		if len(values) != 0 {
			return Matcher{}, fmt.Errorf("%w: label %q: operator %q takes no values", ErrUnsupportedSelector, key, op)
		}
		return Matcher{Label: key, Op: pop, Value: ""}, nil
	}
	switch op {
	case selection.Equals, selection.DoubleEquals:
		return one(MatchEqual)
	case selection.NotEquals:
		return one(MatchNotEqual)
	case selection.In:
		return set(MatchRegexp)
	case selection.NotIn:
		return set(MatchNotRegexp)
	case selection.Exists:
		return none(MatchNotEqual)
	case selection.DoesNotExist:
		return none(MatchEqual)
	default:
		return Matcher{}, fmt.Errorf("%w: label %q: operator %q", ErrUnsupportedSelector, key, op)
	}
}

// alternation joins values into a regular expression that matches exactly
// them: each is quoted with regexp.QuoteMeta so "a.b" does not match "aXb".
func alternation(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(quoted, "|")
}

func sortedCopy(values []string) []string {
	// Sorted so equal selectors render equal queries (and cache equally).
	out := slices.Clone(values)
	slices.Sort(out)
	return out
}

// quoteInner escapes s for use between the double quotes of a PromQL
// string, as .LabelValuesByName values are written into templates.
func quoteInner(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

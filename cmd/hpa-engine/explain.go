package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/hpa-engine/hpa-engine/recommender"
	"github.com/hpa-engine/hpa-engine/recommender/api"
	"github.com/hpa-engine/hpa-engine/recommender/loop"
)

// explainOptions are the flags of `hpa-engine explain`.
type explainOptions struct {
	Server    string
	TokenFile string
	Output    string
	Timeout   time.Duration
}

// explainKinds maps what users type (kubectl's names and short name, any
// case) to the kind the REST API expects.
var explainKinds = map[string]string{
	"hpa":                      loop.KindHPA,
	"horizontalpodautoscaler":  loop.KindHPA,
	"horizontalpodautoscalers": loop.KindHPA,
	"autoscaler":               loop.KindAutoscaler,
	"autoscalers":              loop.KindAutoscaler,
}

func newExplainCommand() *cobra.Command {
	o := explainOptions{Server: "http://127.0.0.1:8080", Output: "table", Timeout: 30 * time.Second}
	cmd := &cobra.Command{
		Use:   "explain NAMESPACE/KIND/NAME",
		Short: "Explain why a target has the replica count the recommender computed",
		Long: `explain asks a running recommender (hpa-engine controller) for one target's
latest recommendation over its REST API and prints it: each metric's current
value, target, ratio, proposal and the rule that decided it, the steps that
changed the largest proposal (stabilization, policies, bounds), and the
conditions the HPA controller would set.

KIND is HorizontalPodAutoscaler (hpa) or Autoscaler.`,
		Example: `  hpa-engine explain default/hpa/web
  hpa-engine explain shop/Autoscaler/checkout -o json \
    --server http://hpa-engine.monitoring:8080 --token-file /var/run/secrets/kubernetes.io/serviceaccount/token`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd.Context(), o, args[0], cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Server, "server", o.Server, "URL of the recommender's REST API (its --rest-address).")
	fs.StringVar(&o.TokenFile, "token-file", o.TokenFile, "File holding a bearer token for a recommender running with --rest-auth.")
	fs.StringVarP(&o.Output, "output", "o", o.Output, "Output format: table or json.")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "How long to wait for the answer.")
	return cmd
}

// parseExplainTarget splits NAMESPACE/KIND/NAME and resolves the kind.
func parseExplainTarget(arg string) (namespace, kind, name string, err error) {
	parts := strings.Split(arg, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("target %q: want NAMESPACE/KIND/NAME, e.g. default/hpa/web", arg)
	}
	kind = parts[1]
	if k, ok := explainKinds[strings.ToLower(kind)]; ok {
		kind = k
	} else {
		return "", "", "", fmt.Errorf("target %q: unknown kind %q: want HorizontalPodAutoscaler (hpa) or Autoscaler", arg, kind)
	}
	return parts[0], kind, parts[2], nil
}

func runExplain(ctx context.Context, o explainOptions, arg string, out io.Writer) error {
	if o.Output != "table" && o.Output != "json" {
		return fmt.Errorf("--output %q: want table or json", o.Output)
	}
	namespace, kind, name, err := parseExplainTarget(arg)
	if err != nil {
		return err
	}
	base, err := url.Parse(o.Server)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("--server %q: want an http or https URL", o.Server)
	}
	var token string
	if o.TokenFile != "" {
		b, err := os.ReadFile(o.TokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	body, err := fetchRecommendation(ctx, base, token, namespace, kind, name)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		var buf bytes.Buffer
		if err := json.Indent(&buf, body, "", "  "); err != nil {
			return fmt.Errorf("answer is not JSON: %w", err)
		}
		buf.WriteByte('\n')
		_, err := out.Write(buf.Bytes())
		return err
	}
	var rec api.Recommendation
	if err := json.Unmarshal(body, &rec); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return writeExplanation(out, rec)
}

// fetchRecommendation GETs one recommendation and returns its JSON, or an
// error carrying the server's message.
func fetchRecommendation(ctx context.Context, base *url.URL, token, namespace, kind, name string) ([]byte, error) {
	u := base.JoinPath("api", "v1", "recommendations", namespace, kind, name)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// err names the method and the URL already.
		return nil, fmt.Errorf("explain %s/%s/%s: %w", namespace, kind, name, err)
	}
	defer resp.Body.Close()
	// A recommendation is a few kilobytes; bound what a wrong --server can
	// make us buffer.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("explain %s/%s/%s: read answer: %w", namespace, kind, name, err)
	}
	if resp.StatusCode == http.StatusOK {
		return body, nil
	}
	var e api.ErrorResponse
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return nil, fmt.Errorf("explain %s/%s/%s: %s: %s", namespace, kind, name, resp.Status, e.Error.Message)
	}
	return nil, fmt.Errorf("explain %s/%s/%s: %s: %.200s", namespace, kind, name, resp.Status, strings.TrimSpace(string(body)))
}

// writeExplanation prints a recommendation as tables: the decision, one row
// per metric, the steps after the largest proposal, and the conditions.
func writeExplanation(out io.Writer, rec api.Recommendation) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 3, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }

	ref := rec.ScaleTargetRef
	row("Target:", fmt.Sprintf("%s %s/%s", rec.Kind, rec.Namespace, rec.Name))
	if ref.Kind != "" || ref.Name != "" {
		scales := ref.Kind + "/" + ref.Name
		if ref.APIVersion != "" {
			scales += " (" + ref.APIVersion + ")"
		}
		row("Scales:", scales)
	}
	row("Computed at:", rec.ComputedAt.UTC().Format(time.RFC3339))
	if rec.Error != "" || rec.Result == nil {
		row("Error:", orDash(rec.Error))
		_ = tw.Flush()
		_, err := io.WriteString(out, b.String())
		return err
	}
	res := rec.Result
	if res.Rescale {
		row("Decision:", fmt.Sprintf("scale from %d to %d replicas: %s", res.CurrentReplicas, res.DesiredReplicas, res.RescaleReason))
	} else {
		row("Decision:", fmt.Sprintf("keep %d replicas", res.DesiredReplicas))
	}
	switch {
	case res.MetricIndex >= 0:
		row("Largest proposal:", fmt.Sprintf("%d, from metric %d (%s)", res.MetricDesiredReplicas, res.MetricIndex+1, res.Metric))
	case len(res.Proposals) > 0:
		row("Largest proposal:", "none usable")
	}
	if res.Error != "" {
		row("Error:", res.Error)
	}
	_ = tw.Flush()

	if len(res.Proposals) > 0 {
		b.WriteString("\n")
		row("#", "METRIC", "CURRENT", "TARGET", "RATIO", "PROPOSAL", "RULE")
		for i, p := range res.Proposals {
			ratio, proposal := formatRatio(p.UsageRatio), strconv.Itoa(int(p.Replicas))
			current := formatMetricValue(p.Current)
			if p.Rule == recommender.RuleFailed {
				ratio, proposal, current = "-", "-", "-"
			}
			row(strconv.Itoa(i+1), string(p.Type)+" "+p.Name, current, formatMetricTarget(p.Target), ratio, proposal, ruleDetail(p))
		}
		_ = tw.Flush()
	}

	if len(res.Steps) > 0 {
		b.WriteString("\n")
		row("STEP", "FROM", "TO", "DETAIL")
		for _, s := range res.Steps {
			row(string(s.Kind), strconv.Itoa(int(s.From)), strconv.Itoa(int(s.To)), stepDetail(s))
		}
		_ = tw.Flush()
	}

	if conds := res.Status.Conditions; len(conds) > 0 {
		b.WriteString("\n")
		row("CONDITION", "STATUS", "REASON", "MESSAGE")
		for _, c := range conds {
			row(string(c.Type), string(c.Status), orDash(c.Reason), orDash(c.Message))
		}
		_ = tw.Flush()
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// ruleDetail names the rule behind a proposal and the pod adjustments it
// made, in words.
func ruleDetail(p recommender.Proposal) string {
	if p.Rule == recommender.RuleFailed {
		return fmt.Sprintf("Failed (%s): %s", p.Reason, p.Error)
	}
	var parts []string
	switch p.Rule {
	case recommender.RuleWithinTolerance:
		parts = append(parts, "within tolerance, keep current")
	case recommender.RuleRatio:
		parts = append(parts, fmt.Sprintf("ceil(ratio x %d ready pods)", p.ReadyPods))
	case recommender.RuleAdjustedWithinTolerance:
		parts = append(parts, fmt.Sprintf("adjusted ratio %s within tolerance, keep current", formatAdjusted(p.AdjustedRatio)))
	case recommender.RuleDirectionFlip:
		parts = append(parts, fmt.Sprintf("adjusted ratio %s points the other way, keep current", formatAdjusted(p.AdjustedRatio)))
	case recommender.RuleCountFlip:
		parts = append(parts, "adjusted count points the other way, keep current")
	case recommender.RuleAdjustedRatio:
		parts = append(parts, fmt.Sprintf("ceil(adjusted ratio %s x pods counted)", formatAdjusted(p.AdjustedRatio)))
	case recommender.RuleFromZero:
		parts = append(parts, "from zero replicas, ceil(ratio)")
	case recommender.RuleTotalOverAverage:
		parts = append(parts, "ceil(total / target average)")
	}
	if p.ReadyPods+p.UnreadyPods+p.MissingPods+p.IgnoredPods > 0 && p.Type != autoscalingv2.ObjectMetricSourceType && p.Type != autoscalingv2.ExternalMetricSourceType {
		parts = append(parts, fmt.Sprintf("%d ready, %d unready, %d missing, %d ignored pods", p.ReadyPods, p.UnreadyPods, p.MissingPods, p.IgnoredPods))
	}
	switch p.Missing {
	case recommender.MissingAtTarget:
		parts = append(parts, "missing pods at the target value")
	case recommender.MissingAtRequest:
		parts = append(parts, "missing pods at max(100%, target) of request")
	case recommender.MissingAtZero:
		parts = append(parts, "missing pods at 0")
	}
	if p.UnreadyAsZero {
		parts = append(parts, "unready pods at 0")
	}
	return string(p.Rule) + ": " + strings.Join(parts, "; ")
}

func stepDetail(s recommender.Step) string {
	var parts []string
	if s.WindowSeconds != nil {
		parts = append(parts, fmt.Sprintf("window %ds", *s.WindowSeconds))
	}
	switch {
	case s.Limit != nil && s.Policy != "":
		parts = append(parts, fmt.Sprintf("limit %d by %s", *s.Limit, s.Policy))
	case s.Limit != nil:
		parts = append(parts, fmt.Sprintf("limit %d", *s.Limit))
	case s.Policy != "":
		parts = append(parts, s.Policy)
	}
	switch {
	case s.Reason != "" && s.Message != "":
		parts = append(parts, s.Reason+": "+s.Message)
	case s.Reason != "":
		parts = append(parts, s.Reason)
	case s.Message != "":
		parts = append(parts, s.Message)
	}
	return orDash(strings.Join(parts, "; "))
}

func formatMetricTarget(t autoscalingv2.MetricTarget) string {
	switch {
	case t.AverageUtilization != nil:
		return fmt.Sprintf("%d%% of request", *t.AverageUtilization)
	case t.AverageValue != nil:
		return t.AverageValue.String() + " per pod"
	case t.Value != nil:
		return t.Value.String()
	}
	return "-"
}

func formatMetricValue(v autoscalingv2.MetricValueStatus) string {
	switch {
	case v.AverageUtilization != nil && v.AverageValue != nil:
		return fmt.Sprintf("%d%% (%s per pod)", *v.AverageUtilization, v.AverageValue.String())
	case v.AverageUtilization != nil:
		return fmt.Sprintf("%d%%", *v.AverageUtilization)
	case v.AverageValue != nil:
		return v.AverageValue.String() + " per pod"
	case v.Value != nil:
		return v.Value.String()
	}
	return "-"
}

func formatRatio(r recommender.Ratio) string {
	return strconv.FormatFloat(float64(r), 'f', 3, 64)
}

func formatAdjusted(r *recommender.Ratio) string {
	if r == nil {
		return "-"
	}
	return formatRatio(*r)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

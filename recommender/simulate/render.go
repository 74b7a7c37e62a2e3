package simulate

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hpa-engine/hpa-engine/recommender"
)

// CSVHeader is the header WriteCSV writes for a timeline's metrics: time,
// seconds since the start, then per metric its load and its proposal, then
// desired, current, rescaled, limited and reason.
func CSVHeader(metrics []Metric) []string {
	h := []string{"time", "offset_seconds"}
	for _, m := range metrics {
		h = append(h, "load_"+m.Name)
	}
	for _, m := range metrics {
		h = append(h, "proposal_"+m.Name)
	}
	return append(h, "desired", "current", "rescaled", "limited", "reason")
}

// WriteCSV writes one row per step. A load without data is empty; a
// proposal is empty when no metric was computed and "failed" when its metric
// could not be used.
func WriteCSV(w io.Writer, tl *Timeline) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader(tl.Metrics)); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	row := make([]string, 0, 7+2*len(tl.Metrics))
	for _, s := range tl.Steps {
		row = append(row[:0], s.Time.UTC().Format(time.RFC3339), strconv.FormatInt(int64(s.Time.Sub(tl.From)/time.Second), 10))
		for j := range tl.Metrics {
			row = append(row, formatLoad(s.Load, j))
		}
		for j := range tl.Metrics {
			row = append(row, formatProposal(s.Proposals, j))
		}
		row = append(row, strconv.Itoa(int(s.Desired)), strconv.Itoa(int(s.Current)), strconv.FormatBool(s.Rescaled), s.Limited, s.Reason)
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

func formatLoad(load []*float64, j int) string {
	if j >= len(load) || load[j] == nil {
		return ""
	}
	return strconv.FormatFloat(*load[j], 'g', -1, 64)
}

func formatProposal(ps []Proposal, j int) string {
	switch {
	case j >= len(ps):
		return ""
	case ps[j].Rule == recommender.RuleFailed:
		return "failed"
	}
	return strconv.Itoa(int(ps[j].Replicas))
}

// The chart's geometry, in SVG user units.
const (
	svgWidth    = 960
	svgHeight   = 420
	plotLeft    = 70
	plotRight   = 890
	plotTop     = 50
	plotBottom  = 350
	legendY     = 395
	tickLength  = 5
	targetTicks = 6
)

// The series' colours.
var (
	loadColours    = []string{"#1f77b4", "#9467bd", "#8c564b", "#e377c2", "#17becf"}
	desiredColour  = "#d62728"
	currentColour  = "#2ca02c"
	axisColour     = "#333333"
	gridColour     = "#dddddd"
	chartFontStyle = "font-family:sans-serif;font-size:11px"
)

// WriteSVG draws the timeline: time on the x axis, the load of each metric
// on the left axis, and the desired and current replicas as step lines on
// the right axis. Every text is escaped for XML.
func WriteSVG(w io.Writer, tl *Timeline) error {
	c := newChart(tl)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" style="%s">`+"\n", svgWidth, svgHeight, svgWidth, svgHeight, chartFontStyle)
	fmt.Fprintf(&b, "<title>%s</title>\n", escape(c.title()))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>`+"\n", svgWidth, svgHeight)
	fmt.Fprintf(&b, `<text id="heading" x="%d" y="25" style="font-size:14px;font-weight:bold">%s</text>`+"\n", plotLeft, escape(c.title()))
	c.xAxis(&b)
	c.yAxis(&b, "y-axis-load", plotLeft, -1, c.loadMin, c.loadMax, c.loadLabel())
	c.yAxis(&b, "y-axis-replicas", plotRight, 1, 0, c.replicasMax, "replicas")
	for j := range tl.Metrics {
		fmt.Fprintf(&b, `<path id="load-%d" class="load" fill="none" stroke="%s" stroke-width="1.5" d="%s"/>`+"\n", j, loadColours[j%len(loadColours)], c.loadPath(j))
	}
	fmt.Fprintf(&b, `<path id="desired" class="replicas" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="6 3" d="%s"/>`+"\n", desiredColour, c.replicaPath(func(s Step) int32 { return s.Desired }))
	fmt.Fprintf(&b, `<path id="current" class="replicas" fill="none" stroke="%s" stroke-width="2" d="%s"/>`+"\n", currentColour, c.replicaPath(func(s Step) int32 { return s.Current }))
	c.legend(&b)
	b.WriteString("</svg>\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}

// escape escapes text for XML content and attribute values.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// chart holds the scales of one drawing.
type chart struct {
	tl                *Timeline
	t0, t1            time.Time
	loadMin, loadMax  float64
	replicasMax       float64
	loadTick, repTick float64
}

func newChart(tl *Timeline) *chart {
	c := &chart{tl: tl, t0: tl.From, t1: tl.To}
	if !c.t1.After(c.t0) {
		c.t1 = c.t0.Add(max(tl.Step.Duration, time.Second))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var reps int32
	for _, s := range tl.Steps {
		for _, l := range s.Load {
			if l != nil {
				lo, hi = math.Min(lo, *l), math.Max(hi, *l)
			}
		}
		reps = max(reps, s.Desired, s.Current)
	}
	reps = max(reps, tl.MaxReplicas)
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	lo = math.Min(lo, 0)
	c.loadTick = niceStep((hi - lo) / (targetTicks - 1))
	c.loadMin = math.Floor(lo/c.loadTick) * c.loadTick
	c.loadMax = math.Ceil(hi/c.loadTick) * c.loadTick
	if c.loadMax <= c.loadMin {
		c.loadMax = c.loadMin + c.loadTick
	}
	c.repTick = math.Max(1, niceStep(float64(reps)/(targetTicks-1)))
	c.replicasMax = math.Max(c.repTick, math.Ceil(float64(reps)/c.repTick)*c.repTick)
	return c
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func (c *chart) title() string {
	return fmt.Sprintf("%s %s/%s: %s to %s, step %s", c.tl.Kind, c.tl.Namespace, c.tl.Name,
		c.tl.From.UTC().Format(time.RFC3339), c.tl.To.UTC().Format(time.RFC3339), c.tl.Step.Duration)
}

func (c *chart) loadLabel() string {
	names := make([]string, len(c.tl.Metrics))
	for i, m := range c.tl.Metrics {
		names[i] = m.Name
	}
	return "load (" + strings.Join(names, ", ") + ")"
}

func (c *chart) x(t time.Time) float64 {
	return plotLeft + float64(t.Sub(c.t0))/float64(c.t1.Sub(c.t0))*(plotRight-plotLeft)
}

func (c *chart) yLoad(v float64) float64 {
	return plotBottom - (v-c.loadMin)/(c.loadMax-c.loadMin)*(plotBottom-plotTop)
}

func (c *chart) yReplicas(v float64) float64 {
	return plotBottom - v/c.replicasMax*(plotBottom-plotTop)
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func (c *chart) xAxis(b *bytes.Buffer) {
	fmt.Fprintf(b, `<g id="x-axis" stroke="%s">`+"\n", axisColour)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", plotLeft, plotBottom, plotRight, plotBottom)
	span := c.t1.Sub(c.t0)
	layout := "15:04"
	switch {
	case span > 48*time.Hour:
		layout = "01-02"
	case span > 20*time.Hour:
		layout = "01-02 15:04"
	case span < 5*time.Minute:
		layout = "15:04:05"
	}
	for i := range targetTicks {
		t := c.t0.Add(span * time.Duration(i) / (targetTicks - 1))
		x := num(c.x(t))
		fmt.Fprintf(b, `<line x1="%s" y1="%d" x2="%s" y2="%d"/>`+"\n", x, plotBottom, x, plotBottom+tickLength)
		fmt.Fprintf(b, `<text x="%s" y="%d" text-anchor="middle" stroke="none" fill="%s">%s</text>`+"\n", x, plotBottom+18, axisColour, escape(t.UTC().Format(layout)))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" stroke="none" fill="%s">%s</text>`+"\n", (plotLeft+plotRight)/2, plotBottom+34, axisColour, "time (UTC)")
	b.WriteString("</g>\n")
}

// yAxis draws a vertical axis at x with ticks on side (-1 left, 1 right)
// and, for the left axis, the grid.
func (c *chart) yAxis(b *bytes.Buffer, id string, x, side int, lo, hi float64, label string) {
	fmt.Fprintf(b, `<g id="%s" stroke="%s">`+"\n", id, axisColour)
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", x, plotTop, x, plotBottom)
	y := c.yLoad
	step := c.loadTick
	if id == "y-axis-replicas" {
		y, step = c.yReplicas, c.repTick
	}
	anchor, tx := "end", x-tickLength-3
	if side > 0 {
		anchor, tx = "start", x+tickLength+3
	}
	for i := 0; ; i++ {
		v := lo + float64(i)*step
		if v > hi+step/1e6 {
			break
		}
		yy := num(y(v))
		if side < 0 && v != lo {
			fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s"/>`+"\n", plotLeft, yy, plotRight, yy, gridColour)
		}
		fmt.Fprintf(b, `<line x1="%d" y1="%s" x2="%d" y2="%s"/>`+"\n", x, yy, x+side*tickLength, yy)
		fmt.Fprintf(b, `<text x="%d" y="%s" dy="4" text-anchor="%s" stroke="none" fill="%s">%s</text>`+"\n", tx, yy, anchor, axisColour, escape(strconv.FormatFloat(v, 'g', 6, 64)))
	}
	lx := x - 55
	if side > 0 {
		lx = x + 45
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" stroke="none" fill="%s" transform="rotate(-90 %d %d)">%s</text>`+"\n", lx, (plotTop+plotBottom)/2, axisColour, lx, (plotTop+plotBottom)/2, escape(label))
	b.WriteString("</g>\n")
}

// loadPath draws metric j's load, broken where there is no data.
func (c *chart) loadPath(j int) string {
	var b strings.Builder
	pen := false
	for _, s := range c.tl.Steps {
		if j >= len(s.Load) || s.Load[j] == nil {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(cmd + num(c.x(s.Time)) + "," + num(c.yLoad(*s.Load[j])))
		pen = true
	}
	return b.String()
}

// replicaPath draws a step line: a value holds until the next step.
func (c *chart) replicaPath(v func(Step) int32) string {
	var b strings.Builder
	for i, s := range c.tl.Steps {
		y := num(c.yReplicas(float64(v(s))))
		x := num(c.x(s.Time))
		if i == 0 {
			b.WriteString("M" + x + "," + y)
		} else {
			b.WriteString(" H" + x + " V" + y)
		}
	}
	if n := len(c.tl.Steps); n > 0 {
		end := c.tl.Steps[n-1].Time.Add(c.tl.Step.Duration)
		b.WriteString(" H" + num(math.Min(c.x(end), plotRight)))
	}
	return b.String()
}

func (c *chart) legend(b *bytes.Buffer) {
	b.WriteString(`<g id="legend">` + "\n")
	x := plotLeft
	item := func(colour, dash, label string) {
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", x, legendY, x+20, legendY, colour, dash)
		fmt.Fprintf(b, `<text x="%d" y="%d" dy="4">%s</text>`+"\n", x+25, legendY, escape(label))
		x += 35 + 7*len(label)
	}
	for j, m := range c.tl.Metrics {
		item(loadColours[j%len(loadColours)], "", fmt.Sprintf("load %s (%s)", m.Name, m.Type))
	}
	item(desiredColour, ` stroke-dasharray="6 3"`, "desired replicas")
	item(currentColour, "", "current replicas")
	b.WriteString("</g>\n")
}

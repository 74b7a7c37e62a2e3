package simulate

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// svgDoc is the structure WriteSVG promises: a title, three axes, one load
// path per metric, the desired and current step lines and a legend.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	NS      string   `xml:"xmlns,attr"`
	Width   string   `xml:"width,attr"`
	ViewBox string   `xml:"viewBox,attr"`
	Title   string   `xml:"title"`
	Groups  []struct {
		ID    string     `xml:"id,attr"`
		Lines []struct{} `xml:"line"`
		Texts []string   `xml:"text"`
	} `xml:"g"`
	Paths []struct {
		ID    string `xml:"id,attr"`
		Class string `xml:"class,attr"`
		D     string `xml:"d,attr"`
	} `xml:"path"`
}

func stepLoadTimeline(t *testing.T) *Timeline {
	t.Helper()
	target, load := loadScenario(t, "testdata/stepload")
	tl, err := Replay(Config{
		Target:          target,
		Range:           Range{From: stepFrom, To: stepFrom.Add(time.Duration(len(load)-1) * 15 * time.Second), Step: 15 * time.Second},
		InitialReplicas: int32p(2),
	}, []Series{totals(load)})
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func TestWriteSVG(t *testing.T) {
	gap := stepLoadTimeline(t)
	// A name that must be escaped, and a gap in the load.
	gap.Name = `web<&>"x"`
	gap.Steps[10].Load[0] = nil
	tests := []struct {
		name       string
		tl         *Timeline
		golden     string
		title      string
		loadMoves  int
		yLoadTexts []string
	}{
		{name: "step load", tl: stepLoadTimeline(t), golden: "testdata/stepload/timeline.svg", title: "HorizontalPodAutoscaler sim/web: 2026-01-01T00:00:00Z to 2026-01-01T00:30:00Z, step 15s", loadMoves: 1,
			yLoadTexts: []string{"0", "200", "400", "600", "800", "load (e2e_pod_load)"}},
		{name: "escaped name and a gap", tl: gap, title: `HorizontalPodAutoscaler sim/web<&>"x": 2026-01-01T00:00:00Z to 2026-01-01T00:30:00Z, step 15s`, loadMoves: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSVG(&b, tt.tl); err != nil {
				t.Fatal(err)
			}
			checkWellFormed(t, b.Bytes())
			var doc svgDoc
			if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatalf("not XML: %v", err)
			}
			if doc.NS != "http://www.w3.org/2000/svg" || doc.Width == "" || doc.ViewBox == "" {
				t.Errorf("root %+v, want an svg element in the SVG namespace with a size", doc.XMLName)
			}
			if doc.Title != tt.title {
				t.Errorf("title %q, want %q", doc.Title, tt.title)
			}
			groups := map[string]int{}
			for _, g := range doc.Groups {
				groups[g.ID] = len(g.Lines)
				if g.ID == "y-axis-load" && tt.yLoadTexts != nil && strings.Join(g.Texts, "|") != strings.Join(tt.yLoadTexts, "|") {
					t.Errorf("load axis texts %q, want %q", g.Texts, tt.yLoadTexts)
				}
			}
			for _, id := range []string{"x-axis", "y-axis-load", "y-axis-replicas", "legend"} {
				if groups[id] < 2 {
					t.Errorf("group %q has %d lines, want an axis with ticks (groups %v)", id, groups[id], groups)
				}
			}
			paths := map[string]string{}
			for _, p := range doc.Paths {
				paths[p.ID] = p.D
			}
			if got := strings.Count(paths["load-0"], "M"); got != tt.loadMoves {
				t.Errorf("load path has %d segments, want %d: %s", got, tt.loadMoves, paths["load-0"])
			}
			// A step line: one move, then horizontal and vertical moves only,
			// two per step after the first, and one to the end.
			for _, id := range []string{"desired", "current"} {
				d := paths[id]
				if !strings.HasPrefix(d, "M") || strings.Count(d, "H") != len(tt.tl.Steps) || strings.Count(d, "V") != len(tt.tl.Steps)-1 || strings.Contains(d, "L") {
					t.Errorf("%s path is not a step line over %d steps: %.120s", id, len(tt.tl.Steps), d)
				}
			}
			if tt.golden != "" {
				golden(t, tt.golden, b.Bytes())
			}
		})
	}
}

// checkWellFormed reads every token: encoding/xml fails on unescaped text,
// unbalanced elements and bad attributes.
func checkWellFormed(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		t.Fatalf("SVG leaves %d elements open", depth)
	}
}

func TestWriteCSV(t *testing.T) {
	tl := stepLoadTimeline(t)
	tl.Steps[3].Load[0] = nil
	tl.Steps[4].Proposals[0].Rule = "Failed"
	tl.Steps[5].Proposals = nil
	var b bytes.Buffer
	if err := WriteCSV(&b, tl); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		row  int
		want string
	}{
		{name: "header", row: 0, want: "time,offset_seconds,load_e2e_pod_load,proposal_e2e_pod_load,desired,current,rescaled,limited,reason"},
		{name: "first step", row: 1, want: "2026-01-01T00:00:00Z,0,150,2,2,2,false,,ReadyForNewScale"},
		{name: "no data is empty", row: 4, want: "2026-01-01T00:00:45Z,45,,2,2,2,false,,ReadyForNewScale"},
		{name: "failed proposal", row: 5, want: "2026-01-01T00:01:00Z,60,150,failed,2,2,false,,ReadyForNewScale"},
		{name: "no proposals", row: 6, want: "2026-01-01T00:01:15Z,75,150,,2,2,false,,ReadyForNewScale"},
		{name: "limited rescale", row: 21, want: "2026-01-01T00:05:00Z,300,800,8,4,2,true,ScaleUpLimit,SucceededRescale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(rows[tt.row], ","); got != tt.want {
				t.Errorf("row %d = %s, want %s", tt.row, got, tt.want)
			}
		})
	}
	if len(rows) != len(tl.Steps)+1 {
		t.Errorf("%d rows, want a header and %d steps", len(rows), len(tl.Steps))
	}
}

func TestNiceStep(t *testing.T) {
	tests := []struct {
		name string
		raw  float64
		want float64
	}{
		{name: "one", raw: 1, want: 1},
		{name: "up to two", raw: 1.2, want: 2},
		{name: "up to five", raw: 160, want: 200},
		{name: "up to ten", raw: 6, want: 10},
		{name: "small", raw: 0.03, want: 0.05},
		{name: "zero", raw: 0, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := niceStep(tt.raw); got < tt.want*0.999999 || got > tt.want*1.000001 {
				t.Errorf("niceStep(%g) = %g, want %g", tt.raw, got, tt.want)
			}
		})
	}
}

package recommender

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestJSONGolden pins the wire format the REST API serves: each case's input
// as a client would POST it (testdata/api/<name>.input.json) and the result
// it gets back (<name>.result.json). Run with -update to rewrite both.
func TestJSONGolden(t *testing.T) {
	for name, in := range explanationCases() {
		t.Run(name, func(t *testing.T) {
			inPath := filepath.Join("testdata", "api", name+".input.json")
			outPath := filepath.Join("testdata", "api", name+".result.json")
			if *update {
				b, err := json.MarshalIndent(in, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				writeGolden(t, inPath, b)
			}
			raw, err := os.ReadFile(inPath)
			if err != nil {
				t.Fatalf("read input (run with -update to create it): %v", err)
			}
			var decoded Input
			if err := json.Unmarshal(raw, &decoded); err != nil {
				t.Fatalf("decode %s: %v", inPath, err)
			}
			res, err := Recommend(decoded)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			if *update {
				writeGolden(t, outPath, got)
			}
			want, err := os.ReadFile(outPath)
			if err != nil {
				t.Fatalf("read result (run with -update to create it): %v", err)
			}
			if string(got) != string(want) {
				t.Errorf("result differs from %s:\n%s", outPath, got)
			}
		})
	}
}

func writeGolden(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

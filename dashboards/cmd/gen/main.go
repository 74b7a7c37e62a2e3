// Command gen writes the generated Grafana dashboards into a folder
// (dashboards/ by default): `go run ./dashboards/cmd/gen`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hpa-engine/hpa-engine/dashboards"
)

func main() {
	dir := flag.String("dir", "dashboards", "folder the dashboards' JSON files are written to")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(dir string) error {
	for _, f := range dashboards.Files() {
		d, err := f.Build()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		b, err := dashboards.Render(d)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

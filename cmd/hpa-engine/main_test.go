package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRootCommand(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		check   func(t *testing.T, out string)
	}{
		{
			name: "version prints the go version",
			args: []string{"version"},
			check: func(t *testing.T, out string) {
				if !strings.HasPrefix(out, "hpa-engine ") || !strings.Contains(out, "go1.") {
					t.Errorf("unexpected version output %q", out)
				}
			},
		},
		{
			name: "version --json is valid JSON",
			args: []string{"version", "--json"},
			check: func(t *testing.T, out string) {
				var v versionInfo
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("output is not JSON: %v\n%s", err, out)
				}
				if v.Version == "" || v.GoVersion == "" || v.Platform == "" {
					t.Errorf("incomplete version %+v", v)
				}
			},
		},
		{
			name: "help lists version",
			args: []string{"--help"},
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "version") {
					t.Errorf("help does not list version:\n%s", out)
				}
			},
		},
		{name: "unknown subcommand fails", args: []string{"nope"}, wantErr: true},
		{name: "version takes no arguments", args: []string{"version", "x"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newRootCommand()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tt.args)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, out.String())
			}
		})
	}
}

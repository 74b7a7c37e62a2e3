package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestServeOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "all roles by default", args: nil},
		{name: "adapter only", args: []string{"--recommender=false", "--scaler=false"}},
		{name: "recommender only", args: []string{"--adapter=false", "--scaler=false"}},
		{name: "recommender and scaler", args: []string{"--adapter=false"}},
		{name: "nothing", args: []string{"--adapter=false", "--recommender=false", "--scaler=false"}, wantErr: "nothing to serve"},
		{name: "scaler without recommender", args: []string{"--recommender=false"}, wantErr: "--scaler needs --recommender"},
		{name: "controller flag checked", args: []string{"--sync-period=0s"}, wantErr: "--sync-period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newServeOptions()
			cmd := serveCommand(o)
			args := append([]string{"--config=adapter.yaml", "--prometheus-url=http://127.0.0.1:9090"}, tt.args...)
			if err := cmd.Flags().Parse(args); err != nil {
				t.Fatalf("parse %v: %v", tt.args, err)
			}
			var msgs []string
			for _, err := range o.Validate() {
				msgs = append(msgs, err.Error())
			}
			got := strings.Join(msgs, "; ")
			switch {
			case tt.wantErr == "" && got != "":
				t.Errorf("Validate() = %q, want no error", got)
			case tt.wantErr != "" && !strings.Contains(got, tt.wantErr):
				t.Errorf("Validate() = %q, want an error containing %q", got, tt.wantErr)
			}
		})
	}
}

// TestServeFlags: serve carries every flag of `adapter` and `controller`
// under the same name, so a manifest of either role carries over.
func TestServeFlags(t *testing.T) {
	serve := newServeCommand().Flags()
	for name, cmd := range map[string]*cobra.Command{"adapter": newAdapterCommand(), "controller": newControllerCommand()} {
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if serve.Lookup(f.Name) == nil {
				t.Errorf("serve has no --%s, which %s has", f.Name, name)
			}
		})
	}
}

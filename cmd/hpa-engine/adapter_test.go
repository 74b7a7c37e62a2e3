package main

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAdapterFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string // substring; "" for valid
		check   func(t *testing.T, o *adapterOptions)
	}{
		{
			name: "prometheus-adapter's flags",
			args: []string{
				"--config=/etc/adapter/config.yaml", "--prometheus-url=https://prometheus:9090",
				"--prometheus-verb=GET", "--prometheus-timeout=5s", "--prometheus-ca-file=/ca.crt",
				"--prometheus-client-cert=/tls.crt", "--prometheus-client-key=/tls.key",
				"--prometheus-token-file=/token", "--prometheus-header=X-Scope-OrgID=team-a",
				"--prometheus-header=X-Extra=a=b", "--metrics-relist-interval=30s",
				"--kubeconfig=/kubeconfig", "--secure-port=6443", "-v=0",
			},
			check: func(t *testing.T, o *adapterOptions) {
				p := o.Prometheus
				if p.URL != "https://prometheus:9090" || p.Verb != "GET" || p.Timeout != 5*time.Second ||
					p.TLS.CAFile != "/ca.crt" || p.TLS.CertFile != "/tls.crt" || p.TLS.KeyFile != "/tls.key" || p.BearerTokenFile != "/token" {
					t.Errorf("prometheus client config %+v", p)
				}
				headers, err := parseHeaders(o.Headers)
				if err != nil {
					t.Fatal(err)
				}
				if want := map[string]string{"X-Scope-OrgID": "team-a", "X-Extra": "a=b"}; !reflect.DeepEqual(headers, want) {
					t.Errorf("headers %v, want %v", headers, want)
				}
				if o.RelistInterval != 30*time.Second || o.Kubeconfig != "/kubeconfig" || o.ConfigFile != "/etc/adapter/config.yaml" {
					t.Errorf("options %+v", o)
				}
			},
		},
		{
			name: "defaults: POST, 1m relist, 100 names",
			args: []string{"--config=c.yaml", "--prometheus-url=http://prometheus:9090"},
			check: func(t *testing.T, o *adapterOptions) {
				if o.Prometheus.Verb != "POST" || o.RelistInterval != time.Minute || o.MaxQueryNames != 100 {
					t.Errorf("defaults %+v", o)
				}
			},
		},
		{name: "no config", args: []string{"--prometheus-url=http://p:9090"}, wantErr: "--config is required"},
		{name: "no prometheus url", args: []string{"--config=c.yaml"}, wantErr: "prometheus url is required"},
		{name: "bad verb", args: []string{"--config=c.yaml", "--prometheus-url=http://p:9090", "--prometheus-verb=PUT"}, wantErr: "verb"},
		{name: "bad header", args: []string{"--config=c.yaml", "--prometheus-url=http://p:9090", "--prometheus-header=novalue"}, wantErr: "key=value"},
		{name: "zero relist interval", args: []string{"--config=c.yaml", "--prometheus-url=http://p:9090", "--metrics-relist-interval=0s"}, wantErr: "--metrics-relist-interval"},
		{name: "cert without key", args: []string{"--config=c.yaml", "--prometheus-url=http://p:9090", "--tls-cert-file=/a.crt"}, wantErr: "--tls-private-key-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newAdapterOptions()
			if err := adapterCommand(got).Flags().Parse(tt.args); err != nil {
				t.Fatalf("parse: %v", err)
			}
			err := errors.Join(got.Validate()...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate = %v, want an error with %q", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// TestAdapterCommandFailsBeforeServing: invalid flags stop the command
// before it contacts anything.
func TestAdapterCommandFailsBeforeServing(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"adapter", "--prometheus-url=http://127.0.0.1:1"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	if err == nil || !strings.Contains(err.Error(), "--config is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestAdapterHelpListsFlags(t *testing.T) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"adapter", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"--config", "--prometheus-url", "--prometheus-header", "--metrics-relist-interval", "--kubeconfig", "--secure-port", "--tls-cert-file", "-v, --v"} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("help does not list %s", f)
		}
	}
}

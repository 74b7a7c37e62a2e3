package api

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantErrs int
		want     Config
	}{
		{
			name: "defaults",
			want: Config{Address: ":8080", AuthCacheTTL: 10 * time.Second, AuthTimeout: 10 * time.Second, MaxBodyBytes: 1 << 20},
		},
		{
			name: "every flag",
			args: []string{"--rest-address=127.0.0.1:9090", "--rest-auth", "--rest-auth-cache-ttl=1m", "--rest-auth-timeout=3s", "--rest-max-body-bytes=2048"},
			want: Config{Address: "127.0.0.1:9090", Auth: true, AuthCacheTTL: time.Minute, AuthTimeout: 3 * time.Second, MaxBodyBytes: 2048},
		},
		{name: "ipv6 address", args: []string{"--rest-address=[::1]:8080"}, want: Config{Address: "[::1]:8080", AuthCacheTTL: 10 * time.Second, AuthTimeout: 10 * time.Second, MaxBodyBytes: 1 << 20}},
		{name: "empty address", args: []string{"--rest-address="}, wantErrs: 1},
		{name: "address without port", args: []string{"--rest-address=localhost"}, wantErrs: 1},
		{name: "port out of range", args: []string{"--rest-address=:70000"}, wantErrs: 1},
		{name: "named port", args: []string{"--rest-address=:http"}, wantErrs: 1},
		{name: "all invalid at once", args: []string{"--rest-address=x", "--rest-auth-cache-ttl=-1s", "--rest-auth-timeout=0s", "--rest-max-body-bytes=0"}, wantErrs: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOptions()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			errs := o.Validate()
			if len(errs) != tt.wantErrs {
				t.Fatalf("Validate() = %v, want %d errors", errs, tt.wantErrs)
			}
			cfg, err := o.Config()
			if (err != nil) != (tt.wantErrs > 0) {
				t.Fatalf("Config() error %v", err)
			}
			if tt.wantErrs == 0 && cfg != tt.want {
				t.Errorf("Config() = %+v, want %+v", cfg, tt.want)
			}
		})
	}
}

package testbed

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// binaries are the paths of the pinned programs hack/testbins.sh builds. The
// script is the one place that knows their versions and where they live.
type binaries struct {
	Prometheus            string
	KubeAPIServer         string
	KubeControllerManager string
	Etcd                  string
}

var (
	binsOnce sync.Once
	bins     binaries
	binsErr  error
)

func findBinaries() (binaries, error) {
	binsOnce.Do(func() { bins, binsErr = locateBinaries() })
	return bins, binsErr
}

func locateBinaries() (binaries, error) {
	root, err := repoRoot()
	if err != nil {
		return binaries{}, err
	}
	script := filepath.Join(root, "hack", "testbins.sh")
	out, err := exec.Command("bash", script, "--print").Output()
	if err != nil {
		return binaries{}, fmt.Errorf("%s --print: %w", script, err)
	}
	dirs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			dirs[k] = v
		}
	}
	var b binaries
	var missing []string
	for name, dst := range map[string]*string{
		"prometheus":              &b.Prometheus,
		"kube-apiserver":          &b.KubeAPIServer,
		"kube-controller-manager": &b.KubeControllerManager,
		"etcd":                    &b.Etcd,
	} {
		p := filepath.Join(dirs[name], name)
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			missing = append(missing, p)
			continue
		}
		*dst = p
	}
	if len(missing) > 0 {
		return binaries{}, fmt.Errorf("test binaries missing (%s): run `make testbins` in %s", strings.Join(missing, ", "), root)
	}
	return b, nil
}

// repoRoot walks up from the working directory (a test's package directory) to
// the folder that holds hack/testbins.sh.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "testbins.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("hack/testbins.sh not found above the working directory")
		}
		dir = parent
	}
}

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

// Names of the pinned programs hack/testbins.sh builds. The script is the one
// place that knows their versions and where they live.
const (
	binPrometheus            = "prometheus"
	binKubeAPIServer         = "kube-apiserver"
	binKubeControllerManager = "kube-controller-manager"
	binEtcd                  = "etcd"
)

var (
	binDirsOnce sync.Once
	binDirs     map[string]string
	binDirsErr  error
	binRoot     string
)

// binary returns the path of one pinned program, or an error that says how to
// build it. Only what a test starts has to exist.
func binary(name string) (string, error) {
	binDirsOnce.Do(func() { binRoot, binDirs, binDirsErr = locateBinaries() })
	if binDirsErr != nil {
		return "", binDirsErr
	}
	p := filepath.Join(binDirs[name], name)
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return "", fmt.Errorf("test binary %s missing: run `make testbins` in %s", p, binRoot)
	}
	return p, nil
}

func locateBinaries() (string, map[string]string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", nil, err
	}
	script := filepath.Join(root, "hack", "testbins.sh")
	out, err := exec.Command("bash", script, "--print").Output()
	if err != nil {
		return "", nil, fmt.Errorf("%s --print: %w", script, err)
	}
	dirs := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			dirs[k] = v
		}
	}
	return root, dirs, nil
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

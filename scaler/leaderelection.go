package scaler

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// Leader election defaults, kube-controller-manager's.
const (
	DefaultLeaseDuration     = 15 * time.Second
	DefaultRenewDeadline     = 10 * time.Second
	DefaultRetryPeriod       = 2 * time.Second
	DefaultLeaseName         = "hpa-engine-controller"
	DefaultLeaseNamespace    = "hpa-engine"
	leaderElectionFlagPrefix = "leader-elect"
)

// LeaderElectionOptions are the --leader-elect* flags, named as in
// Kubernetes components.
type LeaderElectionOptions struct {
	// LeaderElect turns leader election on; without it the process acts as
	// the only leader (one replica, or tests).
	LeaderElect       bool
	LeaseDuration     time.Duration
	RenewDeadline     time.Duration
	RetryPeriod       time.Duration
	ResourceName      string
	ResourceNamespace string
}

// NewLeaderElectionOptions returns the options with their defaults.
func NewLeaderElectionOptions() *LeaderElectionOptions {
	return &LeaderElectionOptions{
		LeaseDuration:     DefaultLeaseDuration,
		RenewDeadline:     DefaultRenewDeadline,
		RetryPeriod:       DefaultRetryPeriod,
		ResourceName:      DefaultLeaseName,
		ResourceNamespace: DefaultLeaseNamespace,
	}
}

// AddFlags registers the flags on fs.
func (o *LeaderElectionOptions) AddFlags(fs *pflag.FlagSet) {
	p := leaderElectionFlagPrefix
	fs.BoolVar(&o.LeaderElect, p, o.LeaderElect, "Elect a leader through a Lease before scaling; only the leader scales and writes Autoscaler status. Enable it when running more than one replica.")
	fs.DurationVar(&o.LeaseDuration, p+"-lease-duration", o.LeaseDuration, "How long non-leaders wait after the last renewal before taking over.")
	fs.DurationVar(&o.RenewDeadline, p+"-renew-deadline", o.RenewDeadline, "How long the leader retries renewing before it gives up leading; less than the lease duration.")
	fs.DurationVar(&o.RetryPeriod, p+"-retry-period", o.RetryPeriod, "How long candidates wait between attempts to acquire or renew the lease.")
	fs.StringVar(&o.ResourceName, p+"-resource-name", o.ResourceName, "Name of the Lease object used for leader election.")
	fs.StringVar(&o.ResourceNamespace, p+"-resource-namespace", o.ResourceNamespace, "Namespace of the Lease object used for leader election.")
}

// Validate reports every invalid flag at once. The durations are checked
// even with election off, so that turning it on later cannot surprise.
func (o *LeaderElectionOptions) Validate() []error {
	var errs []error
	if o.LeaseDuration <= 0 || o.RenewDeadline <= 0 || o.RetryPeriod <= 0 {
		errs = append(errs, fmt.Errorf("--leader-elect-lease-duration %s, --leader-elect-renew-deadline %s, --leader-elect-retry-period %s: must be positive", o.LeaseDuration, o.RenewDeadline, o.RetryPeriod))
	}
	if o.LeaseDuration <= o.RenewDeadline {
		errs = append(errs, fmt.Errorf("--leader-elect-lease-duration %s: must be greater than --leader-elect-renew-deadline %s", o.LeaseDuration, o.RenewDeadline))
	}
	// client-go refuses a renew deadline within the jittered retry period:
	// a leader could not retry once before losing the lease.
	if float64(o.RenewDeadline) <= leaderelection.JitterFactor*float64(o.RetryPeriod) {
		errs = append(errs, fmt.Errorf("--leader-elect-renew-deadline %s: must be greater than %.1f x --leader-elect-retry-period %s", o.RenewDeadline, leaderelection.JitterFactor, o.RetryPeriod))
	}
	if o.LeaderElect {
		if o.ResourceName == "" {
			errs = append(errs, errors.New("--leader-elect-resource-name: must not be empty"))
		}
		if o.ResourceNamespace == "" {
			errs = append(errs, errors.New("--leader-elect-resource-namespace: must not be empty"))
		}
	}
	return errs
}

// Config returns the plain configuration of valid options.
func (o *LeaderElectionOptions) Config() LeaderElectionConfig {
	return LeaderElectionConfig{
		Enabled:       o.LeaderElect,
		LeaseDuration: o.LeaseDuration,
		RenewDeadline: o.RenewDeadline,
		RetryPeriod:   o.RetryPeriod,
		Name:          o.ResourceName,
		Namespace:     o.ResourceNamespace,
	}
}

// LeaderElectionConfig is the plain configuration of RunWithLeaderElection.
type LeaderElectionConfig struct {
	// Enabled false runs the function at once, as the only leader.
	Enabled       bool
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
	// Name and Namespace name the Lease.
	Name      string
	Namespace string
	// Identity is this candidate's holder identity; hostname plus a random
	// suffix when empty, so two processes on one host never share it.
	Identity string
	// Leases is the client of the Lease; required when Enabled.
	Leases coordinationv1client.LeasesGetter
	// OnNewLeader, when set, is told every leader change (metrics, logs).
	OnNewLeader func(identity string)
}

// RunWithLeaderElection calls run with a context that is cancelled when ctx
// is done or this process stops leading. With election off it calls run at
// once and returns when run does. With election on it campaigns for the
// Lease, calls run once elected, and returns ErrLeadershipLost when the lease
// is lost while ctx is still alive (the caller exits, as
// kube-controller-manager does, rather than campaign again with state that
// may be stale), or nil after ctx is done. The lease is released on a clean
// shutdown so that a successor takes over without waiting for expiry.
func RunWithLeaderElection(ctx context.Context, cfg LeaderElectionConfig, run func(ctx context.Context)) error {
	if !cfg.Enabled {
		run(ctx)
		return nil
	}
	if cfg.Leases == nil {
		return fmt.Errorf("leader election without a lease client: %w", ErrInvalidConfig)
	}
	id := cfg.Identity
	if id == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("leader election identity: %w", err)
		}
		id = host + "_" + string(uuid.NewUUID())
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: cfg.Name, Namespace: cfg.Namespace},
		Client:     cfg.Leases,
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}
	// The elector calls OnStartedLeading in a goroutine of its own, which
	// may start after Run has returned; the mutex decides whether run starts
	// at all, so that this function can wait for a run it let start.
	var (
		mu      sync.Mutex
		closed  bool
		running bool
		runDone = make(chan struct{})
	)
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   cfg.LeaseDuration,
		RenewDeadline:   cfg.RenewDeadline,
		RetryPeriod:     cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            cfg.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				mu.Lock()
				if closed {
					mu.Unlock()
					return
				}
				running = true
				mu.Unlock()
				defer close(runDone)
				klog.InfoS("Started leading", "lease", klog.KRef(cfg.Namespace, cfg.Name), "identity", id)
				run(lctx)
			},
			OnStoppedLeading: func() {
				klog.InfoS("Stopped leading", "lease", klog.KRef(cfg.Namespace, cfg.Name), "identity", id)
			},
			OnNewLeader: func(identity string) {
				klog.V(2).InfoS("New leader", "lease", klog.KRef(cfg.Namespace, cfg.Name), "leader", identity)
				if cfg.OnNewLeader != nil {
					cfg.OnNewLeader(identity)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w: %w", ErrInvalidConfig, err)
	}
	// Run returns when ctx is done or leadership is lost. The elector cancels
	// run's context first; waiting for run to return makes sure nothing is
	// scaled after this function returns.
	elector.Run(ctx)
	mu.Lock()
	closed = true
	wasRunning := running
	mu.Unlock()
	if wasRunning {
		<-runDone
	}
	if ctx.Err() == nil {
		return ErrLeadershipLost
	}
	return nil
}

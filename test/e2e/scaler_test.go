//go:build integration

package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hpa-engine/hpa-engine/scaler"
	"github.com/hpa-engine/hpa-engine/scaler/apis/v1alpha1"
	"github.com/hpa-engine/hpa-engine/test/testbed"
)

// TestAutoscalerOnDeployment: an Autoscaler scales a Deployment on
// Prometheus data up and back down, by itself (no HPA object exists), and
// a dry-run Autoscaler beside it only says what it would do.
func TestAutoscalerOnDeployment(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	installAutoscalerCRD(ctx, t)
	ns := cp.CreateNamespace(ctx, t, "e2e-scaler")
	createDeployment(ctx, t, ns, "web", 2)
	createDeployment(ctx, t, ns, "dry", 2)
	pusher := startPusher(t, ns)
	pusher.SetPodLoad("web", 10)
	pusher.SetPodLoad("dry", 10)
	ref := func(name string) autoscalingv2.CrossVersionObjectReference {
		return autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name}
	}
	createAutoscaler(ctx, t, ns, "web", podLoadAutoscaler(ref("web"), 1, 8, nil))
	dry := podLoadAutoscaler(ref("dry"), 1, 8, nil)
	dry.DryRun = true
	createAutoscaler(ctx, t, ns, "dry", dry)
	startScalerController(ctx, t, "hpa-engine-controller-scaler")

	// e2e_pod_load is per pod and does not drop as pods are added, so the
	// count moves until it reaches a bound or the load is back on target.
	steps := []struct {
		name string
		load float64
		want int32
		hold bool
	}{
		{name: "on target: hold", load: 10, want: 2, hold: true},
		{name: "2.5x: scale up to maxReplicas", load: 25, want: 8},
		{name: "back on target: hold", load: 10, want: 8, hold: true},
		{name: "0.3x: scale down to minReplicas", load: 3, want: 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
			defer cancel()
			pusher.SetPodLoad("web", st.load)
			waitAutoscaled(sctx, t, deploymentsGVR, ns, "web", st.want)
			if st.hold {
				stayReplicas(sctx, t, deploymentsGVR, ns, "web", st.want, 3*time.Second)
			}
			waitReplicas(sctx, t, ns, "web", st.want)
		})
	}
	t.Run("status carries the history and conditions", func(t *testing.T) {
		a, err := getAutoscaler(ctx, dynamicClient(t), ns, "web")
		if err != nil {
			t.Fatal(err)
		}
		st := a.Status
		if st.History == nil || len(st.History.Recommendations) == 0 || len(st.History.ScaleUpEvents) == 0 || len(st.History.ScaleDownEvents) == 0 {
			t.Errorf("history %+v, want recommendations and scale up and down events", st.History)
		}
		if len(st.Conditions) == 0 || st.LastScaleTime == nil || st.LastExplanation == nil || len(st.CurrentMetrics) == 0 {
			t.Errorf("status %s: want conditions, lastScaleTime, lastExplanation and currentMetrics", autoscalerSummary(a))
		}
		hpas, err := cp.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(hpas.Items) != 0 {
			t.Errorf("HPAs in %s: %v, %v; the native HPA controller must not be involved", ns, hpas, err)
		}
	})
	t.Run("dry run: status says what it would do, replicas untouched", func(t *testing.T) {
		pusher.SetPodLoad("dry", 25)
		dyn := dynamicClient(t)
		testbed.Eventually(ctx, t, "dry-run Autoscaler desires 5", func() error {
			a, err := getAutoscaler(ctx, dyn, ns, "dry")
			if err != nil {
				return err
			}
			if a.Status.DesiredReplicas != 5 || a.Status.CurrentReplicas != 2 {
				return fmt.Errorf("autoscaler %s", autoscalerSummary(a))
			}
			return nil
		})
		stayReplicas(ctx, t, deploymentsGVR, ns, "dry", 2, 5*time.Second)
		a, err := getAutoscaler(ctx, dyn, ns, "dry")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status.LastScaleTime != nil {
			t.Errorf("dry-run Autoscaler has lastScaleTime %v", a.Status.LastScaleTime)
		}
		t.Logf("dry run status: %s", autoscalerSummary(a))
	})
}

// TestAutoscalerOnStatefulSetAndCustomResource: Autoscalers scale a
// StatefulSet on its pods' metric and a custom resource with a scale
// subresource, which has no pods, on an External metric, up and down.
func TestAutoscalerOnStatefulSetAndCustomResource(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	installAutoscalerCRD(ctx, t)
	installWidgetCRD(ctx, t)
	ns := cp.CreateNamespace(ctx, t, "e2e-scaler-kinds")
	createStatefulSet(ctx, t, ns, "db", 2)
	createWidget(ctx, t, ns, "widget", 2)
	pusher := startPusher(t, ns)
	pusher.SetPodLoad("db", 10)
	queue := map[string]string{"__name__": "e2e_queue_length", "queue": "widgets"}
	pusher.Set(queue, 20)
	createAutoscaler(ctx, t, ns, "db", podLoadAutoscaler(autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db"}, 1, 6, nil))
	createAutoscaler(ctx, t, ns, "widget", queueAutoscaler(autoscalingv2.CrossVersionObjectReference{APIVersion: widgetsGVR.GroupVersion().String(), Kind: "Widget", Name: "widget"}, "widgets", 1, 10))
	startScalerController(ctx, t, "hpa-engine-controller-kinds")

	t.Run("StatefulSet", func(t *testing.T) {
		for _, st := range []struct {
			name string
			load float64
			want int32
		}{
			{name: "on target", load: 10, want: 2},
			{name: "up to maxReplicas", load: 25, want: 6},
			{name: "down to minReplicas", load: 3, want: 1},
		} {
			sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
			pusher.SetPodLoad("db", st.load)
			waitAutoscaled(sctx, t, statefulSetsGVR, ns, "db", st.want)
			cancel()
			t.Logf("%s: %d replicas", st.name, st.want)
		}
	})
	t.Run("custom resource", func(t *testing.T) {
		for _, st := range []struct {
			name  string
			queue float64
			want  int32
		}{
			{name: "on target", queue: 20, want: 2},
			{name: "up", queue: 70, want: 7},
			{name: "capped at maxReplicas", queue: 200, want: 10},
			{name: "down", queue: 30, want: 3},
		} {
			sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
			pusher.Set(queue, st.queue)
			waitAutoscaled(sctx, t, widgetsGVR, ns, "widget", st.want)
			cancel()
			t.Logf("%s: %d replicas", st.name, st.want)
		}
	})
}

// TestScaleDownWindowSurvivesRestart: a scale-down stabilization window of
// 20 s and a 50 %-per-10 s policy on a custom resource; the controller is
// killed and restarted in the middle of the window. The restarted controller
// must not scale down before the window, measured from the last high
// recommendation stored in the status, has passed, and every step down must
// be the one the status explains and within the Percent policy.
func TestScaleDownWindowSurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	installAutoscalerCRD(ctx, t)
	installWidgetCRD(ctx, t)
	ns := cp.CreateNamespace(ctx, t, "e2e-scaler-restart")
	createWidget(ctx, t, ns, "shrink", 10)
	pusher := startPusher(t, ns)
	queue := map[string]string{"__name__": "e2e_queue_length", "queue": "shrink"}
	pusher.Set(queue, 100)
	const window = 20 * time.Second
	spec := queueAutoscaler(autoscalingv2.CrossVersionObjectReference{APIVersion: widgetsGVR.GroupVersion().String(), Kind: "Widget", Name: "shrink"}, "shrink", 1, 20)
	spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp: fastBehavior().ScaleUp,
		ScaleDown: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr(int32(window / time.Second)),
			Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 10}},
		},
	}
	createAutoscaler(ctx, t, ns, "shrink", spec)
	ctrl := startScalerController(ctx, t, "hpa-engine-controller-restart")
	dyn := dynamicClient(t)

	waitAutoscaled(ctx, t, widgetsGVR, ns, "shrink", 10)
	drop := time.Now()
	pusher.Set(queue, 20)
	// lastHigh is the newest recommendation of 10 the status holds once
	// recommendations of 2 are recorded: the window runs from it.
	var lastHigh time.Time
	testbed.Eventually(ctx, t, "a recommendation of 2 in the status", func() error {
		a, err := getAutoscaler(ctx, dyn, ns, "shrink")
		if err != nil {
			return err
		}
		h := a.Status.History
		if h == nil || len(h.Recommendations) == 0 || h.Recommendations[len(h.Recommendations)-1].Replicas != 2 {
			return fmt.Errorf("history %+v", h)
		}
		for _, r := range h.Recommendations {
			if r.Replicas == 10 && r.Timestamp.Time.After(lastHigh) {
				lastHigh = r.Timestamp.Time
			}
		}
		if lastHigh.IsZero() {
			return fmt.Errorf("no recommendation of 10 left in %+v", h.Recommendations)
		}
		return nil
	})
	t.Logf("load dropped at %s; last recommendation of 10 at %s (+%s); window ends at +%s",
		drop.Format(time.RFC3339Nano), lastHigh.Format(time.RFC3339Nano), lastHigh.Sub(drop), lastHigh.Add(window).Sub(drop))

	// Kill the controller in the middle of the window, as a crash would, and
	// start it again.
	time.Sleep(time.Until(lastHigh.Add(window / 3)))
	killed := time.Now()
	ctrl.Kill()
	if err := ctrl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("controller killed at +%s, ready again at +%s (restart took %s)", killed.Sub(drop), time.Since(drop), time.Since(killed))
	if r, err := specReplicas(ctx, dyn, widgetsGVR, ns, "shrink"); err != nil || r != 10 {
		t.Fatalf("replicas %d (%v) before the window ended", r, err)
	}
	// While the window holds, the restarted controller's own decision, in
	// the status, says why it keeps 10: the proposal of 2 stabilized to 10
	// over the 20 s window it restored from the status.
	testbed.Eventually(ctx, t, "the restarted controller's explanation shows the stabilization", func() error {
		a, err := getAutoscaler(ctx, dyn, ns, "shrink")
		if err != nil {
			return err
		}
		e := a.Status.LastExplanation
		if a.Status.LastRecommendationTime == nil || !a.Status.LastRecommendationTime.Time.After(killed) || e == nil {
			return fmt.Errorf("no recommendation since the restart yet: %s", autoscalerSummary(a))
		}
		if now := time.Now(); !now.Before(lastHigh.Add(window)) {
			t.Fatalf("the window ended at +%s before a recommendation since the restart was seen", lastHigh.Add(window).Sub(drop))
		}
		if !stabilizedTo(e.Steps, 10, int32(window/time.Second)) {
			t.Fatalf("inside the window the explanation does not show the proposal stabilized to 10 over %s: %+v", window, e.Steps)
		}
		t.Logf("+%s (inside the window): status desires %d; explanation %+v", time.Since(drop), a.Status.DesiredReplicas, e.Steps)
		return nil
	})

	// Follow the replicas down to 2, with the status at each change.
	type change struct {
		at       time.Time
		from, to int32
	}
	var changes []change
	prev := int32(10)
	testbed.Eventually(ctx, t, "scaled down to 2", func() error {
		r, err := specReplicas(ctx, dyn, widgetsGVR, ns, "shrink")
		if err != nil {
			return err
		}
		if r != prev {
			now := time.Now()
			changes = append(changes, change{at: now, from: prev, to: r})
			// The scaler updates the scale, then writes the status: give
			// the status a moment to catch up before reading why.
			var a *v1alpha1.Autoscaler
			for deadline := now.Add(3 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				if a, err = getAutoscaler(ctx, dyn, ns, "shrink"); err != nil {
					return err
				}
				if a.Status.DesiredReplicas == r || time.Now().After(deadline) {
					break
				}
			}
			t.Logf("+%s: %d -> %d; status %s", now.Sub(drop), prev, r, autoscalerSummary(a))
			if a.Status.DesiredReplicas != r {
				t.Errorf("replicas %d but status desires %d", r, a.Status.DesiredReplicas)
			}
			if e := a.Status.LastExplanation; r > 2 && (e == nil || !limitedTo(e.Steps, r)) {
				t.Errorf("replicas %d: the explanation does not say a scale-down policy limited the count to it: %+v", r, e)
			}
			prev = r
		}
		if r != 2 {
			return fmt.Errorf("replicas %d", r)
		}
		return nil
	})
	if len(changes) == 0 {
		t.Fatal("no change seen")
	}
	first := changes[0]
	t.Logf("first scale-down at +%s, %s after the last recommendation of 10 (window %s)", first.at.Sub(drop), first.at.Sub(lastHigh), window)
	if first.at.Before(lastHigh.Add(window)) {
		t.Errorf("scaled down %s after the last recommendation of 10, within the %s window", first.at.Sub(lastHigh), window)
	}
	if first.at.After(lastHigh.Add(window + 10*time.Second)) {
		t.Errorf("scaled down only %s after the last recommendation of 10", first.at.Sub(lastHigh))
	}
	// Each step is at most the policy's 50 %, and a second step waits for
	// the 10 s period of the first: the budget is never spent twice (the
	// scaler holds a recommendation computed before its last scale event
	// reached the Autoscaler cache). The observed times are the test's
	// polls, so allow one poll of slack.
	for i, c := range changes {
		if c.to < c.from/2 {
			t.Errorf("%d -> %d: more than the 50%% policy allows", c.from, c.to)
		}
		if i > 0 && c.at.Sub(changes[i-1].at) < 10*time.Second-500*time.Millisecond {
			t.Errorf("%d -> %d only %s after the previous step: the 10 s period's budget was spent twice", c.from, c.to, c.at.Sub(changes[i-1].at))
		}
	}
	if first.to != 5 {
		t.Errorf("first step down %d -> %d, want 10 -> 5 (50%% of 10)", first.from, first.to)
	}
}

// stabilizedTo reports whether steps say a lower proposal was stabilized to
// r over a window of windowSeconds.
func stabilizedTo(steps []v1alpha1.ExplanationStep, r, windowSeconds int32) bool {
	for _, s := range steps {
		if s.Kind == "Stabilized" && s.From < r && s.To == r && s.WindowSeconds != nil && *s.WindowSeconds == windowSeconds {
			return true
		}
	}
	return false
}

// limitedTo reports whether steps say a scale-down policy limited the count
// to r.
func limitedTo(steps []v1alpha1.ExplanationStep, r int32) bool {
	for _, s := range steps {
		if s.Kind == "Limited" && s.Reason == "ScaleDownLimit" && s.To == r {
			return true
		}
	}
	return false
}

// TestLeaderElection: two controllers with --leader-elect and a 4 s lease,
// both under the minimal RBAC. Only the leader scales. When the leader is
// stopped as Kubernetes stops a pod (SIGTERM), it releases the Lease and the
// other takes over within the lease duration; when the new leader is killed
// outright (SIGKILL, a crash), the Lease must expire first, so the takeover
// takes the lease duration plus client-go's retry granularity. Each new
// leader scales on, and no scale is applied twice.
func TestLeaderElection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	installAutoscalerCRD(ctx, t)
	installWidgetCRD(ctx, t)
	ns := cp.CreateNamespace(ctx, t, "e2e-scaler-ha")
	createWidget(ctx, t, ns, "ha", 2)
	pusher := startPusher(t, ns)
	queue := map[string]string{"__name__": "e2e_queue_length", "queue": "ha"}
	pusher.Set(queue, 20)
	spec := queueAutoscaler(autoscalingv2.CrossVersionObjectReference{APIVersion: widgetsGVR.GroupVersion().String(), Kind: "Widget", Name: "ha"}, "ha", 1, 20)
	// A 120 s scale-up period keeps every scale-up event of the test in the
	// status history, where a scale applied twice would show.
	spec.Behavior.ScaleUp.Policies[0].PeriodSeconds = 120
	createAutoscaler(ctx, t, ns, "ha", spec)
	const (
		leaseDuration = 4 * time.Second
		retryPeriod   = time.Second
	)
	// The Lease is the default one, hpa-engine/hpa-engine-controller: the
	// only one the RBAC's Role lets the controller write.
	flags := []string{"--leader-elect", "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=1s"}
	procs := map[string]*testbed.Process{
		"a": startScalerController(ctx, t, "hpa-engine-controller-a", flags...),
		"b": startScalerController(ctx, t, "hpa-engine-controller-b", flags...),
	}
	logHas := func(name, s string) bool { return strings.Contains(procs[name].Log(1_000_000), s) }
	var leader, follower string
	testbed.Eventually(ctx, t, "a leader", func() error {
		switch a, b := logHas("a", "Started leading"), logHas("b", "Started leading"); {
		case a && b:
			t.Fatal("both controllers lead")
		case a:
			leader, follower = "a", "b"
		case b:
			leader, follower = "b", "a"
		default:
			return errors.New("no controller leads")
		}
		return nil
	})
	t.Logf("controller %s leads", leader)

	pusher.Set(queue, 50)
	waitAutoscaled(ctx, t, widgetsGVR, ns, "ha", 5)
	waitRescales(ctx, t, ns, "ha", 1)
	if logHas(follower, "Successfully rescaled") {
		t.Errorf("controller %s rescaled while %s led", follower, leader)
	}

	getLease := func() (*coordinationv1.Lease, error) {
		return cp.Client.CoordinationV1().Leases(scaler.DefaultLeaseNamespace).Get(ctx, scaler.DefaultLeaseName, metav1.GetOptions{})
	}
	holder := func() (string, error) {
		l, err := getLease()
		if err != nil {
			return "", err
		}
		if l.Spec.HolderIdentity == nil {
			return "", nil
		}
		return *l.Spec.HolderIdentity, nil
	}
	// waitNewHolder waits until the Lease is held by someone other than old
	// and returns how long after since that was first seen (testbed's
	// Eventually polls every 250 ms).
	waitNewHolder := func(old string, since time.Time) time.Duration {
		t.Helper()
		var took time.Duration
		testbed.Eventually(ctx, t, "another controller takes over the lease", func() error {
			h, err := holder()
			if err != nil {
				return err
			}
			if h == old || h == "" {
				return fmt.Errorf("holder %q", h)
			}
			took = time.Since(since)
			return nil
		})
		return took
	}

	// 1. Graceful: the leader is stopped with SIGTERM, as on a rollout or a
	// drain; it releases the Lease on its way out.
	old, err := holder()
	if err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	procs[leader].Stop()
	takeover := waitNewHolder(old, stopped)
	t.Logf("leader %s stopped (SIGTERM); %s took the lease after %s (lease duration %s, retry period %s)", leader, follower, takeover, leaseDuration, retryPeriod)
	if takeover >= leaseDuration {
		t.Errorf("takeover after a graceful stop took %s, not within the lease duration %s", takeover, leaseDuration)
	}
	if !logHas(follower, "Started leading") {
		t.Errorf("controller %s holds the lease but has not started leading", follower)
	}
	pusher.Set(queue, 90)
	waitAutoscaled(ctx, t, widgetsGVR, ns, "ha", 9)
	t.Logf("the new leader %s scaled 5 -> 9 %s after the stop", follower, time.Since(stopped))
	waitRescales(ctx, t, ns, "ha", 2)

	// 2. Crash: the stopped controller comes back as a follower, and the
	// leader is killed with SIGKILL; nobody releases the Lease.
	if err := procs[leader].Start(ctx); err != nil {
		t.Fatal(err)
	}
	leader, follower = follower, leader
	old, err = holder()
	if err != nil {
		t.Fatal(err)
	}
	before, err := getLease()
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	procs[leader].Kill()
	takeover = waitNewHolder(old, killed)
	after, err := getLease()
	if err != nil {
		t.Fatal(err)
	}
	var sinceRenewal time.Duration
	if before.Spec.RenewTime != nil && after.Spec.AcquireTime != nil {
		// The dead leader may have renewed once more between the read
		// and the kill; the acquisition is measured from the renewal the
		// Lease last showed it making, which is at least as late.
		sinceRenewal = after.Spec.AcquireTime.Sub(before.Spec.RenewTime.Time)
	}
	t.Logf("leader %s killed (SIGKILL); %s took the lease after %s, %s after the last renewal the Lease showed (lease duration %s, retry period %s)",
		leader, follower, takeover, sinceRenewal, leaseDuration, retryPeriod)
	// The bound client-go's leader election can keep after a crash: the
	// follower sees the dead leader's last renewal up to one jittered retry
	// period late (client-go's jitter factor is 1.2), treats the Lease as
	// expired a lease duration after that, and tries again within one more
	// jittered retry period; this test polls the Lease every 250 ms on top.
	const jitteredRetry = retryPeriod * 12 / 10
	if max := leaseDuration + 2*jitteredRetry + 250*time.Millisecond; takeover > max {
		t.Errorf("takeover after a crash took %s, more than %s", takeover, max)
	}
	if takeover < leaseDuration-jitteredRetry {
		t.Errorf("takeover after a crash took %s: the Lease was taken before it expired", takeover)
	}
	pusher.Set(queue, 150)
	waitAutoscaled(ctx, t, widgetsGVR, ns, "ha", 15)
	t.Logf("the new leader %s scaled 9 -> 15 %s after the kill", follower, time.Since(killed))
	waitRescales(ctx, t, ns, "ha", 3)
	// Nothing more comes: neither takeover applied a scale again.
	time.Sleep(3 * time.Second)
	waitRescales(ctx, t, ns, "ha", 3)
	a, err := getAutoscaler(ctx, dynamicClient(t), ns, "ha")
	if err != nil {
		t.Fatal(err)
	}
	var changes []int32
	if h := a.Status.History; h != nil {
		for _, e := range h.ScaleUpEvents {
			changes = append(changes, e.ReplicaChange)
		}
	}
	if !slices.Equal(changes, []int32{3, 4, 6}) {
		t.Errorf("scale-up events %v, want +3 (2 -> 5), +4 (5 -> 9), +6 (9 -> 15)", changes)
	}
}

// waitRescales waits until the SuccessfulRescale events of the Autoscaler
// count want, and fails if they count more.
func waitRescales(ctx context.Context, t *testing.T, ns, name string, want int32) {
	t.Helper()
	testbed.Eventually(ctx, t, fmt.Sprintf("%d SuccessfulRescale events", want), func() error {
		evs, err := cp.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + name + ",reason=SuccessfulRescale"})
		if err != nil {
			return err
		}
		var n int32
		var msgs []string
		for _, e := range evs.Items {
			n += max(e.Count, 1)
			msgs = append(msgs, fmt.Sprintf("%s x%d", e.Message, e.Count))
		}
		if n > want {
			t.Fatalf("%d SuccessfulRescale events, want %d: %v", n, want, msgs)
		}
		if n != want {
			return fmt.Errorf("%d SuccessfulRescale events: %v", n, msgs)
		}
		return nil
	})
}

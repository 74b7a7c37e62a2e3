// Package conformance is the differential test of the recommender's core
// (github.com/hpa-engine/hpa-engine/recommender) against upstream's HPA
// controller, k8s.io/kubernetes v1.37.2 pkg/controller/podautoscaler, with
// its default feature gates.
//
// Each scenario is a recommender.Input drawn from a seeded random source
// (Generate): every metric kind and target type, pods with mixed phases,
// readiness, start times, deletions and requests, missing and extra samples,
// fetch errors, tolerances per direction, behaviors (windows, Pods/Percent
// policies, selectPolicy Max/Min/Disabled, nil), histories of
// recommendations and scale events, bounds including minReplicas 0, prior
// conditions. The same scenario runs through upstream's HorizontalController
// (one reconcileAutoscaler with fake clients, through a shim added to
// upstream's package by run.sh) and through recommender.Recommend; the
// replica counts, the conditions (type, status, reason, message), the
// status, the returned error, the history afterwards and each metric's
// proposal (against upstream's computeReplicasForMetric) must agree (Diff).
// Scenarios also vary how our core is fed: pods converted from the same
// corev1.Pod objects (recommender.PodFromV1), the input after a JSON round
// trip (as POST /api/v1/recommend gets it), and a failing scale update
// (recommender.RescaleFailed). A failing scenario is minimized (Shrink) and
// printed readably (Render); TestConformanceDetectsMutations shows that a
// wrong core is noticed.
//
// Time: upstream reads time.Now() itself. Scenarios are generated at BaseNow
// and moved to the real clock just before they run (Rebase); our core
// computes at that instant, upstream a few microseconds later. Every time
// upstream compares with its clock (pod start + CPU initialization period,
// recommendation and scale-event ages against windows and periods) is placed
// a whole number of seconds plus half a second before now, and every window,
// period and duration is a whole number of seconds, so both sides decide each
// such comparison the same way; reconciles slower than clockSlack are
// retried. Times compared only with each other (readiness transitions, start
// times, metric samples and windows) do sit exactly on their boundaries.
// What this cannot check is a clock comparison exactly at its boundary; upstream
// practically never meets one either, since it reads a nanosecond clock after
// every timestamp it stored (which is also why our core seeds a first-seen
// history just before Now).
//
// The package must not be imported by the main module; it is its own module
// so that k8s.io/kubernetes and its staging replaces stay out of the main
// go.mod.
package conformance

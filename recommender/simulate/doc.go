// Package simulate replays an autoscaling/v2 spec over metric history: it
// steps from a range's start to its end by its step and, at every step, runs
// recommender.Recommend with the observations the history gives for that
// time, exactly as one reconcile of the HPA controller (or of the engine's
// loop and scaler for an Autoscaler) would, carrying the status, the
// recommendation history and the scale events from one step to the next.
// The result is a Timeline: per step the load of each metric, each metric's
// proposal, the desired and current replicas, what limited the result and the
// recommender's explanation. render.go writes a Timeline as CSV and as an SVG
// chart drawn by hand.
//
// The simulated target is an idealised one, and the timeline must be read
// with that in mind:
//   - a rescale takes effect at once: the replicas decided at one step are
//     the current replicas of the next, with spec and status replicas equal;
//   - every pod is Running and Ready and has been for long, so no pod is
//     unready, missing or still initializing (CPU initialization and the
//     readiness delay never apply);
//   - a scale update never fails.
//
// What the history gives per metric, and how a replica count that differs
// from the one in history is handled, is the History's contract (see Model):
// a Pods metric's history is the total over the target's pods, divided over
// the simulated replicas at each step; Object and External values are used
// as they are (the algorithm divides AverageValue targets itself).
//
// The package is pure apart from the History interface it declares: no
// clients, no clocks, no goroutines. It must not import adapter, scaler,
// metrics or cmd; adapter/history implements History over Prometheus.
package simulate

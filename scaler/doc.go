// Package scaler applies the recommendations of the engine's own Autoscaler
// objects through the scale subresource of any scalable kind, leader-elected,
// with dry-run, events and status conditions. It keeps the stabilization
// history in the object's status so that a restart never causes an early
// scale-down.
//
// It owns:
//   - Scaler (scaler.go): every Interval it takes each Autoscaler's latest
//     recommendation from the loop's Store and acts on it once. It rescales
//     only when the result asks for it, the observations were valid
//     (ScalingActive True, or no metric computed: a bound restored), the
//     recommendation is at most StaleAfter old, was computed for the
//     object's current generation and target, and the target still has the
//     replicas the recommendation started from (otherwise somebody else, or a
//     previous leader, already changed it: ErrTargetChanged, wait for the next
//     cycle). The scale is read and written through a RESTMapper and the
//     client-go scale client, with retry on conflict.
//   - The status (status.go): upstream's HPA status fields from the result,
//     AbleToScale False FailedGetScale / FailedUpdateScale on failures, the
//     bounded history with the scale event recorded at the update, the last
//     explanation and recommendation time; written through the status
//     subresource only when it differs at wire precision.
//   - Events (events.go): upstream's reasons and messages (SuccessfulRescale
//     "New size: %d; reason: %s", FailedRescale, FailedGetScale, each failed
//     metric's FailedGet*Metric, FailedComputeMetricsReplicas,
//     SelectorRequired, InvalidSelector, AmbiguousSelector,
//     FailedUpdateStatus) as core/v1 Events on the Autoscaler, once per
//     recommendation, plus DryRunRescale and FailedGetRecommendation.
//   - Dry-run: status and a DryRunRescale event say what would be done
//     (desiredReplicas is the would-be count, AbleToScale True DryRunRescale);
//     the scale is never read or written and no scale event is recorded.
//   - Paused: nothing is applied and nothing of the recommendation is
//     written; the status keeps its fields and gets AbleToScale False
//     ScalingPaused, so that `kubectl describe` says why nothing moves.
//   - Leader election (leaderelection.go): RunWithLeaderElection over a
//     client-go Lease with the --leader-elect* flags; only the leader runs
//     the Scaler, and a leader that loses its lease returns
//     ErrLeadershipLost for its process to exit.
//   - AutoscalerSource (source.go): the loop's TargetSource over a dynamic
//     informer, seeding each target's history from its status.
//
// Restarts: the loop reads the history from the status and records no scale
// events for Autoscalers; the scaler writes back the result's history plus
// the scale event after every rescale, and keeps the events it recorded in
// memory for its term so that a cycle computed from a status read before the
// last write landed in the cache cannot drop one.
//
// It may import recommender's types and the loop's Store; it must not import
// adapter or cmd, and recommender must never import it.
package scaler

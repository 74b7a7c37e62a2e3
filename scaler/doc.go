// Package scaler applies the recommendations of the engine's own Autoscaler
// objects through the scale subresource of any scalable kind, leader-elected,
// with dry-run, events and status conditions. It keeps the stabilization
// history in the object's status so that a restart never causes an early
// scale-down.
//
// It may import recommender's types; it must not import adapter or cmd, and
// recommender must never import it.
package scaler

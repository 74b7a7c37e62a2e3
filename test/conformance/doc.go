// Package conformance holds the differential test of the recommender's core
// against upstream's HPA controller.
package conformance

// Package adaptertest holds small hand-written fakes of the adapter's
// provider interfaces for unit tests of the HTTP edge and of its callers.
//
// It must not reach Prometheus or a Kubernetes API, and production code must
// not import it.
package adaptertest

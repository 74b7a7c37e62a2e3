// Package provider is the adapter's Prometheus-backed provider: it implements
// adapter.CustomMetricsProvider and adapter.ExternalMetricsProvider over the
// rules of adapter/config and adapter/rules and one metrics.Querier per
// Prometheus backend.
//
// It owns:
//   - request serving: one PromQL query per request, whatever the number of
//     objects. Selections up to Config.MaxQueryNames objects (and 8 KiB of
//     names) are matched by name (`pod=~"a|b"`); larger ones are queried by
//     namespace and the wanted objects are kept in-process, with object
//     names taken from metadata-only informer caches (ObjectCache), never
//     from a LIST per request;
//   - discovery: a background relist of every distinct seriesQuery, mapped
//     to (resource, metric) pairs and held behind an atomic pointer, so that
//     requests and discovery documents never wait on Prometheus;
//   - hot reload of the configuration file (Reloader): a bad file is logged,
//     counted and ignored, a good one is swapped in atomically;
//   - its own hpa_engine_adapter_* metrics on the registerer it is given.
//
// It must not import the recommender, the scaler or cmd, and it reaches
// Prometheus only through the metrics package's Querier.
package provider

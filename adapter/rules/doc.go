// Package rules is the pure mapping logic of prometheus-adapter compatible
// rules, over a configuration compiled by adapter/config:
//
//   - naming: which series a rule keeps (seriesFilters, name.matches) and
//     the API name of each (name.as with prometheus-adapter's defaults);
//   - resource mapping, both ways: label <-> group-resource through
//     overrides and the label template, resolved with a ResourceMapper;
//   - discovery mapping: from the label sets a seriesQuery returned, the
//     (resource, metric, namespaced) pairs a rule exposes and, for external
//     rules, the metric names; an Index answers lookups by request;
//   - query rendering: metricsQuery templates over .Series, .LabelMatchers,
//     .GroupBy, .GroupBySlice and .LabelValuesByName, as prometheus-adapter
//     renders them, plus a by-namespace form with no object-name matcher;
//   - selector translation: a labels.Selector to escaped PromQL matchers, or
//     ErrUnsupportedSelector for what PromQL cannot express.
//
// Every value that reaches a query is quoted so that no input can leave its
// matcher or change the query's shape.
//
// The package is pure: no I/O, no clients, no clocks, no goroutines, no
// mutable state. It must not import the adapter's HTTP edge, metrics,
// recommender, scaler or cmd; the provider in adapter/ calls it.
package rules

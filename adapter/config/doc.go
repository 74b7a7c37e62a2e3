// Package config loads the adapter's configuration file: prometheus-adapter's
// discovery configuration (rules, externalRules, resourceRules) accepted
// unchanged, plus the engine's extensions (named Prometheus backends a rule
// can pick, metricsRelistInterval).
//
// It owns the file's schema, strict loading (unknown fields, bad regular
// expressions, broken templates and ambiguous names are errors that name the
// rule list, index, field and line) and the compiled form the rest of the
// adapter uses: regular expressions and templates are compiled once here so
// that requests never parse anything.
//
// It is pure: it reads the file it is given and nothing else. It must not
// talk to Prometheus or Kubernetes, keep state, or import other hpa-engine
// packages; adapter/rules builds the mapping behaviour on top of it.
package config

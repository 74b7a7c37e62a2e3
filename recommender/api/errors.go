package api

import "errors"

// ErrNoAuthenticator is returned by New when authentication is enabled but
// neither an authenticator nor a TokenReview client was given: serving the
// API unauthenticated by accident is worse than not starting.
var ErrNoAuthenticator = errors.New("rest authentication enabled without an authenticator or a TokenReview client")

// ErrNoStore is returned by New without a Store to read recommendations from.
var ErrNoStore = errors.New("no recommendation store")

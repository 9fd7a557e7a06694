//go:build !race

package dokstamp

// loadMargin widens the load tests' targets under the race detector (see race_on_test.go); the
// plain run asserts them as stated.
const loadMargin = 1.0

//go:build race

package dokstamp

// loadMargin widens the load tests' targets further under the race detector, which slows the
// client and the in-process server several times over on a machine of two cores (see
// race_off_test.go for the plain run's margin).
const loadMargin = 0.8

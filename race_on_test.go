//go:build race

package dokstamp

// loadMargin is the load tests' slack under the race detector, which slows the client and the
// in-process server several times over and unevenly on a machine of two cores: a pace tuned in
// real time is distorted, so under -race the tests catch a collapse (a run many times slower, a
// flood of 429s), not the tuning. The plain run asserts the targets with the margin of
// race_off_test.go.
const loadMargin = 0.4

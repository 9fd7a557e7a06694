//go:build race

package dokstamp

// loadMargin is the load tests' slack under the race detector, which slows the client and the
// in-process server several times over and unevenly on a machine of two cores: a pace tuned in
// real time is distorted, so under -race the tests catch a collapse (a run many times slower, a
// flood of 429s), not the tuning. The plain run asserts the targets with the margin of
// race_off_test.go.
const loadMargin = 0.4

// load429Slack multiplies the share of 429s a load test allows: under -race the gate's timing
// is distorted most when other race-built test binaries share the cores (a full run saw 5.2%
// where the plain run sees under 2%), so only a flood of 429s fails.
const load429Slack = 7.5

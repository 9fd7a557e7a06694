//go:build !race

package dokstamp

// loadMargin is the slack the load tests give their targets (at least 95% of a rate, at most 2%
// of 429s, ...): the rates are measured on a machine of two cores that other test binaries share
// at the same time, so a test asserts the target with a margin and logs the figure it measured.
// The README states the targets as measured. Under the race detector the margin is wider (see
// race_on_test.go).
const loadMargin = 0.9

// load429Slack multiplies the share of 429s a load test allows.
const load429Slack = 1 / loadMargin

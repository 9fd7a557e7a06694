//go:build race

package dokstamp

// loadMargin widens the load tests' targets under the race detector, which slows the client and
// the in-process server several times over on a machine of two cores: the targets themselves are
// asserted by the plain run.
const loadMargin = 0.85

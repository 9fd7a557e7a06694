package dokstamp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// WithRateLimit paces every request of the Client to at most perSecond requests per second
// (golang.org/x/time/rate, a burst of one), across all goroutines using it, retries included.
// It comes on top of what every Client does by itself: all its calls pass one gate, which reads
// the rate-limit headers when the server sends them (Laravel's X-RateLimit-Limit,
// X-RateLimit-Remaining, X-RateLimit-Reset and Retry-After, or the IETF RateLimit-* fields:
// inferred from DokStamp being a Laravel application, not documented), never has more requests
// in flight than the allowance left, waits for the window's end when it is spent, and paces the
// whole Client when 429s come in a flood. perSecond must be positive.
func WithRateLimit(perSecond float64) Option {
	return func(s *settings) error {
		if !(perSecond > 0) || math.IsInf(perSecond, 1) {
			return fmt.Errorf("dokstamp: WithRateLimit: %v is not a positive rate", perSecond)
		}
		s.rateLimit = perSecond
		return nil
	}
}

// rateGate is the Client-wide gate every attempt of every call passes (see gatedTransport). It
// holds the Client's calls together when the server says to slow down:
//
//   - Rate-limit headers, when the server sends them: Laravel's throttle middleware
//     (X-RateLimit-Limit and X-RateLimit-Remaining on every answer, Retry-After and
//     X-RateLimit-Reset in Unix seconds on a 429) and the IETF RateLimit-Limit,
//     RateLimit-Remaining and RateLimit-Reset fields (or the structured RateLimit field, r= and
//     t=). DokStamp documents none of them: they are inferred from its being a Laravel
//     application. No more requests are in flight than the allowance last announced; when it
//     is spent, calls wait for the window's end (learned from a 429's Retry-After and
//     X-RateLimit-Reset, and from the window's start) instead of probing.
//   - Without headers, 429s are read for what they tell. A flood of them (floodCount among
//     floodAnswers answers: every request in flight refused) is a rate limit: the Client pauses
//     for the Retry-After (capped by RetryPolicy.MaxWait), then paces requests, ramping up from
//     half of what was accepted until the next 429, and from then on to what the server let
//     through between two 429s (a token bucket is empty at both), probing upwards by 5% a
//     second. A sporadic 429 (a proxy shedding load, another integration on the tenant), or one
//     of a few bunched requests below the pace, changes nothing: only its own request waits.
//     Nor does a bunch of 429s that looks like a flood but comes among 429s refused all along
//     at a steady share (steadyShare): random refusals, which slowing down would not reduce.
//   - WithRateLimit's fixed pace.
type rateGate struct {
	user     *rate.Limiter // WithRateLimit; nil when not set
	maxPause time.Duration // cap of any pause: RetryPolicy.MaxWait
	now      func() time.Time

	transports atomic.Pointer[gatedTransport] // the last wrapper made, reused while the user's transport stays

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced when waiters should look again
	inflight int
	pausedTo time.Time // every call waits until then
	limited  int       // 429 answers seen

	// the allowance the server announces
	announced  bool      // rate-limit headers were seen
	limit      int       // the window's limit
	remaining  int       // what the last answer said is left
	resetAt    time.Time // the current window's end, when known
	probing    bool      // the allowance is spent, its end unknown: one request is out to learn it
	winSent    time.Time // the first request of the current window was sent after this...
	winAnswer  time.Time // ...and answered before this
	winLo      time.Duration
	winHi      time.Duration // bounds of the window's length learned so far (winHi 0: unknown)
	winCounted bool          // the current window's start is known
	guessAt    time.Time     // when one request asks whether the window is over
	// limitedInWindow: the current window already had its 429, so nothing more is risked in it
	limitedInWindow bool

	// the pace learned from 429s without headers
	pace     float64   // requests per second; 0: unpaced
	nextSlot time.Time // the earliest time of the next paced attempt
	paceAt   time.Time // when pace was last set
	cutAt    time.Time // 429s of requests sent before this are covered by the last cut
	ramping  bool      // the pace doubles every rampStep from rampFrom until the next 429...
	rampFrom time.Time
	rampTop  float64 // ...and more slowly past this
	target   float64 // after backing off, the pace climbs back quickly to this
	samples  answerRing
	okTotal  int64                 // successful answers so far
	allTotal int64                 // answers so far
	marks    [floodCount]limitMark // the last 429s, with the answers counted when each came
	nmarks   int
}

// limitMark is a 429 and the successes counted when it came. Between two 429s a token bucket
// was empty at both ends, so the successes in between are what it let through: its rate.
type limitMark struct {
	at      time.Time
	ok, all int64 // successful answers and all answers so far
}

// Tuning of the learned pace.
const (
	floodCount        = 8                      // a 429 flood: this many 429s...
	floodAnswers      = 16                     // ...among this many answers at most...
	floodAnswersNoisy = 10                     // ...or this many, after a background of 2% or more 429s...
	noiseAnswers      = 32                     // ...over at least this many answers before (floodSpan)
	acceptedWindow    = 250 * time.Millisecond // the accepted rate is measured over this long
	paceMargin        = 0.97                   // pace this share of the accepted rate
	quietCut          = 0.97                   // the cut at the first 429 of a quiet probe
	rampMax           = 2                      // past this many times its start, the ramp slows
	paceGrowth        = 0.05                   // probe upwards by this share a second
	rampStep          = 50 * time.Millisecond  // after a flood, the pace doubles this often until a 429...
	rampDelay         = 30 * time.Millisecond  // ...from this long after it starts
	minMarkSpan       = 50 * time.Millisecond  // the shortest span between two 429s to measure a rate over
	recoverTo         = 0.9                    // after backing off, climb back to this share of the pace...
	recoverStep       = 200 * time.Millisecond // ...doubling this often
	minPace           = 0.5                    // requests per second
	windowPrecision   = 30 * time.Millisecond  // a window's length known this well is not asked about
)

func newRateGate(perSecond float64, maxPause time.Duration) *rateGate {
	g := &rateGate{maxPause: maxPause, now: time.Now, changed: make(chan struct{})}
	if perSecond > 0 {
		g.user = rate.NewLimiter(rate.Limit(perSecond), 1)
	}
	return g
}

// gateWaitError is a call stopped while it waited at the gate: it was never sent.
type gateWaitError struct{ err error }

func (e *gateWaitError) Error() string { return "waiting for the rate limit: " + e.err.Error() }

func (e *gateWaitError) Unwrap() error { return e.err }

// noRetry: another attempt would stop at the gate again (or its context is done).
func (e *gateWaitError) noRetry() {}

// neverSent reports an attempt that ended at the gate, before anything was written.
func neverSent(err error) bool {
	var ge *gateWaitError
	return errors.As(err, &ge)
}

// gatedTransport sends through rt once the gate lets the attempt through, and tells the gate
// what came back.
type gatedTransport struct {
	g  *rateGate
	rt http.RoundTripper
}

// transport is rt behind the gate.
func (g *rateGate) transport(rt http.RoundTripper) http.RoundTripper {
	// a RoundTripper of an uncomparable type (a func) cannot be cached by identity
	comparable := rt == nil || reflect.TypeOf(rt).Comparable()
	if t := g.transports.Load(); comparable && t != nil && t.rt == rt {
		return t
	}
	t := &gatedTransport{g: g, rt: rt}
	if comparable {
		g.transports.Store(t)
	}
	return t
}

func (t *gatedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt := t.rt
	if rt == nil {
		rt = http.DefaultTransport
	}
	sent, err := t.g.acquire(r.Context())
	if err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, &gateWaitError{err}
	}
	resp, err := rt.RoundTrip(r)
	t.g.release(sent, resp)
	return resp, err
}

// wake tells the waiters to look again; g.mu held.
func (g *rateGate) wake() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// acquire waits until an attempt may be sent and returns when it was let through.
func (g *rateGate) acquire(ctx context.Context) (time.Time, error) {
	if g.user != nil {
		if err := g.user.Wait(ctx); err != nil {
			return time.Time{}, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		g.mu.Lock()
		now := g.now()
		wait, ch := g.blockedFor(now)
		if wait == 0 && ch == nil {
			var delay time.Duration
			if g.pace > 0 {
				slot := now
				if g.nextSlot.After(now) {
					slot = g.nextSlot
				}
				g.nextSlot = slot.Add(time.Duration(float64(time.Second) / g.pace))
				delay = slot.Sub(now)
			}
			g.inflight++
			cut := g.cutAt
			g.mu.Unlock()
			if delay > 0 {
				if err := sleepCtx(ctx, delay, nil); err != nil {
					g.abandon()
					return time.Time{}, err
				}
				g.mu.Lock()
				paused := g.pausedTo.After(g.now()) || g.cutAt != cut
				g.mu.Unlock()
				if paused {
					// the gate closed or the pace was cut while this one waited: queue again
					g.abandon()
					continue
				}
			}
			return g.now(), nil
		}
		spent := g.announced && wait > g.maxPause && wait != math.MaxInt64
		g.mu.Unlock()
		if spent {
			// the allowance is spent for longer than the Client waits: say so without sending,
			// rather than spend a request on a certain 429
			return time.Time{}, &Error{StatusCode: http.StatusTooManyRequests, RetryAfter: wait,
				Message: fmt.Sprintf("the server's rate-limit allowance is spent for %v more (longer than RetryPolicy.MaxWait); nothing was sent", wait.Round(time.Millisecond))}
		}
		if err := sleepCtx(ctx, wait, ch); err != nil {
			return time.Time{}, err
		}
	}
}

// blockedFor says why an attempt cannot go now: a wait (0: until ch is closed), or nothing;
// g.mu held.
func (g *rateGate) blockedFor(now time.Time) (time.Duration, <-chan struct{}) {
	if now.Before(g.pausedTo) {
		return g.pausedTo.Sub(now), g.changed
	}
	if !g.announced {
		return 0, nil
	}
	if !g.resetAt.IsZero() && !now.Before(g.resetAt) {
		// the window is over: the allowance is whole again, and the next window starts with the
		// first request sent from now
		g.remaining, g.resetAt, g.guessAt, g.probing, g.winCounted, g.winSent = g.limit, time.Time{}, time.Time{}, false, false, now
		g.limitedInWindow = false
	}
	if g.remaining > 0 {
		if g.inflight < g.remaining {
			return 0, nil
		}
		return math.MaxInt64, g.changed
	}
	if g.probing {
		return math.MaxInt64, g.changed // the asking request's answer will say
	}
	if g.resetAt.IsZero() && g.winCounted && g.winHi > 0 {
		// spent: wait for the latest the window can end; while its length is known only
		// roughly, one request asks halfway (this window's one 429 if too early)
		g.resetAt = g.winAnswer.Add(g.winHi)
		if g.winHi-g.winLo > windowPrecision && !g.limitedInWindow {
			g.guessAt = g.winAnswer.Add((g.winLo + g.winHi) / 2)
		}
	}
	if !g.guessAt.IsZero() && !now.Before(g.guessAt) && g.inflight == 0 {
		g.guessAt, g.probing = time.Time{}, true
		return 0, nil
	}
	switch {
	case !g.guessAt.IsZero():
		return g.guessAt.Sub(now), g.changed
	case !g.resetAt.IsZero():
		return g.resetAt.Sub(now), g.changed
	case g.inflight == 0:
		g.probing = true // the end is unknown: one request asks, and its 429 will say
		return 0, nil
	}
	return math.MaxInt64, g.changed
}

// abandon gives back a slot taken by acquire without sending.
func (g *rateGate) abandon() {
	g.mu.Lock()
	g.inflight--
	g.wake()
	g.mu.Unlock()
}

// release ends an attempt sent at sent, with its answer (nil: none).
func (g *rateGate) release(sent time.Time, resp *http.Response) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inflight--
	defer g.wake()
	if resp == nil {
		return
	}
	now := g.now()
	limited := resp.StatusCode == http.StatusTooManyRequests
	if limited {
		g.limited++
	} else if resp.StatusCode < 500 {
		g.okTotal++
	}
	g.samples.add(now, limited)
	g.allTotal++
	if g.readAllowance(sent, now, resp) {
		return
	}
	if !limited || sent.Before(g.cutAt) {
		return // in flight when the pace was last cut: that cut covers it
	}
	ra := parseRetryAfter(resp.Header.Get("Retry-After"), now)
	defer g.mark(now)
	if now.Before(g.pausedTo) {
		return
	}
	if g.pace == 0 {
		if g.nmarks < floodCount-1 || g.allTotal-g.marks[floodCount-2].all+1 > floodAnswers || g.steadyShare(now) {
			return // sporadic: only this request waits
		}
		// A flood of 429s: a rate limit. Pause everyone briefly, then start from a share of what
		// was accepted so far and double until the next 429 says where the limit is.
		if pause := min(ra, g.maxPause); pause > 0 {
			g.pausedTo = now.Add(pause)
		}
		r := max(minPace, g.samples.acceptedSince(now, acceptedWindow)/2)
		g.pace, g.nextSlot = r, now
		g.ramping = true
		g.paceAt, g.cutAt = now, now
		if g.pausedTo.After(now) {
			g.paceAt = g.pausedTo // the pace starts when the pause ends
		}
		g.rampFrom, g.rampTop = g.paceAt.Add(rampDelay), rampMax*r
		g.nmarks = 0 // the pause lets a bucket fill: no rate is measured across it
		return
	}
	r := g.pace
	switch est, sent, spread, ok := g.measured(now); {
	case g.ramping || !ok:
		// the ramp overshot (a bucket may have hidden by how much), or no rate can be measured
		// yet: back off well below, then climb back quickly to near where the 429 came
		g.target = recoverTo * r
		r *= 0.6
	case spread && est < 0.9*min(r, sent):
		// the server let clearly less through than the Client offered, with 429s all along (a
		// token bucket stayed empty): what it let through is its rate
		r = min(r, paceMargin*est)
		g.target = 0
	case sent >= 0.9*r:
		// the first 429 after a quiet probe: the pace has just crossed the rate
		r *= quietCut
		g.target = 0
	default:
		// nearly all the Client offered went through, below the pace: a 429 of bunched
		// requests, not a sign the pace is too high
		return
	}
	g.setPace(now, max(minPace, r))
	g.ramping = false
	g.paceAt, g.cutAt = now, now
}

// steadyShare reports whether the 429s before the flood that has just come were a steady share
// of the answers (over the last second, outside the flood's own answers: at least
// noiseAnswers of them, 2% to a third refused); g.mu held. Such 429s are a proxy refusing some
// requests at random whatever the rate, and a flood among them is an unlucky bunch (429s come
// back faster than successes and are retried at once, so they bunch in the answers far more
// often than chance alone says): pacing the Client on it only slows it, since once paced every
// further random 429 cuts the pace again. A rate limit shows itself differently: the server
// accepted nearly all it was sent (a bucket's burst) until it refused nearly everything, or,
// when it comes on top of such random 429s, the refusals go on for a good share of a second.
func (g *rateGate) steadyShare(now time.Time) bool {
	ok, lim := g.samples.sum(now, time.Second)
	bgAll := int64(ok+lim) - (g.allTotal - g.marks[floodCount-2].all + 1)
	bgLim := int64(lim - floodCount)
	return bgAll >= noiseAnswers && bgLim*50 >= bgAll && bgLim*3 < bgAll
}

// setPace changes the pace to r, rescheduling the slots handed out at the old one; g.mu held.
func (g *rateGate) setPace(now time.Time, r float64) {
	if g.nextSlot.After(now) {
		g.nextSlot = now.Add(time.Duration(float64(g.nextSlot.Sub(now)) * g.pace / r))
	}
	g.pace = r
}

// mark records a 429 at now; g.mu held.
func (g *rateGate) mark(now time.Time) {
	if now.Before(g.pausedTo) {
		return
	}
	copy(g.marks[1:], g.marks[:len(g.marks)-1])
	g.marks[0] = limitMark{at: now, ok: g.okTotal, all: g.allTotal}
	g.nmarks = min(g.nmarks+1, len(g.marks))
}

// measured is the rate the server accepted between the latest earlier 429 at least minMarkSpan
// ago and now (a 429 now), the rate the Client sent at meanwhile, and whether other 429s came
// in the middle of that span (so that the bucket stayed empty all along, rather than 429s of a
// few bunched requests at its ends); ok is false when there is no such 429. g.mu held.
func (g *rateGate) measured(now time.Time) (accepted, sent float64, spread, ok bool) {
	for i, m := range g.marks[:g.nmarks] {
		d := now.Sub(m.at)
		if d < minMarkSpan {
			continue
		}
		for _, mid := range g.marks[:i] {
			if since := now.Sub(mid.at); since > d/4 && since < 3*d/4 {
				spread = true
			}
		}
		return float64(g.okTotal-m.ok) / d.Seconds(), float64(g.allTotal-m.all) / d.Seconds(), spread, true
	}
	return 0, 0, false, false
}

// grow raises the learned pace by paceGrowth a second since it was set; g.mu held.
func (g *rateGate) grow(now time.Time) {
	if g.pace == 0 {
		return
	}
	d := now.Sub(g.paceAt)
	if d < 10*time.Millisecond {
		return
	}
	r := g.pace
	if g.ramping {
		if now.Before(g.rampFrom) {
			return // the starting pace may be above the limit: give it time to show
		}
		if g.paceAt.Before(g.rampFrom) {
			d = now.Sub(g.rampFrom)
		}
		grow := math.Exp2(float64(d) / float64(rampStep))
		if r >= g.rampTop {
			grow = 1 + (grow-1)/4 // past the rate accepted before the flood: slower
		}
		r *= grow
	} else if r < g.target {
		r = min(g.target, r*math.Exp2(float64(d)/float64(recoverStep)))
	} else {
		r *= 1 + paceGrowth*d.Seconds()
	}
	if sent := g.samples.sentRate(now, time.Second); now.Sub(g.cutAt) > 2*time.Second && r > 4*sent+minPace {
		g.pace = 0 // the pace no longer binds: the client sends less than it allows
		return
	}
	g.setPace(now, r)
	g.paceAt = now
}

// readAllowance reads the rate-limit headers of an answer, if any, and reports whether it did;
// g.mu held.
func (g *rateGate) readAllowance(sent, now time.Time, resp *http.Response) bool {
	limit, remaining, reset, ok := allowanceOf(resp.StatusCode, resp.Header, now)
	if !ok {
		g.grow(now)
		return false
	}
	g.announced = true
	if limit > 0 {
		g.limit = limit
	}
	probe := g.probing
	if resp.StatusCode == http.StatusTooManyRequests {
		g.probing, g.remaining, g.guessAt, g.limitedInWindow = false, 0, time.Time{}, true
		if probe && g.winCounted && sent.Sub(g.winAnswer) > g.winLo {
			g.winLo = sent.Sub(g.winAnswer) // asked too early: the window is longer
		}
		if !reset.IsZero() {
			g.learnWindow(reset, resp.Header, now)
		}
		return true
	}
	g.probing = false
	if probe && g.winCounted && g.winHi > 0 {
		// asked and a new window had begun: it is no longer than that
		if d := now.Sub(g.winSent); d < g.winHi && d >= g.winLo {
			g.winHi = d
		}
		g.resetAt, g.guessAt = time.Time{}, time.Time{}
	}
	switch {
	case !g.winCounted || probe:
		// the first answer of a window (the first ever, one after the last window's end, or the
		// answer to the request that asked whether a new one began): it started between the
		// moment the Client could send again and now
		g.remaining, g.winCounted, g.winAnswer = remaining, true, now
		if g.winSent.IsZero() || probe {
			g.winSent = sent
		}
	case remaining < g.remaining:
		// answers arrive out of order: within a window, only a lower count is news
		g.remaining = remaining
	}
	return true
}

// learnWindow narrows the window's length from a 429 that says when the window ends. Reset is
// in whole Unix seconds (the end is within a second after it) and Retry-After in whole seconds
// rounded up: each bounds the end. g.mu held.
func (g *rateGate) learnWindow(reset time.Time, h http.Header, now time.Time) {
	lo, hi := reset, reset.Add(time.Second)
	if ra := parseRetryAfter(h.Get("Retry-After"), now); ra > 0 {
		if l := now.Add(ra - time.Second); l.After(lo) {
			lo = l
		}
		if u := now.Add(ra); u.Before(hi) {
			hi = u
		}
	}
	if !hi.After(lo) {
		lo = hi.Add(-time.Second) // the headers disagree: trust the later bound
	}
	if hi.After(g.resetAt) {
		g.resetAt = hi
	}
	if !g.winCounted {
		return
	}
	// end = start + window, with start between winSent and winAnswer
	wlo, whi := lo.Sub(g.winAnswer), hi.Sub(g.winSent)
	if g.winHi == 0 {
		g.winLo, g.winHi = wlo, whi
	} else {
		g.winLo, g.winHi = max(g.winLo, wlo), min(g.winHi, whi)
		if g.winHi < g.winLo {
			g.winLo, g.winHi = wlo, whi // the window changed: start again
		}
	}
	if end := g.winAnswer.Add(g.winHi); end.Before(hi) {
		g.resetAt = end
	}
}

// allowanceOf reads the rate-limit headers of an answer: Laravel's X-RateLimit-* and the IETF
// RateLimit-* fields (or the structured RateLimit field). ok is false when there are none.
func allowanceOf(status int, h http.Header, now time.Time) (limit, remaining int, reset time.Time, ok bool) {
	if _, has := headerInt(h, "X-Ratelimit-Remaining", "Ratelimit-Remaining"); has {
		rl := parseRateLimit(status, h, now)
		return rl.Limit, rl.Remaining, rl.Reset, true
	}
	v := h.Get("Ratelimit")
	if v == "" {
		return 0, 0, time.Time{}, false
	}
	remaining, limit = -1, 0
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' }) {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || n < 0 {
			continue
		}
		switch k {
		case "r", "remaining":
			remaining = n
		case "t", "reset":
			reset = now.Add(time.Duration(n) * time.Second)
		case "limit":
			limit = n
		}
	}
	if remaining < 0 {
		return 0, 0, time.Time{}, false
	}
	return limit, remaining, reset, true
}

// holds reports whether the gate itself holds calls back (a learned pace or an announced
// allowance): a 429'd call may then queue at the gate again at once, instead of waiting its
// Retry-After on its own.
func (g *rateGate) holds() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pace > 0 || g.announced || g.pausedTo.After(g.now())
}

// answerRing counts recent answers in 10 ms slots over the last second.
type answerRing struct {
	slots [100]struct {
		at      int64 // slot number (Unix time / 10 ms)
		ok, lim int
	}
}

const ringSlot = 10 * time.Millisecond

func (r *answerRing) add(now time.Time, limited bool) {
	n := now.UnixNano() / int64(ringSlot)
	s := &r.slots[n%int64(len(r.slots))]
	if s.at != n {
		s.at, s.ok, s.lim = n, 0, 0
	}
	if limited {
		s.lim++
	} else {
		s.ok++
	}
}

// sum adds the answers of the slots within d before now.
func (r *answerRing) sum(now time.Time, d time.Duration) (ok, lim int) {
	n := now.UnixNano() / int64(ringSlot)
	k := int64(min(d, time.Second) / ringSlot)
	for i := int64(0); i <= k && i < int64(len(r.slots)); i++ {
		s := &r.slots[(n-i)%int64(len(r.slots))]
		if s.at == n-i {
			ok += s.ok
			lim += s.lim
		}
	}
	return ok, lim
}

// acceptedSince is the successful answers a second within d before now, over the span since the
// first slot holding an answer (at least one slot).
func (r *answerRing) acceptedSince(now time.Time, d time.Duration) float64 {
	n := now.UnixNano() / int64(ringSlot)
	k := int64(min(d, time.Second) / ringSlot)
	ok, span := 0, int64(1)
	for i := int64(0); i <= k && i < int64(len(r.slots)); i++ {
		s := &r.slots[(n-i)%int64(len(r.slots))]
		if s.at == n-i {
			ok += s.ok
			span = i + 1
		}
	}
	return float64(ok) / (time.Duration(span) * ringSlot).Seconds()
}

// sentRate is the answers a second within d before now.
func (r *answerRing) sentRate(now time.Time, d time.Duration) float64 {
	ok, lim := r.sum(now, d)
	return float64(ok+lim) / (d + ringSlot).Seconds()
}

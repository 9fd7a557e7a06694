package dokstamp

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// maxRateLimitedPerCall bounds how often one call is sent again after 429 answers; a 429 means
// the server did not act, so these re-sends are not counted as attempts.
const maxRateLimitedPerCall = 100

// paced makes one call through the shared gate, sending it again after each 429 (the server
// did not act) once the gate opens.
func paced[T any](ctx context.Context, p *pace, call func(context.Context) (T, error)) (T, error) {
	cctx := withCallOptions(ctx, callOptions{noRateLimitRetry: true})
	for n := 0; ; n++ {
		t, err := p.acquire(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		v, err := call(cctx)
		var ae *Error
		limited := errors.As(err, &ae) && ae.StatusCode == http.StatusTooManyRequests
		var ra time.Duration
		if limited {
			ra = ae.RetryAfter
		}
		p.release(t, err == nil, limited, ra)
		if limited && n < maxRateLimitedPerCall && ctx.Err() == nil {
			continue
		}
		return v, err
	}
}

// sleepCtx waits for d, or until ctx ends (its error), or until wake is closed (nil).
func sleepCtx(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pace is the gate every request of a run passes. On a 429 it closes for the Retry-After (a
// short, growing pause when there is none), halves the requests allowed in flight and, when the
// server named a pause, paces requests to the rate the server sustained over the last cycle of
// work and pause. Successes grow the window by one per window's worth (additive increase) and the
// pacing rate by 5% a second. 429s of requests sent before the gate last closed change nothing:
// they were in flight when it closed.
type pace struct {
	max      int
	maxPause time.Duration

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced when waiters should look again
	limit       float64       // allowed in flight
	inflight    int
	closedAt    time.Time // last time the gate closed
	closedUntil time.Time
	shortPauses int // pauses without a Retry-After since the last success

	rate       float64 // pacing rate in requests per second at rateSetAt; 0: unpaced
	rateSetAt  time.Time
	next       time.Time // earliest time of the next paced send
	cycleStart time.Time // start of the current cycle, for the rate estimate
	cycleOK    int       // successes in the current cycle
	limited    int       // 429 answers seen
}

const (
	minGatePause    = 10 * time.Millisecond
	rateGrowthPerS  = 0.05
	minPacedRate    = 0.5
	maxShortPauseSh = 6
)

func newPace(max int, maxPause time.Duration) *pace {
	if maxPause <= 0 {
		maxPause = 10 * time.Second
	}
	return &pace{max: max, maxPause: maxPause, limit: float64(max), changed: make(chan struct{}), cycleStart: time.Now()}
}

// ticket is one request let through the gate.
type ticket struct{ sent time.Time }

// currentRate is the pacing rate at now, grown since it was set; p.mu held.
func (p *pace) currentRate(now time.Time) float64 {
	if p.rate == 0 {
		return 0
	}
	d := now.Sub(p.rateSetAt).Seconds()
	if d < 0 {
		d = 0
	}
	return p.rate * (1 + rateGrowthPerS*d)
}

// acquire waits until the gate is open, a slot in flight is free and the pacing allows a send.
func (p *pace) acquire(ctx context.Context) (ticket, error) {
	for {
		if err := ctx.Err(); err != nil {
			return ticket{}, err
		}
		p.mu.Lock()
		now := time.Now()
		if now.Before(p.closedUntil) {
			wait, ch := p.closedUntil.Sub(now), p.changed
			p.mu.Unlock()
			if err := sleepCtx(ctx, wait, ch); err != nil {
				return ticket{}, err
			}
			continue
		}
		if p.inflight >= max(1, int(p.limit)) {
			ch := p.changed
			p.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return ticket{}, ctx.Err()
			}
			continue
		}
		slot := now
		if r := p.currentRate(now); r > 0 {
			if p.next.After(now) {
				slot = p.next
			}
			p.next = slot.Add(time.Duration(float64(time.Second) / r))
		}
		p.inflight++
		reserved := now
		p.mu.Unlock()
		if slot.After(now) {
			if err := sleepCtx(ctx, slot.Sub(now), nil); err != nil {
				p.abandon()
				return ticket{}, err
			}
			p.mu.Lock()
			closedMeanwhile := p.closedAt.After(reserved)
			p.mu.Unlock()
			if closedMeanwhile {
				p.abandon() // the gate closed while this one waited for its slot: queue again
				continue
			}
		}
		return ticket{sent: time.Now()}, nil
	}
}

// abandon gives back a slot taken by acquire without sending.
func (p *pace) abandon() {
	p.mu.Lock()
	p.inflight--
	p.wake()
	p.mu.Unlock()
}

// wake tells the waiters to look again; p.mu held.
func (p *pace) wake() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// release ends a request: ok when it succeeded, limited when it was answered 429 (with the
// server's Retry-After, 0 when absent).
func (p *pace) release(t ticket, ok, limited bool, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	switch {
	case ok:
		p.cycleOK++
		p.shortPauses = 0
		if p.limit < float64(p.max) {
			p.limit = min(float64(p.max), p.limit+1/p.limit)
		}
	case limited:
		p.limited++
		if t.sent.Before(p.closedAt) {
			break // in flight when the gate closed: that pause covers it
		}
		now := time.Now()
		pause := retryAfter
		if pause <= 0 {
			pause = minGatePause << min(p.shortPauses, maxShortPauseSh)
			p.shortPauses++
		}
		pause = min(pause, p.maxPause)
		p.closedAt, p.closedUntil = now, now.Add(pause)
		p.limit = max(1, p.limit/2)
		if retryAfter > 0 {
			// Over a cycle of work and pause, a token-bucket server lets through about its rate
			// times the cycle's length: pace to that.
			est := float64(p.cycleOK) / p.closedUntil.Sub(p.cycleStart).Seconds()
			cur := p.currentRate(now)
			switch {
			case est > 0 && (cur == 0 || est < cur):
				p.rate = est
			case cur > 0:
				p.rate = cur / 2
			}
			if p.rate > 0 {
				p.rate = max(p.rate, minPacedRate)
				p.rateSetAt = p.closedUntil
			}
		}
		p.cycleStart, p.cycleOK = p.closedUntil, 0
		p.next = p.closedUntil
	}
	p.wake()
}

func (p *pace) rateLimitedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.limited
}

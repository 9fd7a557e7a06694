package dokstamp

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// maxRateLimitedPerCall bounds how often one call is sent again after 429 answers; a 429 means
// the server did not act, so these re-sends are not counted as attempts.
const maxRateLimitedPerCall = 100

// paced makes one call of a bulk run with the client's own retries of 429 and 5xx answers turned
// off (the engine decides, so that one call has one retry layer), sending it again after each
// 429 (the server did not act). The Client's rate gate (ratelimit.go) holds and paces every
// attempt, the whole Client's at once; when it does not (a sporadic 429), the call itself waits
// the answer's Retry-After, capped by RetryPolicy.MaxWait, before its next attempt.
func paced[T any](ctx context.Context, e *engine, call func(context.Context) (T, error)) (T, error) {
	cctx := withRunOptions(ctx, withoutRateLimitRetry(), withoutServerRetry())
	for n := 1; ; n++ {
		v, err := call(cctx)
		var ae *Error
		if !errors.As(err, &ae) || ae.StatusCode != http.StatusTooManyRequests || n > maxRateLimitedPerCall || ctx.Err() != nil {
			return v, err
		}
		if neverSent(err) {
			// the allowance is spent for longer than a retry waits: a bulk run waits it out
			if err := sleepCtx(ctx, ae.RetryAfter, nil); err != nil {
				return v, err
			}
			continue
		}
		e.rateLimited.Add(1)
		if e.c.gate.holds() {
			continue // the gate paces the Client: queue there again
		}
		if err := sleepCtx(ctx, e.c.retry.wait(n, ae.RetryAfter), nil); err != nil {
			return v, err
		}
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

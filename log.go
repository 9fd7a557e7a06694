package dokstamp

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

const levelRetry = slog.LevelInfo

func attrMethod(m string) slog.Attr      { return slog.String("method", m) }
func attrPath(p string) slog.Attr        { return slog.String("path", p) }
func attrAttempt(n int) slog.Attr        { return slog.Int("attempt", n) }
func attrWait(d time.Duration) slog.Attr { return slog.Duration("wait", d) }

// log records one attempt at debug level: never headers, never bodies.
func (st *attemptState) log(ctx context.Context, resp *http.Response, err error) {
	l := st.c.logger
	if l == nil {
		return
	}
	attrs := []slog.Attr{attrMethod(st.r.method), attrPath(st.r.path), attrAttempt(st.attempts),
		slog.Duration("took", time.Since(st.started))}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", st.scrubber().scrub(err.Error())))
	}
	l.LogAttrs(ctx, slog.LevelDebug, "dokstamp: request", attrs...)
}

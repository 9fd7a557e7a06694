package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"

	"github.com/dokstamp/dokstamp-go"
)

// progress shows a run's progress on stderr: a bar on a terminal, a plain line every tenth of
// the run otherwise (logs, CI, pipes).
type progress struct {
	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	w       io.Writer
	total   int
	step    int
	next    int // the Done at which the next line is printed
	printed int
	last    dokstamp.Progress
	quiet   bool
}

func newProgress(a *app, total int) *progress {
	p := &progress{w: a.io.err, total: total, step: max(1, (total+9)/10), quiet: !a.table()}
	p.next = p.step
	if a.stderrIsTerminal() && !p.quiet {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(a.io.err),
			progressbar.OptionSetDescription("Issuing"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100e6),
		)
	}
	return p
}

// update is the run's OnProgress.
func (p *progress) update(pr dokstamp.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = pr
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("Issuing (%d failed)", pr.Failed))
		_ = p.bar.Set(pr.Done)
		return
	}
	if p.quiet {
		return
	}
	if pr.Done >= p.next || (pr.Done == pr.Total && pr.Done != p.printed) {
		fmt.Fprintf(p.w, "progress: %d/%d done (%d succeeded, %d failed or blocked)\n", pr.Done, pr.Total, pr.Succeeded, pr.Failed)
		p.printed = pr.Done
		p.next = (pr.Done/p.step + 1) * p.step
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/dokstamp/dokstamp-go"
)

// progress shows a bulk run's progress: a bar redrawn in place on a
// terminal (the line is cleared to its end with ESC [K), and a plain line every 10% otherwise (a log, a CI job, a test).
// Its report method is given to BatchOptions.OnProgress, which is never
// called concurrently.
type progress struct {
	w        io.Writer
	terminal bool
	nextStep int // plain mode: the next tenth to print
	drawn    bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, terminal: ok && term.IsTerminal(int(f.Fd())), nextStep: 1}
}

func (p *progress) report(pr dokstamp.Progress) {
	if pr.Total == 0 {
		return
	}
	if p.terminal {
		const width = 30
		fill := width * pr.Done / pr.Total
		fmt.Fprintf(p.w, "\r  [%s%s] %d/%d %3d%%  ok %d  failed %d  in flight %d\x1b[K",
			strings.Repeat("#", fill), strings.Repeat(".", width-fill),
			pr.Done, pr.Total, 100*pr.Done/pr.Total, pr.Succeeded, pr.Failed, pr.InFlight)
		p.drawn = true
		return
	}
	if 10*pr.Done < p.nextStep*pr.Total {
		return
	}
	fmt.Fprintf(p.w, "  %d/%d (%d%%)  ok %d  failed %d\n", pr.Done, pr.Total, 100*pr.Done/pr.Total, pr.Succeeded, pr.Failed)
	for 10*pr.Done >= p.nextStep*pr.Total {
		p.nextStep++
	}
}

// end finishes the bar's line.
func (p *progress) end() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

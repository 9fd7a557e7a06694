package dokstamp

import (
	"context"
	"io"
	"sync"
)

// readAheadBudget is how many answer bytes the pages of one All may hold together: those being
// read and those read but not yet yielded. It equals the cap on one answer (maxJSONAnswer), so
// that any single page the client accepts fits in it.
const readAheadBudget = maxJSONAnswer

// budgetChunk is the most a page's reader takes from the budget at a time.
const budgetChunk = 64 << 10

// pageBudget is the memory shared by the pages of one listing in flight. Pages read their
// answers in page order, one at a time (a page waits for its turn; the requests themselves
// still overlap), and a page takes budget before each chunk it reads and gives it back once its
// items are yielded. A page never waits for room when no other page holds any, so a page larger
// than the budget still gets through (alone), and the page the caller waits for can always
// progress: every page before it has been yielded, and those after it hold nothing yet or have
// been read in full and wait for it. So the pages in flight together hold at most
// max(limit, one answer) bytes.
type pageBudget struct {
	mu      sync.Mutex
	changed *sync.Cond
	limit   int64
	held    int64
	byPage  map[int]int64
	turn    int // the page that may read its answer now
	waiting int // readers waiting for room (not for their turn)
	// observe, when set (tests), is called under the lock after every change.
	observe func(held int64, waiting int)
}

func newPageBudget(limit int64, first int) *pageBudget {
	b := &pageBudget{limit: limit, byPage: map[int]int64{}, turn: first}
	b.changed = sync.NewCond(&b.mu)
	return b
}

// budgetKey carries a test's budget settings in a context.
type budgetKey struct{}

// budgetSettings replaces the default budget of the listings run with a context (tests).
type budgetSettings struct {
	limit   int64
	observe func(held int64, waiting int)
}

func budgetFor(ctx context.Context, first int) *pageBudget {
	b := newPageBudget(readAheadBudget, first)
	if ctx == nil {
		return b // the request path refuses a nil context with a clear error
	}
	if s, ok := ctx.Value(budgetKey{}).(budgetSettings); ok {
		b.limit, b.observe = s.limit, s.observe
	}
	return b
}

func (b *pageBudget) notify() {
	if b.observe != nil {
		b.observe(b.held, b.waiting)
	}
	b.changed.Broadcast()
}

// wait blocks until ready holds (called with the lock held) or ctx is done.
func (b *pageBudget) wait(ctx context.Context, ready func() bool) error {
	if ready() {
		return nil
	}
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.changed.Broadcast()
		b.mu.Unlock()
	})
	defer stop()
	for !ready() {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.changed.Wait()
	}
	return nil
}

// take reserves n bytes for page once it is its turn and there is room (or nobody else holds any).
func (b *pageBudget) take(ctx context.Context, page int, n int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.wait(ctx, func() bool { return b.turn >= page }); err != nil {
		return err
	}
	room := func() bool { return b.held+n <= b.limit || b.held == b.byPage[page] }
	if !room() {
		b.waiting++
		b.notify()
		err := b.wait(ctx, room)
		b.waiting--
		if err != nil {
			b.notify()
			return err
		}
	}
	b.held += n
	b.byPage[page] += n
	b.notify()
	return nil
}

// giveBack returns n of page's bytes (a chunk reserved and not filled).
func (b *pageBudget) giveBack(page int, n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held -= n
	b.byPage[page] -= n
	b.notify()
}

// doneReading passes the turn to the next page once page's answer is read (or failed); it is
// called when the reader meets the end, and again when the call returns, whichever is first.
func (b *pageBudget) doneReading(page int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.turn <= page {
		b.turn = page + 1
	}
	b.notify()
}

// release frees everything page holds: its items have been yielded, or will never be.
func (b *pageBudget) release(page int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held -= b.byPage[page]
	delete(b.byPage, page)
	b.notify()
}

// reader meters one page's answer.
func (b *pageBudget) reader(ctx context.Context, page int) func(io.Reader) io.Reader {
	return func(r io.Reader) io.Reader { return &budgetReader{ctx: ctx, b: b, page: page, r: r} }
}

type budgetReader struct {
	ctx  context.Context
	b    *pageBudget
	page int
	r    io.Reader
}

func (br *budgetReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return br.r.Read(p)
	}
	if len(p) > budgetChunk {
		p = p[:budgetChunk]
	}
	if err := br.b.take(br.ctx, br.page, int64(len(p))); err != nil {
		return 0, err
	}
	n, err := br.r.Read(p)
	br.b.giveBack(br.page, int64(len(p)-n))
	if err != nil {
		// read to the end (or failed): the next page may read while this one is decoded
		br.b.doneReading(br.page)
	}
	return n, err
}

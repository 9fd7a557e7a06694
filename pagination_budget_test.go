package dokstamp

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigPages serves pages pages of perPage items of itemSize bytes each, with meta.
func bigPages(t *testing.T, pages, perPage, itemSize int) *Client {
	t.Helper()
	pad := strings.Repeat("x", itemSize)
	c, mt := coreMockClient(t)
	mt.RegisterResponder("GET", coreBase+"/items", func(r *http.Request) (*http.Response, error) {
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		n = max(n, 1)
		items := make([]stampedItem, perPage)
		for i := range items {
			items[i] = stampedItem{UUID: stampedUUID((n-1)*perPage + i), Payload: pad}
		}
		return httpmock.NewJsonResponse(200, map[string]any{"data": items,
			"meta": map[string]any{"current_page": n, "per_page": perPage, "total": pages * perPage, "last_page": pages}})
	})
	return c
}

// budgetWatch records the most bytes the pages held together, and signals when a page waits
// for room.
type budgetWatch struct {
	mu      sync.Mutex
	maxHeld int64
	blocked chan struct{}
	once    sync.Once
}

func (w *budgetWatch) ctx(limit int64) context.Context {
	w.blocked = make(chan struct{})
	return context.WithValue(context.Background(), budgetKey{}, budgetSettings{limit: limit, observe: func(held int64, waiting int) {
		w.mu.Lock()
		w.maxHeld = max(w.maxHeld, held)
		w.mu.Unlock()
		if waiting > 0 {
			w.once.Do(func() { close(w.blocked) })
		}
	}})
}

func (w *budgetWatch) max() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.maxHeld
}

// TestListAllReadAheadSharesOneBudget serves pages of about 1 MiB with a budget of 2.5 MiB:
// while the caller holds page 1, the read-ahead fills the budget and a page waits for room, and
// the pages in flight never hold more than the budget together (without it, page 1 and four
// pages read ahead hold 5 MiB).
func TestListAllReadAheadSharesOneBudget(t *testing.T) {
	t.Parallel()
	const pages, perPage, itemSize = 10, 16, 64 << 10
	const limit = 5 << 19 // 2.5 MiB
	c := bigPages(t, pages, perPage, itemSize)
	var w budgetWatch
	ctx := w.ctx(limit)
	n := 0
	for it, err := range listAll[stampedItem](ctx, c, "/items", nil) {
		require.NoError(t, err)
		if n == 0 {
			select {
			case <-w.blocked:
			case <-time.After(10 * time.Second):
				t.Fatal("the read-ahead never waited for room: the pages in flight are not bounded together")
			}
		}
		require.Equal(t, stampedUUID(n), it.UUID, "in order")
		n++
	}
	assert.Equal(t, pages*perPage, n)
	assert.LessOrEqual(t, w.max(), int64(limit), "bytes held by the pages in flight")
	assert.Greater(t, w.max(), int64(2*perPage*itemSize), "more than one page was read ahead while there was room")
}

// TestListAllPageLargerThanTheBudget: a page that alone exceeds the budget is still read (with
// nothing else in flight), so a listing never deadlocks on its budget.
func TestListAllPageLargerThanTheBudget(t *testing.T) {
	t.Parallel()
	c := bigPages(t, 4, 16, 64<<10) // 1 MiB pages
	var w budgetWatch
	n := 0
	for _, err := range listAll[stampedItem](w.ctx(256<<10), c, "/items", nil) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 4*16, n)
	assert.Less(t, w.max(), int64(2<<20), "one page at a time")
}

// TestListAllBreakWhileAPageWaitsForRoom: breaking out while read-ahead pages wait for their
// turn or for room ends the loop at once and leaves no goroutine behind (TestMain checks).
func TestListAllBreakWhileAPageWaitsForRoom(t *testing.T) {
	t.Parallel()
	c := bigPages(t, 8, 16, 64<<10)
	var w budgetWatch
	for _, err := range listAll[stampedItem](w.ctx(3<<19), c, "/items", nil) {
		require.NoError(t, err)
		select {
		case <-w.blocked:
		case <-time.After(10 * time.Second):
			t.Fatal("no page waited for room")
		}
		break
	}
}

func TestListAllDefaultBudgetFitsTheLargestAnswer(t *testing.T) {
	t.Parallel()
	b := budgetFor(context.Background(), 1)
	assert.EqualValues(t, maxJSONAnswer, b.limit, "one budget of 64 MiB for all the pages in flight")
}

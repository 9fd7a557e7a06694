package dokstamp

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type corePageItem struct {
	Page int `json:"page"`
	I    int `json:"i"`
}

// corePager serves GET /items page by page and records what was asked.
type corePager struct {
	mu        sync.Mutex
	requested []int
	maxPage   atomic.Int32
	// answer gives page n's items and meta; nil meta leaves "meta" out.
	answer func(n int) ([]corePageItem, map[string]any)
	// before runs before page n is answered (outside the lock); it may block on r's context.
	before func(r *http.Request, n int)
	status func(n int) int
	// onRequest runs when page n is asked for.
	onRequest func(n int)
}

func (p *corePager) responder() httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		n, err := strconv.Atoi(r.URL.Query().Get("page"))
		if err != nil {
			return httpmock.NewStringResponse(400, `{"message":"no page"}`), nil
		}
		if p.before != nil {
			p.before(r, n)
		}
		if err := r.Context().Err(); err != nil {
			return nil, err
		}
		if p.status != nil {
			if st := p.status(n); st != 200 {
				return httpmock.NewStringResponse(st, `{"message":"nope"}`), nil
			}
		}
		items, meta := p.answer(n)
		body := map[string]any{"data": items}
		if meta != nil {
			body["meta"] = meta
		}
		return httpmock.NewJsonResponse(200, body)
	}
}

// RoundTrip records the page asked for, synchronously with the client's call (httpmock runs a
// responder on its own goroutine once the request can be cancelled), then answers through mt.
type corePagerRT struct {
	p  *corePager
	mt *httpmock.MockTransport
}

func (rt corePagerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil {
		p := rt.p
		p.mu.Lock()
		p.requested = append(p.requested, n)
		p.mu.Unlock()
		for {
			m := p.maxPage.Load()
			if int32(n) <= m || p.maxPage.CompareAndSwap(m, int32(n)) {
				break
			}
		}
		if p.onRequest != nil {
			p.onRequest(n)
		}
	}
	return rt.mt.RoundTrip(r)
}

func (p *corePager) pages() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.requested...)
}

// coreItems gives perPage items for page n of a list of total items.
func coreItems(n, perPage, total int) []corePageItem {
	var out []corePageItem
	for i := (n - 1) * perPage; i < min(n*perPage, total); i++ {
		out = append(out, corePageItem{Page: n, I: i})
	}
	return out
}

func corePagerClient(t *testing.T, p *corePager) *Client {
	mt := httpmock.NewMockTransport()
	mt.RegisterResponder("GET", coreBase+"/items", p.responder())
	c, _ := coreMockClient(t, WithHTTPClient(&http.Client{Transport: corePagerRT{p, mt}}))
	return c
}

func coreCollect(t *testing.T, c *Client, opts *ListOptions) ([]corePageItem, []error) {
	t.Helper()
	var items []corePageItem
	var errs []error
	for it, err := range listAll[corePageItem](context.Background(), c, "/items", opts) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, it)
	}
	return items, errs
}

func coreSequenceOf(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func coreIndexes(items []corePageItem) []int {
	out := make([]int, len(items))
	for i, it := range items {
		out[i] = it.I
	}
	return out
}

func TestListOptionsEncoding(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var got []string
	mt.RegisterResponder("GET", coreBase+"/certificates", func(r *http.Request) (*http.Response, error) {
		got = append(got, r.URL.RawQuery)
		return httpmock.NewStringResponse(200, `{"data":[],"meta":{"current_page":1,"per_page":15,"total":0}}`), nil
	})
	opts := &ListOptions{Page: 3, PerPage: 200, Sort: "issued_at", Order: "desc",
		Where: map[string]string{"status": "issued", "course_uuid": coreUUID, "used_at": "null"}}
	p, err := listPage[Certificate](context.Background(), c, "/certificates", opts)
	require.NoError(t, err)
	assert.NotNil(t, p.Data)
	_, err = listPage[Certificate](context.Background(), c, "/certificates", nil)
	require.NoError(t, err)
	_, err = listPage[Certificate](context.Background(), c, "/certificates", &ListOptions{Order: "asc"})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"page=3&per_page=200&sort%5Bcolumn%5D=issued_at&sort%5Border%5D=desc" +
			"&where%5Bcourse_uuid%5D=" + coreUUID + "&where%5Bstatus%5D=issued&where%5Bused_at%5D=null",
		"",
		"sort%5Border%5D=asc",
	}, got)
}

func TestListOptionsInvalid(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterNoResponder(httpmock.NewStringResponder(200, `{"data":[]}`))
	for _, o := range []*ListOptions{
		{Order: "DESC"}, {Order: "up"}, {Page: -1}, {PerPage: -5}, {Where: map[string]string{"": "x"}},
	} {
		_, err := listPage[corePageItem](context.Background(), c, "/items", o)
		assert.ErrorContains(t, err, "ListOptions", "%+v", o)
		_, errs := coreCollect(t, c, o)
		require.Len(t, errs, 1, "%+v", o)
		assert.ErrorContains(t, errs[0], "ListOptions")
	}
	assert.Zero(t, mt.GetTotalCallCount(), "nothing is sent")
}

func TestListAllStopsAtLastPage(t *testing.T) {
	t.Parallel()
	p := &corePager{answer: func(n int) ([]corePageItem, map[string]any) {
		// the server would go on answering: only last_page may stop the walk
		return coreItems(n, 2, 1000), map[string]any{"current_page": n, "per_page": 2, "total": 1000, "last_page": 3}
	}}
	items, errs := coreCollect(t, corePagerClient(t, p), &ListOptions{PerPage: 2})
	require.Empty(t, errs)
	assert.Equal(t, coreSequenceOf(6), coreIndexes(items))
	assert.ElementsMatch(t, []int{1, 2, 3}, p.pages())
}

func TestListAllStopsAtTotal(t *testing.T) {
	t.Parallel()
	p := &corePager{answer: func(n int) ([]corePageItem, map[string]any) {
		return coreItems(n, 3, 1000), map[string]any{"current_page": n, "per_page": 3, "total": 7}
	}}
	items, errs := coreCollect(t, corePagerClient(t, p), nil)
	require.Empty(t, errs)
	assert.Equal(t, coreSequenceOf(9), coreIndexes(items), "pages 1..ceil(7/3)")
	assert.ElementsMatch(t, []int{1, 2, 3}, p.pages())
}

func TestListAllStopsAtEmptyPage(t *testing.T) {
	t.Parallel()
	for name, meta := range map[string]func(n int) map[string]any{
		"current page only": func(n int) map[string]any { return map[string]any{"current_page": n} },
		"no meta":           func(int) map[string]any { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &corePager{answer: func(n int) ([]corePageItem, map[string]any) {
				return coreItems(n, 4, 10), meta(n) // pages 1..3 hold items, page 4 is empty
			}}
			items, errs := coreCollect(t, corePagerClient(t, p), nil)
			require.Empty(t, errs)
			assert.Equal(t, coreSequenceOf(10), coreIndexes(items))
			assert.Equal(t, []int{1, 2, 3, 4}, p.pages())
		})
	}
}

func TestListAllStopsWhenThePageDoesNotAdvance(t *testing.T) {
	t.Parallel()
	cases := map[string]func(n int) ([]corePageItem, map[string]any){
		// the server ignores page= and says so
		"current_page stays 1": func(int) ([]corePageItem, map[string]any) {
			return coreItems(1, 5, 100), map[string]any{"current_page": 1, "per_page": 5}
		},
		// the same, with a last_page that promises more
		"current_page stays 1 with last_page": func(int) ([]corePageItem, map[string]any) {
			return coreItems(1, 5, 100), map[string]any{"current_page": 1, "per_page": 5, "total": 100, "last_page": 20}
		},
		// the server ignores page= and tells nothing
		"no meta": func(int) ([]corePageItem, map[string]any) {
			return coreItems(1, 5, 100), nil
		},
		"no current_page but last_page": func(int) ([]corePageItem, map[string]any) {
			return coreItems(1, 5, 100), map[string]any{"last_page": 1000000}
		},
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &corePager{answer: answer}
			items, errs := coreCollect(t, corePagerClient(t, p), nil)
			require.Empty(t, errs)
			assert.Equal(t, coreSequenceOf(5), coreIndexes(items), "page 1 once, never twice")
			assert.LessOrEqual(t, len(p.pages()), 2+readAhead)
		})
	}
}

func TestListAllFromLaterPage(t *testing.T) {
	t.Parallel()
	p := &corePager{answer: func(n int) ([]corePageItem, map[string]any) {
		return coreItems(n, 2, 10), map[string]any{"current_page": n, "per_page": 2, "total": 10, "last_page": 5}
	}}
	items, errs := coreCollect(t, corePagerClient(t, p), &ListOptions{Page: 4, PerPage: 2})
	require.Empty(t, errs)
	assert.Equal(t, []int{6, 7, 8, 9}, coreIndexes(items))
	assert.ElementsMatch(t, []int{4, 5}, p.pages())
}

func TestListAllBreakStopsFetching(t *testing.T) {
	t.Parallel()
	p := &corePager{
		answer: func(n int) ([]corePageItem, map[string]any) {
			return coreItems(n, 3, 300), map[string]any{"current_page": n, "per_page": 3, "total": 300, "last_page": 100}
		},
		// pages beyond 3 hang until their request is cancelled
		before: func(r *http.Request, n int) {
			if n > 3 {
				<-r.Context().Done()
			}
		},
	}
	c := corePagerClient(t, p)
	seen := 0
	for it, err := range listAll[corePageItem](context.Background(), c, "/items", nil) {
		require.NoError(t, err)
		seen++
		if it.Page == 2 {
			break
		}
	}
	assert.Equal(t, 4, seen)
	// listAll returned: the read-ahead fetches were cancelled and waited for
	after := p.pages()
	assert.LessOrEqual(t, len(after), 2+readAhead)
	for _, n := range after {
		assert.LessOrEqual(t, n, 2+readAhead)
	}
	assert.Equal(t, after, p.pages(), "no request after the loop ended")
}

func TestListAllReadAheadBounded(t *testing.T) {
	t.Parallel()
	const pages = 12
	reached := make(chan struct{})
	var once sync.Once
	p := &corePager{answer: func(n int) ([]corePageItem, map[string]any) {
		return coreItems(n, 2, 2*pages), map[string]any{"current_page": n, "per_page": 2, "total": 2 * pages, "last_page": pages}
	}}
	p.onRequest = func(n int) {
		if n == 1+readAhead {
			once.Do(func() { close(reached) })
		}
	}
	p.before = func(r *http.Request, n int) {
		// page 2 is answered last of its batch: order must not depend on arrival
		if n == 2 {
			select {
			case <-reached:
			case <-r.Context().Done():
			}
		}
	}
	c := corePagerClient(t, p)
	var got []int
	maxAhead := 0
	for it, err := range listAll[corePageItem](context.Background(), c, "/items", nil) {
		require.NoError(t, err)
		if it.I == 0 {
			// while page 1 is being yielded, pages 2..5 are fetched, and no further
			select {
			case <-reached:
			case <-time.After(10 * time.Second):
				t.Fatal("no read-ahead while page 1 is yielded")
			}
		}
		ahead := int(p.maxPage.Load()) - it.Page
		maxAhead = max(maxAhead, ahead)
		require.LessOrEqual(t, ahead, readAhead, "item %d", it.I)
		got = append(got, it.I)
	}
	assert.Equal(t, coreSequenceOf(2*pages), got, "in order")
	assert.Equal(t, readAhead, maxAhead)
	assert.ElementsMatch(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, p.pages(), "each page once")
}

func TestListAllErrorMidway(t *testing.T) {
	t.Parallel()
	for _, withLast := range []bool{true, false} {
		t.Run(fmt.Sprint("last_page=", withLast), func(t *testing.T) {
			t.Parallel()
			p := &corePager{
				answer: func(n int) ([]corePageItem, map[string]any) {
					m := map[string]any{"current_page": n}
					if withLast {
						m["last_page"] = 6
					}
					return coreItems(n, 2, 12), m
				},
				status: func(n int) int {
					if n == 3 {
						return 403
					}
					return 200
				},
			}
			items, errs := coreCollect(t, corePagerClient(t, p), nil)
			assert.Equal(t, []int{0, 1, 2, 3}, coreIndexes(items))
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], ErrForbidden)
			assert.ErrorContains(t, errs[0], "list /items page 3")
		})
	}
}

func TestListAllFirstPageError(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	mt.RegisterResponder("GET", coreBase+"/items", httpmock.NewStringResponder(200, `{"data":{"not":"a list"}}`))
	items, errs := coreCollect(t, c, nil)
	assert.Empty(t, items)
	require.Len(t, errs, 1)
	var de *DecodeError
	assert.ErrorAs(t, errs[0], &de)
}

func TestListAllCallerCancels(t *testing.T) {
	t.Parallel()
	p := &corePager{answer: func(n int) ([]corePageItem, map[string]any) {
		return coreItems(n, 2, 100), map[string]any{"current_page": n, "last_page": 50}
	}}
	c := corePagerClient(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, errs := 0, 0
	for _, err := range listAll[corePageItem](ctx, c, "/items", nil) {
		if err != nil {
			errs++
			assert.ErrorIs(t, err, context.Canceled)
			continue
		}
		n++
		if n == 3 {
			cancel()
		}
	}
	assert.Equal(t, 1, errs, "the error is yielded once")
	assert.Less(t, n, 100)
}

func TestDecodePage(t *testing.T) {
	t.Parallel()
	p, _, err := decodePage[corePageItem]([]byte(`{"data":[{"page":1,"i":0}],"meta":{"current_page":1,"per_page":15,"total":42,"last_page":3,"from":1,"to":15},"links":{"next":"x"}}`))
	require.NoError(t, err)
	assert.Equal(t, []corePageItem{{1, 0}}, p.Data)
	assert.Equal(t, Meta{CurrentPage: 1, PerPage: 15, Total: 42, LastPage: 3, From: 1, To: 15}, p.Meta)

	for _, body := range []string{`{"data":null}`, `{"data":[]}`, `{"data":null,"meta":null}`} {
		p, _, err := decodePage[corePageItem]([]byte(body))
		require.NoError(t, err, body)
		assert.NotNil(t, p.Data, body)
		assert.Empty(t, p.Data, body)
	}
	for _, body := range []string{``, `[]`, `null`, `{}`, `{"data":{}}`, `{"data":[1]}`, `{"meta":"x"}`, `{"meta":{"last_page":"3"}}`, `{"data":[`} {
		_, _, err := decodePage[corePageItem]([]byte(body))
		assert.Error(t, err, body)
	}
	_, a, _ := decodePage[corePageItem]([]byte(`{"data":[{"i":1}],"meta":{"current_page":1}}`))
	_, b, _ := decodePage[corePageItem]([]byte(`{"data":[{"i":1}],"meta":{"current_page":2}}`))
	_, d, _ := decodePage[corePageItem]([]byte(`{"data":[{"i":2}],"meta":{"current_page":2}}`))
	assert.Equal(t, a, b, "the hash covers the items only")
	assert.NotEqual(t, a, d)
}

func TestLastPageOf(t *testing.T) {
	t.Parallel()
	const maxInt = int(^uint(0) >> 1)
	cases := []struct {
		m    Meta
		want int
	}{
		{Meta{LastPage: 7, Total: 1, PerPage: 1}, 7},
		{Meta{Total: 42, PerPage: 15}, 3},
		{Meta{Total: 45, PerPage: 15}, 3},
		{Meta{Total: 0, PerPage: 15, CurrentPage: 1}, 1},
		{Meta{Total: 0, PerPage: 15}, 0},
		{Meta{Total: 10}, 0},
		{Meta{Total: -5, PerPage: 5, CurrentPage: 1}, 0},
		{Meta{LastPage: -3}, 0},
		{Meta{Total: maxInt, PerPage: 2}, maxInt/2 + 1},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, lastPageOf(tc.m), "%+v", tc.m)
	}
}

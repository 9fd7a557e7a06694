package dokstamp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// ListOptions selects one page of a list and filters it. The zero value asks for the server's
// first page at its default size (15).
type ListOptions struct {
	Page    int               // page=, from 1
	PerPage int               // per_page=
	Where   map[string]string // where[field]=value; the value "null" matches null
	Sort    string            // sort[column]=
	Order   string            // sort[order]= "asc" or "desc"
}

// Meta is the pagination part of a list answer.
type Meta struct {
	CurrentPage int `json:"current_page"`
	PerPage     int `json:"per_page"`
	Total       int `json:"total"`
	// LastPage is 0 when the server did not send it (older servers).
	LastPage int `json:"last_page"`
	From     int `json:"from"`
	To       int `json:"to"`
}

// Page is one page of a list.
type Page[T any] struct {
	Data []T  `json:"data"`
	Meta Meta `json:"meta"`
}

// readAhead bounds how many pages All fetches beyond the one it is yielding.
const readAhead = 4

func (o *ListOptions) values() (url.Values, error) {
	q := url.Values{}
	if o == nil {
		return q, nil
	}
	if o.Page < 0 || o.PerPage < 0 {
		return nil, fmt.Errorf("dokstamp: ListOptions: negative page (%d) or per_page (%d)", o.Page, o.PerPage)
	}
	if o.Page > 0 {
		q.Set("page", strconv.Itoa(o.Page))
	}
	if o.PerPage > 0 {
		q.Set("per_page", strconv.Itoa(o.PerPage))
	}
	keys := make([]string, 0, len(o.Where))
	for k := range o.Where {
		if k == "" {
			return nil, fmt.Errorf("dokstamp: ListOptions: empty where field")
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Set("where["+k+"]", o.Where[k])
	}
	if o.Sort != "" {
		q.Set("sort[column]", o.Sort)
	}
	switch o.Order {
	case "":
	case "asc", "desc":
		q.Set("sort[order]", o.Order)
	default:
		return nil, fmt.Errorf("dokstamp: ListOptions: order %q is neither asc nor desc", o.Order)
	}
	return q, nil
}

// listPage fetches one page of the list at path.
func listPage[T any](ctx context.Context, c *Client, path string, opts *ListOptions, ropts ...RequestOption) (*Page[T], error) {
	p, _, err := fetchPage[T](ctx, c, path, opts, ropts, nil)
	return p, err
}

// eachPage fetches pages from..to of the list at path, at most limit at a time, and hands each
// to fn as it arrives: in no set order, so fn must be safe for concurrent use. The pages share
// one memory budget, as All's do. The first error (a fetch's or fn's) cancels the fetches still
// running and is returned once they ended.
func eachPage[T any](ctx context.Context, c *Client, path string, opts ListOptions, from, to, limit int,
	ropts []RequestOption, fn func(n int, p *Page[T]) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	budget := budgetFor(ctx, from)
	for n := from; n <= to && gctx.Err() == nil; n++ {
		g.Go(func() error {
			defer budget.release(n)
			o := opts
			o.Page = n
			p, _, err := fetchPage[T](gctx, c, path, &o, ropts, budget.reader(gctx, n))
			budget.doneReading(n)
			if err != nil {
				return errorf("list %s page %d: %w", path, n, err)
			}
			return fn(n, p)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// fetchPage fetches one page and also returns a hash of its raw items, with which listAll
// recognises a server that answers the same page whatever page it is asked for.
func fetchPage[T any](ctx context.Context, c *Client, path string, opts *ListOptions, ropts []RequestOption,
	meter func(io.Reader) io.Reader) (*Page[T], uint64, error) {
	q, err := opts.values()
	if err != nil {
		return nil, 0, err
	}
	r := &request{method: "GET", path: path, query: q, opts: ropts, meter: meter}
	var env pageEnvelope[T]
	if err := c.call(ctx, r, &env); err != nil {
		return nil, 0, err
	}
	p, sum := env.page()
	return p, sum, nil
}

// decodePage reads a list answer {"data": [...], "meta": {...}}. A null data is an empty page,
// a missing one an error; the hash covers the raw items.
func decodePage[T any](body []byte) (*Page[T], uint64, error) {
	var env pageEnvelope[T]
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, 0, err
	}
	if err := env.complete(); err != nil {
		return nil, 0, err
	}
	p, sum := env.page()
	return p, sum, nil
}

// pageEnvelope decodes a list answer in one pass: the items are decoded from the answer's own
// bytes and hashed there, never copied out first.
type pageEnvelope[T any] struct {
	Data hashedItems[T] `json:"data"`
	Meta Meta           `json:"meta"`
}

// complete: an answer without "data" (null, {}) is garbled, never an empty page; a null "data"
// is read as an empty list, as some servers encode one.
func (env *pageEnvelope[T]) complete() error {
	if !env.Data.seen {
		return errors.New(`no "data" list`)
	}
	return nil
}

func (env *pageEnvelope[T]) page() (*Page[T], uint64) {
	p := &Page[T]{Data: env.Data.items, Meta: env.Meta}
	if p.Data == nil {
		p.Data = []T{}
	}
	sum := env.Data.sum
	if !env.Data.seen {
		sum = fnvOffset64 // the hash of no bytes: "data" was missing
	}
	return p, sum
}

// hashedItems is a list's "data": its items, and the FNV-1a hash of its raw JSON.
type hashedItems[T any] struct {
	items []T
	sum   uint64
	seen  bool
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func (h *hashedItems[T]) UnmarshalJSON(b []byte) error {
	sum := uint64(fnvOffset64)
	for _, c := range b {
		sum ^= uint64(c)
		sum *= fnvPrime64
	}
	h.items, h.sum, h.seen = nil, sum, true
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &h.items)
}

// lastPageOf is the last page number the meta tells, or 0 when it tells none.
func lastPageOf(m Meta) int {
	if m.LastPage > 0 {
		return m.LastPage
	}
	if m.Total >= 0 && m.PerPage > 0 && (m.Total > 0 || m.CurrentPage > 0) {
		return max(1, m.Total/m.PerPage+min(1, m.Total%m.PerPage)) // no overflow near MaxInt
	}
	return 0
}

// fetchedPage is one page as listAll got it.
type fetchedPage[T any] struct {
	n   int
	p   *Page[T]
	sum uint64
	err error
}

// listAll yields every item of every page from opts.Page on, lazily. It stops at meta.last_page;
// without it at total/per_page, at an empty page, or when the page number does not advance
// (the server answers another page than the one asked for, or the very same items again),
// whichever comes first. With no usable meta at all it walks page by page, yields only the
// items (by uuid; by their JSON when they have none) it has not yielded before, and stops at
// the first page holding none: a server that repeats its items with a field changed (a
// timestamp, a signed URL) cannot make it loop. It never loops forever and never yields an item
// twice. Once the last page is known it fetches up to readAhead pages beyond the one being
// yielded, and yields strictly in order; the pages in flight share one memory budget
// (readAheadBudget, see pageBudget). Breaking out of the loop cancels and waits for those
// fetches.
func listAll[T any](ctx context.Context, c *Client, path string, opts *ListOptions, ropts ...RequestOption) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if _, err := opts.values(); err != nil {
			yield(zero, err)
			return
		}
		var o ListOptions
		if opts != nil {
			o = *opts
		}
		first := max(o.Page, 1)
		budget := budgetFor(ctx, first)

		fetch := func(ctx context.Context, n int) fetchedPage[T] {
			po := o
			po.Page = n
			p, sum, err := fetchPage[T](ctx, c, path, &po, ropts, budget.reader(ctx, n))
			budget.doneReading(n)
			if err != nil {
				err = errorf("list %s page %d: %w", path, n, err)
			}
			return fetchedPage[T]{n, p, sum, err}
		}

		var prev *fetchedPage[T]
		var seen map[string]struct{} // walking without meta: the items yielded so far
		var key func(*T) string
		// use yields one page's items; false: stop (an error, the caller broke out, or a stop rule).
		use := func(f fetchedPage[T]) bool {
			defer budget.release(f.n)
			if f.err != nil {
				yield(zero, f.err)
				return false
			}
			if f.p.Meta.CurrentPage != 0 && f.p.Meta.CurrentPage != f.n {
				return false // the server answered another page than the one asked for
			}
			if len(f.p.Data) == 0 || (prev != nil && prev.sum == f.sum) {
				return false // empty, or the very same items again: the page did not advance
			}
			prev = &f
			if seen != nil {
				return yieldNew(f.p.Data, seen, key, yield)
			}
			for _, item := range f.p.Data {
				if !yield(item, nil) {
					return false
				}
			}
			return true
		}

		f := fetch(ctx, first)
		if f.err != nil {
			use(f)
			return
		}
		last := lastPageOf(f.p.Meta)
		if last <= first {
			if last == 0 {
				seen, key = map[string]struct{}{}, itemKey[T]()
			}
			if !use(f) || last != 0 {
				return
			}
			// No way to know the end: walk page by page until a stop rule holds.
			for n := first + 1; use(fetch(ctx, n)); n++ {
			}
			return
		}
		readAheadPages(ctx, f, last, fetch, use)
	}
}

// yieldNew yields the items whose key is not in seen, adding them; false when the page held no
// new item (the walk is over) or the caller broke out.
func yieldNew[T any](items []T, seen map[string]struct{}, key func(*T) string, yield func(T, error) bool) bool {
	fresh := false
	for i := range items {
		if _, old := seen[key(&items[i])]; !old {
			fresh = true
			break
		}
	}
	if !fresh {
		return false // every item was yielded before: the server is repeating itself
	}
	for i := range items {
		k := key(&items[i])
		if _, old := seen[k]; old {
			continue
		}
		seen[k] = struct{}{}
		if !yield(items[i], nil) {
			return false
		}
	}
	return true
}

// itemKey is the identity of a list item: its UUID field (any case) when it has a non-empty one,
// else its JSON encoding.
func itemKey[T any]() func(*T) string {
	byJSON := func(v *T) string {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprintf("%#v", *v)
		}
		return "json:" + string(b)
	}
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct {
		return byJSON
	}
	f, ok := t.FieldByName("UUID")
	if !ok || f.Type.Kind() != reflect.String {
		return byJSON
	}
	return func(v *T) string {
		if id := reflect.ValueOf(v).Elem().FieldByIndex(f.Index).String(); id != "" {
			return "uuid:" + strings.ToLower(id)
		}
		return byJSON(v)
	}
}

// readAheadPages hands first and then pages first.n+1..last to use, in order, while fetching
// up to readAhead pages beyond the one use is working on. When use returns false the fetches
// still in flight are cancelled and waited for.
func readAheadPages[T any](ctx context.Context, first fetchedPage[T], last int,
	fetch func(context.Context, int) fetchedPage[T], use func(fetchedPage[T]) bool) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan fetchedPage[T], 1)
	done <- first
	pending := []chan fetchedPage[T]{done}
	defer func() {
		cancel()
		for _, ch := range pending {
			<-ch
		}
	}()
	next := first.n + 1
	for len(pending) > 0 {
		// pending[0] is the page about to be used; keep readAhead more in flight behind it
		for len(pending) <= readAhead && next <= last {
			ch := make(chan fetchedPage[T], 1)
			go func(n int) { ch <- fetch(ctx, n) }(next)
			next++
			pending = append(pending, ch)
		}
		f := <-pending[0]
		pending = pending[1:]
		if !use(f) {
			return
		}
	}
}

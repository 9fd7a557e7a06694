package dokstamp

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"sort"
	"strconv"
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
func listPage[T any](ctx context.Context, c *Client, path string, opts *ListOptions) (*Page[T], error) {
	q, err := opts.values()
	if err != nil {
		return nil, err
	}
	var p Page[T]
	if err := c.call(ctx, &request{method: "GET", path: path, query: q}, &p); err != nil {
		return nil, err
	}
	if p.Data == nil {
		p.Data = []T{}
	}
	return &p, nil
}

// lastPageOf is the last page number the meta tells, or 0 when it tells none.
func lastPageOf(m Meta) int {
	if m.LastPage > 0 {
		return m.LastPage
	}
	if m.Total >= 0 && m.PerPage > 0 && (m.Total > 0 || m.CurrentPage > 0) {
		return max(1, (m.Total+m.PerPage-1)/m.PerPage)
	}
	return 0
}

// listAll yields every item of every page from opts.Page on, lazily. It stops at meta.last_page;
// without it at total/per_page, at an empty page, or when the server answers another page than
// the one asked for, whichever comes first. Once the last page is known it fetches up to
// readAhead pages ahead while the caller works, and yields strictly in order. Breaking out of the
// loop stops all fetching before the iterator returns.
func listAll[T any](ctx context.Context, c *Client, path string, opts *ListOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var o ListOptions
		if opts != nil {
			o = *opts
		}
		first := max(o.Page, 1)
		var zero T

		fetch := func(ctx context.Context, n int) (*Page[T], error) {
			po := o
			po.Page = n
			p, err := listPage[T](ctx, c, path, &po)
			if err != nil {
				return nil, fmt.Errorf("dokstamp: list %s page %d: %w", path, n, err)
			}
			return p, nil
		}
		// yieldPage yields p's items; false: stop (the caller broke out or the page is not the one asked for).
		yieldPage := func(n int, p *Page[T]) (more bool) {
			if p.Meta.CurrentPage != 0 && p.Meta.CurrentPage != n {
				return false // the page number did not advance: never yield a page twice
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return false
				}
			}
			return len(p.Data) > 0
		}

		p, err := fetch(ctx, first)
		if err != nil {
			yield(zero, err)
			return
		}
		last := lastPageOf(p.Meta)
		if !yieldPage(first, p) {
			return
		}
		if last == 0 {
			// No way to know the end: walk page by page until a stop rule holds.
			for n := first + 1; ; n++ {
				p, err := fetch(ctx, n)
				if err != nil {
					yield(zero, err)
					return
				}
				if !yieldPage(n, p) {
					return
				}
			}
		}
		if last <= first {
			return
		}
		readAheadPages(ctx, first+1, last, fetch, func(n int, p *Page[T], err error) bool {
			if err != nil {
				yield(zero, err)
				return false
			}
			return yieldPage(n, p)
		})
	}
}

type pageResult[T any] struct {
	p   *Page[T]
	err error
}

// readAheadPages fetches pages from..to with up to readAhead requests in flight and hands them to
// use in order. When use returns false the fetches still in flight are cancelled and waited for.
func readAheadPages[T any](ctx context.Context, from, to int,
	fetch func(context.Context, int) (*Page[T], error), use func(int, *Page[T], error) bool) {
	ctx, cancel := context.WithCancel(ctx)
	pending := make([]chan pageResult[T], 0, readAhead)
	defer func() {
		cancel()
		for _, ch := range pending {
			<-ch
		}
	}()
	next := from
	start := func() {
		ch := make(chan pageResult[T], 1)
		n := next
		next++
		go func() {
			p, err := fetch(ctx, n)
			ch <- pageResult[T]{p, err}
		}()
		pending = append(pending, ch)
	}
	for n := from; n <= to; n++ {
		for len(pending) < readAhead && next <= to {
			start()
		}
		r := <-pending[0]
		pending = pending[1:]
		if !use(n, r.p, r.err) {
			return
		}
	}
}

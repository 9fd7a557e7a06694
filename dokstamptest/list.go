package dokstamptest

import (
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// metaJSON is the list envelope's meta.
type metaJSON struct {
	CurrentPage int  `json:"current_page"`
	PerPage     int  `json:"per_page"`
	Total       int  `json:"total"`
	LastPage    *int `json:"last_page,omitempty"`
	From        *int `json:"from"`
	To          *int `json:"to"`
}

type listJSON struct {
	Data []any    `json:"data"`
	Meta metaJSON `json:"meta"`
}

// fieldPath locates a filterable field inside a view struct: a scalar
// (string, number, bool, or a pointer to one), or the uuid of a nested
// reference, named "<ref>_uuid".
type fieldPath struct {
	index []int
}

var fieldCache sync.Map // reflect.Type -> map[string]fieldPath

func filterFields(t reflect.Type) map[string]fieldPath {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]fieldPath)
	}
	m := map[string]fieldPath{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.String, reflect.Int, reflect.Int64, reflect.Float64, reflect.Bool:
			m[name] = fieldPath{index: []int{i}}
		case reflect.Struct:
			if u, ok := ft.FieldByName("UUID"); ok {
				m[name+"_uuid"] = fieldPath{index: []int{i, u.Index[0]}}
			}
		}
	}
	actual, _ := fieldCache.LoadOrStore(t, m)
	return actual.(map[string]fieldPath)
}

// fieldValue returns the field of a view as a string, or null.
func fieldValue(v reflect.Value, p fieldPath) (string, bool) {
	for _, i := range p.index {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return "", true
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", true
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), false
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), false
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'f', -1, 64), false
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), false
	}
	return "", true
}

func matches(val string, null bool, want string) bool {
	if want == "null" {
		return null
	}
	if null {
		return false
	}
	// Like the MySQL collations behind Laravel APIs, equality ignores case.
	if strings.EqualFold(val, want) {
		return true
	}
	switch val {
	case "true":
		return want == "1"
	case "false":
		return want == "0"
	}
	return false
}

// less orders field values: null first, numbers numerically, else as strings
// (the API's timestamps sort correctly as strings).
func less(a string, an bool, b string, bn bool) bool {
	if an || bn {
		return an && !bn
	}
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	if ea == nil && eb == nil {
		return fa < fb
	}
	return a < b
}

type where struct {
	field string
	path  fieldPath
	value string
}

// list answers a list route over tb's live entities that keep accepts
// (nil keeps all), honouring page, per_page, where[...] and sort[...].
func (s *Server) list(c *call, tb *table, keep func(entity) bool) {
	q := c.r.URL.Query()
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	page = min(page, 1<<30)
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = 15
	}
	per = min(per, s.cfg.maxPerPage)

	fields := filterFields(tb.viewType)
	var v validator
	var wheres []where
	for k, vals := range q {
		name, ok := strings.CutPrefix(k, "where[")
		if !ok || !strings.HasSuffix(name, "]") {
			continue
		}
		name = strings.TrimSuffix(name, "]")
		p, ok := fields[name]
		if !ok {
			v.add("where."+name, "The where."+name+" filter is not supported.")
			continue
		}
		wheres = append(wheres, where{field: name, path: p, value: vals[0]})
	}
	sortCol := q.Get("sort[column]")
	var sortPath fieldPath
	if sortCol != "" {
		p, ok := fields[sortCol]
		if !ok {
			v.add("sort.column", "The selected sort.column is invalid.")
		}
		sortPath = p
	}
	desc := false
	switch order := q.Get("sort[order]"); order {
	case "", "asc", "ASC":
	case "desc", "DESC":
		desc = true
	default:
		v.add("sort.order", "The selected sort.order is invalid.")
	}
	if !v.ok() {
		c.invalid(v.errs)
		return
	}

	s.mu.RLock()
	var ents []entity
	tb.live(func(e entity) {
		if keep == nil || keep(e) {
			ents = append(ents, e)
		}
	})
	var views []any
	if len(wheres) > 0 || sortCol != "" {
		// Filtering and sorting look at the JSON objects, so build them all.
		views = make([]any, 0, len(ents))
		for _, e := range ents {
			vw := e.view(s)
			rv := reflect.ValueOf(vw)
			ok := true
			for _, w := range wheres {
				val, null := fieldValue(rv, w.path)
				if !matches(val, null, w.value) {
					ok = false
					break
				}
			}
			if ok {
				views = append(views, vw)
			}
		}
	}
	s.mu.RUnlock()

	if views != nil || len(wheres) > 0 || sortCol != "" {
		if sortCol != "" {
			keys := make([]struct {
				v    string
				null bool
			}, len(views))
			for i, vw := range views {
				keys[i].v, keys[i].null = fieldValue(reflect.ValueOf(vw), sortPath)
			}
			idx := make([]int, len(views))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool {
				ka, kb := keys[idx[a]], keys[idx[b]]
				if desc {
					return less(kb.v, kb.null, ka.v, ka.null)
				}
				return less(ka.v, ka.null, kb.v, kb.null)
			})
			sorted := make([]any, len(views))
			for i, j := range idx {
				sorted[i] = views[j]
			}
			views = sorted
		} else if desc {
			for i, j := 0, len(views)-1; i < j; i, j = i+1, j-1 {
				views[i], views[j] = views[j], views[i]
			}
		}
		c.json(http.StatusOK, s.page(len(views), page, per, func(i int) any { return views[i] }))
		return
	}
	if desc {
		for i, j := 0, len(ents)-1; i < j; i, j = i+1, j-1 {
			ents[i], ents[j] = ents[j], ents[i]
		}
	}
	// Only the page's objects are built; their entities may change meanwhile,
	// so build them under the lock again.
	s.mu.RLock()
	out := s.page(len(ents), page, per, func(i int) any { return ents[i].view(s) })
	s.mu.RUnlock()
	c.json(http.StatusOK, out)
}

// page cuts one page out of total items, building each with item(i).
func (s *Server) page(total, page, per int, item func(int) any) listJSON {
	out := listJSON{Data: []any{}, Meta: metaJSON{CurrentPage: page, PerPage: per, Total: total}}
	if !s.cfg.noLastPage {
		last := max(1, (total+per-1)/per)
		out.Meta.LastPage = &last
	}
	start := (page - 1) * per
	if start >= total {
		return out
	}
	end := min(total, start+per)
	for i := start; i < end; i++ {
		out.Data = append(out.Data, item(i))
	}
	from, to := start+1, end
	out.Meta.From, out.Meta.To = &from, &to
	return out
}

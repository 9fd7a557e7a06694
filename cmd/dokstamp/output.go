package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// listing is what a command prints: columns for table and csv, and the full values for json and
// ndjson (the SDK's objects, with every field the API sent).
type listing struct {
	headers []string
	rows    [][]string
	values  []any
}

func (l *listing) add(value any, cells ...string) {
	l.values = append(l.values, value)
	l.rows = append(l.rows, cells)
}

// print writes l in the format chosen with -o. json is one array (or, with single, one
// object); ndjson is one object per line.
func (a *app) print(l *listing, single bool) error {
	return a.printTo(a.io.out, l, single)
}

func (a *app) printTo(w io.Writer, l *listing, single bool) error {
	switch a.output {
	case "json":
		var v any = l.values
		if l.values == nil {
			v = []any{}
		}
		if single && len(l.values) == 1 {
			v = l.values[0]
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "ndjson":
		enc := json.NewEncoder(w)
		for _, v := range l.values {
			if err := enc.Encode(v); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		if !a.noHeader {
			if err := cw.Write(l.headers); err != nil {
				return err
			}
		}
		for _, r := range l.rows {
			if err := cw.Write(r); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	default:
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		if !a.noHeader {
			fmt.Fprintln(tw, strings.Join(l.headers, "\t"))
		}
		for _, r := range l.rows {
			cells := make([]string, len(r))
			for i, c := range r {
				if c == "" {
					c = "-"
				}
				cells[i] = strings.Map(func(r rune) rune {
					if r == '\t' || r == '\n' || r == '\r' {
						return ' '
					}
					return r
				}, c)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		return tw.Flush()
	}
}

// table reports whether the output is the human table (progress and notes then go to stderr
// alongside it).
func (a *app) table() bool { return a.output == "table" }

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

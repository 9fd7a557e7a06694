package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dokstamp/dokstamp-go"
)

func newAPICmd(a *app) *cobra.Command {
	var fields, rawFields, headers []string
	var input string
	var include bool
	cmd := &cobra.Command{
		Use:   "api METHOD PATH",
		Short: "Call any route of the API (the raw escape hatch)",
		Long: `Send a request to any route of the DokStamp API with the credentials, tenant, retries and
error handling of the other commands, and print the answer's data as JSON (the whole answer
when it holds no "data").

PATH is a path on the base URL, with its query if any ("/certificates?where[status]=issued").
The body is built from -f key=value (numbers, true, false and null are typed; -F keeps the
value a string) or read as JSON from --input FILE (- for stdin). Writes follow the SDK's rule:
a POST is never re-sent once the server may have acted.`,
		Example: `  dokstamp api GET /document-types
  dokstamp api GET '/certificates?where[status]=issued&per_page=5'
  dokstamp api PATCH /courses/UUID -f status=archived
  dokstamp api POST /document-types --input type.json`,
		Args: exactArgs(2, "the method and the path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			method := strings.ToUpper(args[0])
			path := args[1]
			if strings.Contains(path, "://") || strings.HasPrefix(path, "//") {
				return usageErrorf("%q: give a path on the base URL (/courses), not a URL: an absolute URL is refused, the credentials never leave the API's host", path)
			}
			if !strings.HasPrefix(path, "/") {
				path = "/" + path
			}
			var body any
			switch {
			case input != "" && len(fields)+len(rawFields) > 0:
				return usageErrorf("give the body with -f/-F or with --input, not both")
			case input != "":
				var r io.Reader = a.io.in
				if input != "-" {
					f, err := os.Open(input)
					if err != nil {
						return err
					}
					defer f.Close()
					r = f
				}
				b, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				if !json.Valid(b) {
					return usageErrorf("--input %s is not JSON", input)
				}
				body = json.RawMessage(b)
			case len(fields)+len(rawFields) > 0:
				m := map[string]any{}
				for _, kv := range fields {
					k, v, ok := strings.Cut(kv, "=")
					if !ok || k == "" {
						return usageErrorf("-f %q: use key=value", kv)
					}
					m[k] = typedValue(v)
				}
				for _, kv := range rawFields {
					k, v, ok := strings.Cut(kv, "=")
					if !ok || k == "" {
						return usageErrorf("-F %q: use key=value", kv)
					}
					m[k] = v
				}
				body = m
			}
			var opts []dokstamp.RequestOption
			for _, h := range headers {
				k, v, ok := strings.Cut(h, ":")
				if !ok || strings.TrimSpace(k) == "" {
					return usageErrorf("-H %q: use Name: value", h)
				}
				opts = append(opts, dokstamp.WithHeader(strings.TrimSpace(k), strings.TrimSpace(v)))
			}
			var resp dokstamp.Response
			opts = append(opts, dokstamp.WithResponseInto(&resp))
			c, err := a.Client()
			if err != nil {
				return err
			}
			var out json.RawMessage
			err = c.Do(a.ctx, method, path, body, &out, opts...)
			if include && resp.StatusCode != 0 {
				fmt.Fprintf(a.io.err, "HTTP %d", resp.StatusCode)
				if resp.RequestID != "" {
					fmt.Fprintf(a.io.err, "  request id %s", resp.RequestID)
				}
				if resp.RateLimit.Limit > 0 {
					fmt.Fprintf(a.io.err, "  rate limit %d/%d", resp.RateLimit.Remaining, resp.RateLimit.Limit)
				}
				fmt.Fprintln(a.io.err)
			}
			if err != nil {
				return err
			}
			if len(out) == 0 {
				return nil
			}
			var buf bytes.Buffer
			if a.output == "table" || a.output == "json" {
				if json.Indent(&buf, out, "", "  ") != nil {
					buf.Reset()
					buf.Write(out)
				}
			} else if json.Compact(&buf, out) != nil {
				buf.Reset()
				buf.Write(out)
			}
			buf.WriteByte('\n')
			_, err = a.io.out.Write(buf.Bytes())
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&fields, "field", "f", nil, "body field key=value (numbers, true, false, null typed)")
	fl.StringArrayVarP(&rawFields, "raw-field", "F", nil, "body field key=value, the value kept a string")
	fl.StringVar(&input, "input", "", "JSON body from FILE (- for stdin)")
	fl.StringArrayVarP(&headers, "header", "H", nil, "extra header 'Name: value' (repeatable)")
	fl.BoolVarP(&include, "include", "i", false, "print the status, request id and rate limit on stderr")
	return cmd
}

// typedValue reads -f's value: a number, a boolean or null when it is one, else a string.
func typedValue(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXnN") {
		return f
	}
	return v
}

package dokstamp

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
)

var coreFuzzErrorSeeds = []string{
	`{"message":"The given data was invalid.","errors":{"email":["The email has already been taken."]}}`,
	`{"success":false,"message":"The given data was invalid.","errors":{"course_uuid":["The selected course uuid is invalid."]}}`,
	`{"message":"Unauthenticated."}`,
	`{"success":false,"message":"Resource not found."}`,
	`{"message":"No query results for model [App\\Certificate] 6f1d2c3b-4a59-4e7f-9b8a-0c1d2e3f4a5b"}`,
	`{"error":"invalid_client","error_description":"Client authentication failed","message":"Client authentication failed"}`,
	`{"error":{"message":"x","code":7}}`,
	`{"errors":["a",1,null,{"b":2}]}`,
	`{"errors":"flat"}`,
	`<html><body>502 Bad Gateway</body></html>`,
	`{"message":"Server Err`,
	``,
	`null`,
	"\xff\xfe\x00",
}

// FuzzDecodeError: any status and body give an *Error with that status, and nothing panics.
func FuzzDecodeError(f *testing.F) {
	for i, body := range coreFuzzErrorSeeds {
		f.Add(400+i*7, []byte(body), "")
	}
	f.Add(429, []byte(`{"message":"Too Many Attempts."}`), "30")
	f.Add(503, []byte(`Service Unavailable`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		h := http.Header{}
		h.Set("Retry-After", retryAfter)
		e := decodeError(status, h, body)
		if e == nil {
			t.Fatal("nil *Error")
		}
		if e.StatusCode != status {
			t.Fatalf("status %d, want %d", e.StatusCode, status)
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative Retry-After %v", e.RetryAfter)
		}
		_ = e.Error()
		for _, s := range []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrValidation, ErrRateLimited, ErrServer, ErrOutcomeUnknown} {
			_ = errors.Is(e, s)
		}
		e.scrub(newScrubber("secret", string(body)))
		_ = e.Error()
	})
}

var coreFuzzPageSeeds = []string{
	`{"data":[{"uuid":"a"},{"uuid":"b"}],"meta":{"current_page":1,"per_page":2,"total":4,"last_page":2}}`,
	`{"data":[{"uuid":"a"}],"meta":{"current_page":1,"per_page":15,"total":42}}`,
	`{"data":[{"uuid":"a"}]}`,
	`{"data":[{"uuid":"a"}],"meta":{"last_page":1000000000}}`,
	`{"data":[{"uuid":"a"}],"meta":{"current_page":0,"per_page":1,"total":9223372036854775807}}`,
	`{"data":[{"uuid":"a"}],"meta":{"current_page":-1,"per_page":-1,"total":-1,"last_page":-1}}`,
	`{"data":[],"meta":{"current_page":1,"last_page":99}}`,
	`{"data":null,"meta":null}`,
	`{"data":{"uuid":"a"}}`,
	`{"data":[{"uuid":"a"}],"meta":{"last_page":"3"}}`,
	`{"data":[{"uuid":"a"}],"meta":{"per_page":1.5}}`,
	`{"data":[1,2,3]}`,
	`[]`,
	`<html>`,
	``,
}

type coreFuzzItem struct {
	UUID string `json:"uuid"`
}

// FuzzDecodePage: any body decodes without a panic, and a server answering that body for
// every page never makes listAll loop: it stops within a bounded number of requests.
func FuzzDecodePage(f *testing.F) {
	for _, body := range coreFuzzPageSeeds {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, _, decodeErr := decodePage[coreFuzzItem](body)
		if decodeErr == nil && p.Data == nil {
			t.Fatal("decoded page with nil Data")
		}

		// page 1, then at most readAhead+1 more fetched before page 2 shows the walk must stop
		const limit = 2 + readAhead
		var requests atomic.Int32
		mt := httpmock.NewMockTransport()
		mt.RegisterNoResponder(func(*http.Request) (*http.Response, error) {
			if requests.Add(1) > limit {
				return httpmock.NewStringResponse(404, `{"message":"too many requests"}`), nil
			}
			return httpmock.NewBytesResponse(200, body), nil
		})
		c, err := NewClient(WithTenant("t"), WithToken("tok"), WithBaseURL("https://api.test"),
			WithHTTPClient(&http.Client{Transport: mt}), WithRetry(RetryPolicy{}))
		if err != nil {
			t.Fatal(err)
		}
		items, errs := 0, 0
		for _, err := range listAll[coreFuzzItem](context.Background(), c, "/items", nil) {
			if err != nil {
				errs++
				continue
			}
			items++
		}
		if n := requests.Load(); n > limit {
			t.Fatalf("%d requests for one repeated page (limit %d)", n, limit)
		}
		if errs > 1 {
			t.Fatalf("%d errors yielded", errs)
		}
		if decodeErr == nil && items > len(p.Data) {
			t.Fatalf("%d items yielded from a page of %d", items, len(p.Data))
		}
	})
}

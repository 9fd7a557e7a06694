package dokstamptest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

// Upload a PDF and issue a certificate with plain net/http, then inspect
// what the fake holds. In a test, use NewServer(t) instead of New.
func Example() {
	srv, err := dokstamptest.New(dokstamptest.WithStudents(1))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	send := func(method, path, ctype string, body *bytes.Buffer) map[string]any {
		req, _ := http.NewRequest(method, srv.URL+path, body)
		req.Header.Set("Authorization", "Bearer "+srv.Token)
		req.Header.Set("X-Tenant", srv.Tenant)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", ctype)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		fmt.Println(method, path, resp.StatusCode)
		return out
	}

	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	w, _ := mw.CreateFormFile("files[]", "diploma.pdf")
	_, _ = w.Write([]byte("%PDF-1.4\n%%EOF\n"))
	_ = mw.Close()
	files := send(http.MethodPost, "/files", mw.FormDataContentType(), &form)
	fileUUID := files["data"].([]any)[0].(map[string]any)["uuid"]

	body, _ := json.Marshal(map[string]any{
		"institution_uuid": srv.InstitutionUUID,
		"course_uuid":      srv.CourseUUID,
		"student_uuid":     srv.StudentUUIDs[0],
		"file_uuid":        fileUUID,
		"status":           "issued",
	})
	send(http.MethodPost, "/certificates", "application/json", bytes.NewBuffer(body))
	// The same file cannot back a second certificate.
	send(http.MethodPost, "/certificates", "application/json", bytes.NewBuffer(body))

	certs := srv.Certificates()
	fmt.Println(len(certs), certs[0].Status, certs[0].FileUUID == fileUUID)
	// Output:
	// POST /files 201
	// POST /certificates 201
	// POST /certificates 422
	// 1 issued true
}

// NewServer is for tests: it fails the test when the server cannot start and closes it when the
// test ends. Outside a test, New does the same and you call Close:
//
//	func TestSync(t *testing.T) {
//		srv := dokstamptest.NewServer(t, dokstamptest.WithStudents(3))
//		c, _ := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithToken(srv.Token), dokstamp.WithTenant(srv.Tenant))
//		// ... exercise your code with c, then inspect srv.Certificates(), srv.Duplicates()
//	}
func ExampleNewServer() {
	srv, err := dokstamptest.New(dokstamptest.WithStudents(3))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/students?per_page=2", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	req.Header.Set("X-Tenant", srv.Tenant)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var page struct {
		Data []struct {
			UUID string `json:"uuid"`
		} `json:"data"`
		Meta struct {
			Total    int `json:"total"`
			LastPage int `json:"last_page"`
		} `json:"meta"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&page)
	fmt.Println(resp.StatusCode, len(page.Data), page.Meta.Total, page.Meta.LastPage, page.Data[0].UUID == srv.StudentUUIDs[0])
	// Output:
	// 200 2 3 2 true
}

// A client that forgets Accept: application/json gets errors the way a
// Laravel server renders them for a browser: here a validation failure
// becomes a redirect. Successes are JSON either way.
func Example_withoutAccept() {
	srv, err := dokstamptest.New()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, accept := range []string{"", "application/json"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/students", bytes.NewBufferString(`{}`))
		req.Header.Set("Authorization", "Bearer "+srv.Token)
		req.Header.Set("X-Tenant", srv.Tenant)
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := hc.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Printf("Accept %q: %d %s\n", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Output:
	// Accept "": 302 text/html; charset=UTF-8
	// Accept "application/json": 422 application/json
}

// A Laravel-style fixed window: every answer says what is left of it, and
// the answer over the limit says when it resets.
func ExampleFaults_windowLimit() {
	srv, err := dokstamptest.New(dokstamptest.WithFaults(dokstamptest.Faults{WindowLimit: 2}))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/students", nil)
	req.Header = http.Header{
		"Authorization": {"Bearer " + srv.Token},
		"X-Tenant":      {srv.Tenant},
		"Accept":        {"application/json"},
	}
	for i := 0; i < 3; i++ {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"), resp.Header.Get("X-RateLimit-Remaining"),
			resp.Header.Get("X-RateLimit-Reset") != "")
	}
	// Output:
	// 200 2 1 false
	// 200 2 0 false
	// 429 2 0 true
}

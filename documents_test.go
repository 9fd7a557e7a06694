package dokstamp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testPIN = "493817"

const documentTypeJSON = `{"id":1,"description":"Internship agreement","signed_by_third":true,"multiples_third_signers":false,
	"indexers":[{"indexer":"Student CPF","rule":"CPF"},{"indexer":"Supervisor e-mail","rule":"E-mail"}],
	"created_at":"2024-04-01T09:00:00.000000Z"}`

func TestDocumentsCreateType(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/document-types", Status: 201,
		Body: `{"description":"Internship agreement","signed_by_third":true,"multiples_third_signers":false,
			"indexers":[{"indexer":"Student CPF","rule":"CPF"},{"indexer":"Supervisor e-mail","rule":"E-mail"}]}`,
		Reply: dataReply(documentTypeJSON)})
	dt, err := c.Documents.CreateType(context.Background(), &DocumentTypeCreateParams{
		Description: "Internship agreement", SignedByThird: true,
		Indexers: []DocumentIndexer{{Indexer: "Student CPF", Rule: RuleCPF}, {Indexer: "Supervisor e-mail", Rule: RuleEmail}}})
	require.NoError(t, err)
	assert.Equal(t, 1, dt.ID)
	assert.Equal(t, "Internship agreement", dt.Description)
	assert.True(t, dt.SignedByThird)
	assert.False(t, dt.MultiplesThirdSigners)
	assert.Equal(t, []DocumentIndexer{{"Student CPF", RuleCPF}, {"Supervisor e-mail", RuleEmail}}, dt.Indexers)
	assert.Equal(t, time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC), dt.CreatedAt.UTC())
}

func TestDocumentsCreateTypeSendsFalseFlags(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/document-types", Status: 201,
		Body:  `{"description":"Declaration","signed_by_third":false,"multiples_third_signers":false}`,
		Reply: dataReply(`{"id":2,"description":"Declaration","signed_by_third":false,"multiples_third_signers":false}`)})
	dt, err := c.Documents.CreateType(context.Background(), &DocumentTypeCreateParams{Description: "Declaration"})
	require.NoError(t, err)
	assert.Equal(t, 2, dt.ID)
	assert.Empty(t, dt.Indexers)
}

func TestDocumentsCreateTypeRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Documents.CreateType(context.Background(), nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Documents.CreateType(context.Background(), &DocumentTypeCreateParams{
		Indexers: []DocumentIndexer{{Indexer: "CPF", Rule: "cpf"}, {Indexer: "", Rule: RuleOther}, {Indexer: "Name"}}})
	require.Error(t, err)
	for _, want := range []string{"description is required", `indexers[0].rule "cpf" is not one of Outro, CPF, E-mail`,
		"indexers[1].indexer is required", "indexers[2].rule is required"} {
		assert.ErrorContains(t, err, want)
	}
	assert.Zero(t, mt.GetTotalCallCount())
}

const documentJSON = `{"id":101,"uuid":"` + certUUID + `","description":"Internship agreement - Maria",
	"document_type_id":1,"file_uuid":"` + fileUUID + `","status":"pending","created_at":"2024-04-02T10:00:00.000000Z"}`

func assertDocument(t *testing.T, d *Document) {
	t.Helper()
	require.NotNil(t, d)
	assert.Equal(t, 101, d.ID)
	assert.Equal(t, certUUID, d.UUID)
	assert.Equal(t, "Internship agreement - Maria", d.Description)
	assert.Equal(t, 1, d.DocumentTypeID)
	assert.Equal(t, fileUUID, d.FileUUID)
	assert.Equal(t, "pending", d.Status)
	assert.Equal(t, time.Date(2024, 4, 2, 10, 0, 0, 0, time.UTC), d.CreatedAt.UTC())
}

func TestDocumentsCreate(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/documents", Status: 201,
		Body:  `{"description":"Internship agreement - Maria","document_type_id":1,"file_uuid":"` + fileUUID + `","module_id":7}`,
		Reply: dataReply(documentJSON)})
	d, err := c.Documents.Create(context.Background(), &DocumentCreateParams{Description: "Internship agreement - Maria",
		DocumentTypeID: 1, FileUUID: fileUUID, Extra: map[string]any{"module_id": 7}})
	require.NoError(t, err)
	assertDocument(t, d)
}

func TestDocumentsCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	_, err := c.Documents.Create(context.Background(), nil)
	assert.ErrorContains(t, err, "nil params")
	_, err = c.Documents.Create(context.Background(), &DocumentCreateParams{DocumentTypeID: -1, Extra: map[string]any{"file_uuid": fileUUID}})
	require.Error(t, err)
	for _, want := range []string{"description is required", "document_type_id is required", "file_uuid is required", "Extra repeats the typed field file_uuid"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = c.Documents.Create(context.Background(), &DocumentCreateParams{Description: "D", DocumentTypeID: 1, FileUUID: "../files"})
	assert.ErrorContains(t, err, "file_uuid")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestDocumentsGet(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/documents/101", Reply: dataReply(documentJSON)})
	d, err := c.Documents.Get(context.Background(), 101)
	require.NoError(t, err)
	assertDocument(t, d)

	for _, id := range []int{0, -3} {
		_, err = c.Documents.Get(context.Background(), id)
		assert.ErrorContains(t, err, "not positive")
	}
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestDocumentsList(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "GET", Path: "/documents", Query: q("where[document_type_id]", "1"), Reply: listReply(1, 1, 1, documentJSON)})
	page, err := c.Documents.List(context.Background(), &ListOptions{Where: map[string]string{"document_type_id": "1"}})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	assertDocument(t, &page.Data[0])
}

func TestDocumentsAll(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectPages(t, mt, "/documents", nil, listReply(1, 2, 2, documentJSON),
		listReply(2, 2, 2, `{"id":102,"description":"Second","document_type_id":1,"status":"signed"}`))
	var got []Document
	for d, err := range c.Documents.All(context.Background(), nil) {
		require.NoError(t, err)
		got = append(got, d)
	}
	require.Len(t, got, 2)
	assertDocument(t, &got[0])
	assert.Equal(t, 102, got[1].ID)
	assert.Equal(t, "signed", got[1].Status)
}

func seq(from, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i
	}
	return out
}

type batchBody struct {
	DocumentIDs []int  `json:"document_ids"`
	PIN         string `json:"pin"`
}

// expectDocBatch registers POST path; answer(i) gives the status and body of the i-th request
// (from 0). It returns the bodies received.
func expectDocBatch(t *testing.T, mt *httpmock.MockTransport, path string, answer func(i int) (int, string)) func() []batchBody {
	var mu sync.Mutex
	var got []batchBody
	mt.RegisterResponder("POST", testBase+path, func(r *http.Request) (*http.Response, error) {
		assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		assert.Equal(t, "acme", r.Header.Get("X-Tenant"))
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Empty(t, r.URL.RawQuery)
		b, _ := io.ReadAll(r.Body)
		var body batchBody
		assert.NoError(t, jsonUnmarshalStrict(b, &body), "body %s", b)
		mu.Lock()
		i := len(got)
		got = append(got, body)
		mu.Unlock()
		status, answerBody := answer(i)
		return reply(status, answerBody), nil
	})
	return func() []batchBody {
		mu.Lock()
		defer mu.Unlock()
		return append([]batchBody(nil), got...)
	}
}

func ok200(int) (int, string) { return 200, `{"message":"ok"}` }

func TestDocumentsResendSignatures(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	sent := expectDocBatch(t, mt, "/documents/signatures/batch/resend", ok200)
	ids := seq(101, 250)
	require.NoError(t, c.Documents.ResendSignatures(context.Background(), append(ids, 101, 102)))
	got := sent()
	require.Len(t, got, 3)
	assert.Equal(t, ids[:100], got[0].DocumentIDs)
	assert.Equal(t, ids[100:200], got[1].DocumentIDs)
	assert.Equal(t, ids[200:], got[2].DocumentIDs)
	assert.Empty(t, got[0].PIN)
}

func TestDocumentsResendSignaturesExactBody(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/documents/signatures/batch/resend", Body: `{"document_ids":[101,102,103]}`,
		Reply: `{"message":"Signature requests re-sent."}`})
	require.NoError(t, c.Documents.ResendSignatures(context.Background(), []int{101, 102, 103}))
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestDocumentsResendSignaturesChunks(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectDocBatch(t, mt, "/documents/signatures/batch/resend", func(i int) (int, string) {
		if i == 1 {
			return 500, `{"message":"Server Error"}`
		}
		return 200, `{}`
	})
	ids := seq(1, 250)
	results, err := c.Documents.ResendSignaturesChunks(context.Background(), ids)
	require.NoError(t, err)
	require.Len(t, results, 3)
	assert.Equal(t, ids[:100], results[0].IDs)
	assert.NoError(t, results[0].Err)
	assert.Equal(t, ids[100:200], results[1].IDs)
	assert.ErrorIs(t, results[1].Err, ErrOutcomeUnknown, "a 5xx to a POST that sends e-mail is in doubt")
	assert.NoError(t, results[2].Err)
	assert.Equal(t, 3, mt.GetTotalCallCount())
}

func TestDocumentsResendSignaturesFoldsChunkErrors(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expectDocBatch(t, mt, "/documents/signatures/batch/resend", func(i int) (int, string) {
		if i == 2 {
			return 422, `{"message":"The given data was invalid.","errors":{"document_ids.7":["The selected document_ids.7 is invalid."]}}`
		}
		return 200, `{}`
	})
	err := c.Documents.ResendSignatures(context.Background(), seq(1, 250))
	var ce *ChunkError[int]
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 3, ce.Total)
	require.Len(t, ce.Failed, 1)
	assert.Equal(t, seq(201, 50), ce.Failed[0].IDs)
	assert.ErrorIs(t, err, ErrValidation)
}

func TestDocumentsBatchIsNeverRetried(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := NewClient(WithTenant("acme"), WithToken("tok"), WithBaseURL(testBase),
		WithHTTPClient(&http.Client{Transport: mt}),
		WithRetry(RetryPolicy{MaxRetries: 3, MinWait: time.Millisecond, MaxWait: time.Millisecond}))
	require.NoError(t, err)
	mt.RegisterResponder("POST", testBase+"/documents/signatures/batch/resend", httpmock.NewStringResponder(503, `{"message":"Service Unavailable"}`))
	mt.RegisterResponder("POST", testBase+"/documents/batch/sign/7", httpmock.NewStringResponder(502, `{"message":"Bad Gateway"}`))

	err = c.Documents.ResendSignatures(context.Background(), []int{1, 2})
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	err = c.Documents.SignBatch(context.Background(), 7, []int{1, 2}, testPIN)
	assert.ErrorIs(t, err, ErrOutcomeUnknown)
	assert.NotContains(t, err.Error(), testPIN)
	assert.Equal(t, 2, mt.GetTotalCallCount(), "each POST was sent once")
}

func TestDocumentsBatchRefusesBadInput(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	for name, ids := range map[string][]int{"nil": nil, "empty": {}, "zero": {1, 0}, "negative": {-5}} {
		err := c.Documents.ResendSignatures(ctx, ids)
		assert.Error(t, err, name)
		_, err = c.Documents.ResendSignaturesChunks(ctx, ids)
		assert.Error(t, err, name)
		err = c.Documents.SignBatch(ctx, 7, ids, testPIN)
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), testPIN)
	}
	//lint:ignore SA1012 a nil context must be refused, not panic
	assert.ErrorContains(t, c.Documents.ResendSignatures(nil, []int{1}), "nil context") //nolint:staticcheck
	//lint:ignore SA1012 a nil context must be refused, not panic
	assert.ErrorContains(t, c.Documents.SignBatch(nil, 7, []int{1}, testPIN), "nil context") //nolint:staticcheck

	err := c.Documents.SignBatch(ctx, 0, []int{0}, "")
	require.Error(t, err)
	for _, want := range []string{"certificate id 0 is not positive", "empty pin", "document id 0 is not positive"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = c.Documents.SignBatchChunks(ctx, -1, []int{1}, testPIN)
	assert.ErrorContains(t, err, "certificate id -1")
	assert.NotContains(t, err.Error(), testPIN)
	_, err = c.Documents.SignBatchChunks(ctx, 7, []int{1}, "   ")
	assert.ErrorContains(t, err, "empty pin")
	assert.Zero(t, mt.GetTotalCallCount())
}

func TestDocumentsSignBatch(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	expect(t, mt, call{Method: "POST", Path: "/documents/batch/sign/7", Body: `{"document_ids":[101,102,103],"pin":"` + testPIN + `"}`,
		Reply: `{"message":"Documents signed."}`})
	require.NoError(t, c.Documents.SignBatch(context.Background(), 7, []int{101, 102, 103}, testPIN))
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestDocumentsSignBatchChunks(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	sent := expectDocBatch(t, mt, "/documents/batch/sign/7", ok200)
	ids := seq(1000, 250)
	results, err := c.Documents.SignBatchChunks(context.Background(), 7, ids, testPIN)
	require.NoError(t, err)
	require.Len(t, results, 3)
	for _, r := range results {
		assert.NoError(t, r.Err)
	}
	got := sent()
	require.Len(t, got, 3)
	for i, want := range [][]int{ids[:100], ids[100:200], ids[200:]} {
		assert.Equal(t, want, got[i].DocumentIDs)
		assert.Equal(t, testPIN, got[i].PIN)
	}
}

func TestDocumentsSignBatchStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	expectDocBatch(t, mt, "/documents/batch/sign/7", func(int) (int, string) {
		cancel() // the caller gives up while the first chunk is in flight
		return 200, `{}`
	})
	results, err := c.Documents.SignBatchChunks(ctx, 7, seq(1, 250), testPIN)
	require.NoError(t, err)
	require.Len(t, results, 3)
	assert.ErrorIs(t, results[1].Err, context.Canceled)
	assert.ErrorIs(t, results[2].Err, context.Canceled)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

// The PIN never appears in an error, even when the server or the transport echoes it.
func TestDocumentsSignBatchNeverLeaksPIN(t *testing.T) {
	t.Parallel()
	answers := map[string]httpmock.Responder{
		"422 echo": httpmock.NewStringResponder(422, `{"message":"The pin `+testPIN+` is invalid.","errors":{"pin":["The pin `+testPIN+` is invalid."]}}`),
		"401":      httpmock.NewStringResponder(401, `{"error":"invalid_pin `+testPIN+`","message":"Unauthenticated."}`),
		"500 echo": httpmock.NewStringResponder(500, `{"message":"SQL error near '`+testPIN+`'"}`),
		"html":     httpmock.NewStringResponder(500, `<html>pin=`+testPIN+`</html>`),
		"text":     httpmock.NewStringResponder(400, `bad request: pin=`+testPIN),
		"transport": func(*http.Request) (*http.Response, error) {
			return nil, errors.New("connection reset while sending pin=" + testPIN)
		},
	}
	for name, responder := range answers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			mt.RegisterResponder("POST", testBase+"/documents/batch/sign/7", responder)

			err := c.Documents.SignBatch(context.Background(), 7, seq(1, 150), testPIN)
			require.Error(t, err)
			assert.False(t, strings.Contains(err.Error(), testPIN), "error %q holds the pin", err)
			for e := err; e != nil; e = errors.Unwrap(e) {
				var ce *ChunkError[int]
				if errors.As(e, &ce) {
					for _, f := range ce.Failed {
						assert.NotContains(t, f.Err.Error(), testPIN)
					}
				}
			}
			var apiErr *Error
			if errors.As(err, &apiErr) {
				assert.NotContains(t, apiErr.Error(), testPIN)
				assert.NotContains(t, apiErr.Message, testPIN)
				b, _ := json.Marshal(apiErr.Errors)
				assert.NotContains(t, string(b), testPIN)
			}

			results, err := c.Documents.SignBatchChunks(context.Background(), 7, []int{1}, testPIN)
			require.NoError(t, err)
			require.Len(t, results, 1)
			require.Error(t, results[0].Err)
			assert.NotContains(t, results[0].Err.Error(), testPIN)
		})
	}
}

func TestDocumentsSignBatchKeepsErrorIdentity(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	mt.RegisterResponder("POST", testBase+"/documents/batch/sign/7",
		httpmock.NewStringResponder(422, `{"message":"The given data was invalid.","errors":{"pin":["The pin `+testPIN+` is wrong."]}}`))
	err := c.Documents.SignBatch(context.Background(), 7, []int{1}, testPIN)
	assert.ErrorIs(t, err, ErrValidation)
	var apiErr *Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, []string{"The pin [redacted] is wrong."}, apiErr.Errors["pin"])
}

func TestDocumentsGarbledAnswer(t *testing.T) {
	t.Parallel()
	for name, body := range garbledAnswers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "POST", Path: "/documents", Status: 201,
				Body: `{"description":"D","document_type_id":1,"file_uuid":"` + fileUUID + `"}`, Reply: body})
			d, err := c.Documents.Create(context.Background(), &DocumentCreateParams{Description: "D", DocumentTypeID: 1, FileUUID: fileUUID})
			assert.Nil(t, d)
			var de *DecodeError
			assert.ErrorAs(t, err, &de)
		})
	}
}

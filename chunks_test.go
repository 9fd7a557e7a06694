package dokstamp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func coreUUIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	return out
}

func TestChunkIDsSplitting(t *testing.T) {
	t.Parallel()
	ok := func(int) error { return nil }
	for _, tc := range []struct {
		n, size int
		want    []int
	}{
		{1, 100, []int{1}},
		{100, 100, []int{100}},
		{101, 100, []int{100, 1}},
		{250, 100, []int{100, 100, 50}},
		{7, 3, []int{3, 3, 1}},
		{5, 0, []int{5}}, // no size: MaxBatchIDs
		{205, -1, []int{100, 100, 5}},
	} {
		ids := make([]int, tc.n)
		for i := range ids {
			ids[i] = i + 1
		}
		chunks, err := chunkIDs("op", ids, tc.size, ok)
		require.NoError(t, err)
		var sizes []int
		var flat []int
		for _, ch := range chunks {
			sizes = append(sizes, len(ch))
			flat = append(flat, ch...)
		}
		assert.Equal(t, tc.want, sizes, "%d ids by %d", tc.n, tc.size)
		assert.Equal(t, ids, flat, "order kept, nothing lost")
	}
}

func TestChunkIDsChunksDoNotAlias(t *testing.T) {
	t.Parallel()
	chunks, err := chunkIDs("op", []int{1, 2, 3, 4, 5}, 2, func(int) error { return nil })
	require.NoError(t, err)
	chunks[0] = append(chunks[0], 99) // must not overwrite the next chunk
	assert.Equal(t, []int{3, 4}, chunks[1])
}

func TestChunkIDsDedupe(t *testing.T) {
	t.Parallel()
	ids := coreUUIDs(3)
	chunks, err := chunkIDs("destroy x", []string{ids[0], ids[1], ids[0], ids[2], ids[1]}, 2, validUUID)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{ids[0], ids[1]}, {ids[2]}}, chunks)
}

func TestChunkIDsErrors(t *testing.T) {
	t.Parallel()
	_, err := chunkIDs("destroy certificates", nil, 10, validUUID)
	assert.EqualError(t, err, "dokstamp: destroy certificates: no ids")
	_, err = chunkIDs("destroy certificates", []string{}, 10, validUUID)
	assert.Error(t, err)

	ids := coreUUIDs(2)
	_, err = chunkIDs("destroy certificates", []string{ids[0], "", "abc", ids[1], "../x"}, 10, validUUID)
	require.Error(t, err)
	assert.Equal(t, `dokstamp: destroy certificates: 3 invalid id(s): "" is not a UUID; "abc" is not a UUID; "../x" is not a UUID`, err.Error())
}

func TestRunChunksStopsAfterCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sent [][]int
	results := runChunks(ctx, [][]int{{1}, {2}, {3}, {4}}, func(ctx context.Context, ids []int) error {
		sent = append(sent, ids)
		if ids[0] == 2 {
			cancel()
			return ctx.Err()
		}
		return nil
	})
	assert.Equal(t, [][]int{{1}, {2}}, sent, "nothing sent after the cancel")
	require.Len(t, results, 4)
	assert.NoError(t, results[0].Err)
	for _, r := range results[1:] {
		assert.ErrorIs(t, r.Err, context.Canceled)
	}
	assert.Equal(t, []int{4}, results[3].IDs)

	err := chunkErr("op", results)
	var ce *ChunkError[int]
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 4, ce.Total)
	assert.Len(t, ce.Failed, 3)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NoError(t, chunkErr("op", results[:1]))
}

func TestChunkErrorUnwrap(t *testing.T) {
	t.Parallel()
	val := &Error{StatusCode: 422, Method: "DELETE", Path: "/certificates/batch/destroy", Message: "The given data was invalid."}
	ce := &ChunkError[string]{Op: "destroy certificates", Total: 3, Failed: []ChunkResult[string]{
		{IDs: []string{"a", "b"}, Err: val},
		{IDs: []string{"c"}, Err: &Error{StatusCode: 500}},
	}}
	err := fmt.Errorf("wrapped: %w", ce)
	assert.ErrorIs(t, err, ErrValidation)
	assert.ErrorIs(t, err, ErrServer)
	assert.NotErrorIs(t, err, ErrNotFound)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Same(t, val, e, "the first failed chunk's *Error")
	assert.Equal(t, "dokstamp: destroy certificates: 2 of 3 chunks failed (3 ids), first: "+val.Error(), ce.Error())

	assert.NotPanics(t, func() { _ = (&ChunkError[int]{Op: "x"}).Error() })
}

func TestDestroyBatchChunks(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	ids := coreUUIDs(MaxBatchIDs + 30)
	var bodies [][]string
	mt.RegisterResponder("DELETE", coreBase+"/cohorts/batch/destroy", func(r *http.Request) (*http.Response, error) {
		var body struct {
			UUIDs []string `json:"uuids"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, err
		}
		bodies = append(bodies, body.UUIDs)
		if len(bodies) == 2 {
			return httpmock.NewStringResponse(422, `{"message":"The given data was invalid.","errors":{"uuids.0":["in use"]}}`), nil
		}
		return httpmock.NewStringResponse(204, ``), nil
	})
	err := destroyBatch(context.Background(), c, "cohorts", append(ids, ids[0]))
	require.Len(t, bodies, 2)
	assert.Equal(t, ids[:MaxBatchIDs], bodies[0])
	assert.Equal(t, ids[MaxBatchIDs:], bodies[1])
	assert.ErrorIs(t, err, ErrValidation)
	var ce *ChunkError[string]
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, ids[MaxBatchIDs:], ce.Failed[0].IDs)

	err = destroyBatch(context.Background(), c, "cohorts", []string{"nope"})
	assert.ErrorContains(t, err, `"nope" is not a UUID`)
	assert.False(t, errors.As(err, &ce))
	assert.Len(t, bodies, 2, "nothing sent for an invalid id")
}

// TestBatchChunksFollowTheServersLimit runs DestroyBatch and the document batch routes against a
// server that accepts 7 ids per request: with the default chunk size every chunk is refused; with
// WithMaxBatchIDs(7) every chunk fits.
func TestBatchChunksFollowTheServersLimit(t *testing.T) {
	t.Parallel()
	srv := dokstamptest.NewServer(t, dokstamptest.WithMaxBatch(7), dokstamptest.WithStudents(1))
	ctx := context.Background()
	ids := coreUUIDs(20) // unknown uuids: the fake skips them, so every fitting chunk succeeds

	def, _ := batchClient(t, srv, RetryPolicy{})
	err := def.Students.DestroyBatch(ctx, ids)
	assert.ErrorIs(t, err, ErrValidation)
	assert.Equal(t, map[int]int{422: 1}, srv.Requests()["DELETE /students/batch/destroy"])

	c, err := NewClient(WithTenant(srv.Tenant), WithToken(srv.Token), WithBaseURL(srv.URL), WithMaxBatchIDs(7))
	require.NoError(t, err)
	require.NoError(t, c.Students.DestroyBatch(ctx, ids))
	assert.Equal(t, map[int]int{422: 1, 204: 3}, srv.Requests()["DELETE /students/batch/destroy"])

	// The document routes: 9 documents in chunks of 7 and 2.
	dt, err := c.Documents.CreateType(ctx, &DocumentTypeCreateParams{Description: "Diploma"})
	require.NoError(t, err)
	var docs []int
	for i := 0; i < 9; i++ {
		files, err := c.Files.Upload(ctx, UploadBytes(fmt.Sprintf("d%d.pdf", i), diplomaPDF(i)))
		require.NoError(t, err)
		d, err := c.Documents.Create(ctx, &DocumentCreateParams{Description: "Diploma", DocumentTypeID: dt.ID, FileUUID: files[0].UUID})
		require.NoError(t, err)
		docs = append(docs, d.ID)
	}
	require.NoError(t, c.Documents.ResendSignatures(ctx, docs))
	require.NoError(t, c.Documents.SignBatch(ctx, srv.SigningCertID, docs, srv.SigningPIN))
	assert.Equal(t, map[int]int{200: 2}, srv.Requests()["POST /documents/signatures/batch/resend"])
	assert.Equal(t, map[int]int{200: 2}, srv.Requests()["POST /documents/batch/sign/{cert_id}"])
	assert.ErrorIs(t, def.Documents.ResendSignatures(ctx, docs), ErrValidation)

	_, err = NewClient(WithTenant("t"), WithToken("x"), WithMaxBatchIDs(0))
	assert.ErrorContains(t, err, "WithMaxBatchIDs")
}

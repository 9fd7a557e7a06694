package dokstamp

import (
	"context"
	"fmt"
	"strings"
)

// MaxBatchIDs is how many ids one batch request carries by default; longer lists are split into
// chunks of this size. It is an assumption, not a documented fact: the API documents no maximum,
// and 100 is what dokstamptest accepts by default. A server that accepts fewer is met with
// WithMaxBatchIDs.
const MaxBatchIDs = 100

// WithMaxBatchIDs sets how many ids one batch request carries (DELETE .../batch/destroy and the
// document batch routes), for a server whose limit is not MaxBatchIDs. n must be at least 1.
func WithMaxBatchIDs(n int) Option {
	return func(s *settings) error {
		if n < 1 {
			return fmt.Errorf("dokstamp: WithMaxBatchIDs: %d ids per batch; use at least 1", n)
		}
		s.maxBatchIDs = n
		return nil
	}
}

// batchIDs is the client's chunk size for batch requests.
func (c *Client) batchIDs() int {
	if c.maxBatchIDs > 0 {
		return c.maxBatchIDs
	}
	return MaxBatchIDs
}

// ChunkResult is the outcome of one request of a chunked batch call.
type ChunkResult[ID comparable] struct {
	IDs []ID
	Err error
}

// ChunkError reports the chunks of a batch call that failed; the others succeeded.
type ChunkError[ID comparable] struct {
	Op     string
	Failed []ChunkResult[ID]
	Total  int // number of chunks sent
}

// Error counts the failed chunks and ids and quotes the first failure.
func (e *ChunkError[ID]) Error() string {
	n := 0
	for _, f := range e.Failed {
		n += len(f.IDs)
	}
	if len(e.Failed) == 0 {
		return fmt.Sprintf("dokstamp: %s: no chunk failed", e.Op)
	}
	return fmt.Sprintf("dokstamp: %s: %d of %d chunks failed (%d ids), first: %v", e.Op, len(e.Failed), e.Total, n, e.Failed[0].Err)
}

// Unwrap exposes each failed chunk's error to errors.Is and errors.As.
func (e *ChunkError[ID]) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f.Err
	}
	return out
}

// chunkIDs checks ids (not empty, each valid), drops repeats, keeps the first-seen order and
// splits them into chunks of at most size (MaxBatchIDs when size is not positive). Every invalid
// id is named in the error, and nothing is sent then.
func chunkIDs[ID comparable](op string, ids []ID, size int, valid func(ID) error) ([][]ID, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("dokstamp: %s: no ids", op)
	}
	if size <= 0 {
		size = MaxBatchIDs
	}
	seen := make(map[ID]struct{}, len(ids))
	uniq := make([]ID, 0, len(ids))
	var errs []error
	for _, id := range ids {
		if err := valid(id); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		uniq = append(uniq, id)
	}
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("dokstamp: %s: %d invalid id(s): %s", op, len(errs), strings.Join(msgs, "; "))
	}
	var chunks [][]ID
	for len(uniq) > 0 {
		n := min(size, len(uniq))
		chunks = append(chunks, uniq[:n:n])
		uniq = uniq[n:]
	}
	return chunks, nil
}

// runChunks sends the chunks one after another and returns one result per chunk. It stops early
// only when ctx ends; the chunks not sent then carry ctx's error.
func runChunks[ID comparable](ctx context.Context, chunks [][]ID, send func(context.Context, []ID) error) []ChunkResult[ID] {
	out := make([]ChunkResult[ID], len(chunks))
	for i, ch := range chunks {
		out[i].IDs = ch
		if err := ctx.Err(); err != nil {
			out[i].Err = err
			continue
		}
		out[i].Err = send(ctx, ch)
	}
	return out
}

// chunkErr folds chunk results into nil or a *ChunkError.
func chunkErr[ID comparable](op string, results []ChunkResult[ID]) error {
	var failed []ChunkResult[ID]
	for _, r := range results {
		if r.Err != nil {
			failed = append(failed, r)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &ChunkError[ID]{Op: op, Failed: failed, Total: len(results)}
}

// validUUID checks one id of a batch; its message is meant to be listed with the others'.
func validUUID(id string) error {
	if !isUUID(id) {
		return fmt.Errorf("%q is not a UUID", id)
	}
	return nil
}

// destroyBatchChunks is DELETE /{collection}/batch/destroy for any number of uuids.
func destroyBatchChunks(ctx context.Context, c *Client, collection string, uuids []string, opts ...RequestOption) ([]ChunkResult[string], error) {
	op := "destroy " + collection
	if ctx == nil {
		return nil, fmt.Errorf("dokstamp: %s: nil context", op)
	}
	chunks, err := chunkIDs(op, uuids, c.batchIDs(), validUUID)
	if err != nil {
		return nil, err
	}
	return runChunks(ctx, chunks, func(ctx context.Context, ids []string) error {
		body := struct {
			UUIDs []string `json:"uuids"`
		}{ids}
		return c.call(ctx, &request{method: "DELETE", path: pathOf(collection, "batch", "destroy"), body: body, opts: opts}, nil)
	}), nil
}

// destroyBatch is destroyBatchChunks folded into one error.
func destroyBatch(ctx context.Context, c *Client, collection string, uuids []string, opts ...RequestOption) error {
	results, err := destroyBatchChunks(ctx, c, collection, uuids, opts...)
	if err != nil {
		return err
	}
	return chunkErr("destroy "+collection, results)
}

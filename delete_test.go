package dokstamp

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The soft deletes of every resource: DELETE /{collection}/{uuid}, and DELETE
// /{collection}/batch/destroy split into chunks of MaxBatchIDs, repeats sent once.
func TestDeleteAndDestroyBatch(t *testing.T) {
	t.Parallel()
	type service struct {
		collection string
		id         string
		del        func(*Client, context.Context, string) error
		destroy    func(*Client, context.Context, []string) error // nil: the API has no batch route
	}
	for _, s := range []service{
		{"certificates", certUUID, func(c *Client, ctx context.Context, id string) error { return c.Certificates.Delete(ctx, id) },
			func(c *Client, ctx context.Context, ids []string) error { return c.Certificates.DestroyBatch(ctx, ids) }},
		{"cohorts", cohortUUID, func(c *Client, ctx context.Context, id string) error { return c.Cohorts.Delete(ctx, id) },
			func(c *Client, ctx context.Context, ids []string) error { return c.Cohorts.DestroyBatch(ctx, ids) }},
		{"courses", courseUUID, func(c *Client, ctx context.Context, id string) error { return c.Courses.Delete(ctx, id) },
			func(c *Client, ctx context.Context, ids []string) error { return c.Courses.DestroyBatch(ctx, ids) }},
		{"enrollments", enrollUUID, func(c *Client, ctx context.Context, id string) error { return c.Enrollments.Delete(ctx, id) },
			func(c *Client, ctx context.Context, ids []string) error { return c.Enrollments.DestroyBatch(ctx, ids) }},
		{"institutions", instUUID, func(c *Client, ctx context.Context, id string) error { return c.Institutions.Delete(ctx, id) },
			func(c *Client, ctx context.Context, ids []string) error { return c.Institutions.DestroyBatch(ctx, ids) }},
		{"modules", moduleUUID, func(c *Client, ctx context.Context, id string) error { return c.Modules.Delete(ctx, id) },
			func(c *Client, ctx context.Context, ids []string) error { return c.Modules.DestroyBatch(ctx, ids) }},
		{"organizations", orgUUID, func(c *Client, ctx context.Context, id string) error { return c.Organizations.Delete(ctx, id) },
			func(c *Client, ctx context.Context, ids []string) error {
				return c.Organizations.DestroyBatch(ctx, ids)
			}},
		{"students", studentUUID, func(c *Client, ctx context.Context, id string) error { return c.Students.Delete(ctx, id) },
			func(c *Client, ctx context.Context, ids []string) error { return c.Students.DestroyBatch(ctx, ids) }},
		{"files", fileUUID, func(c *Client, ctx context.Context, id string) error { return c.Files.Delete(ctx, id) }, nil},
		{"certificate-templates", templateUUID, func(c *Client, ctx context.Context, id string) error { return c.Templates.Delete(ctx, id) }, nil},
	} {
		t.Run(s.collection+"/delete", func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			expect(t, mt, call{Method: "DELETE", Path: "/" + s.collection + "/" + s.id, Status: http.StatusNoContent})
			require.NoError(t, s.del(c, context.Background(), s.id))
			assert.Equal(t, 1, mt.GetTotalCallCount())
		})
		if s.destroy == nil {
			continue
		}
		t.Run(s.collection+"/destroy-batch", func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			sent := expectBatchDestroy(t, mt, "/"+s.collection+"/batch/destroy")
			ids := uuidsN(250)
			require.NoError(t, s.destroy(c, context.Background(), append(ids, ids[:10]...)))
			assert.Equal(t, [][]string{ids[:100], ids[100:200], ids[200:]}, sent())
		})
	}
}

package dokstamp

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type stampedItem struct {
	UUID    string `json:"uuid"`
	Stamp   int    `json:"stamp"`
	Payload string `json:"payload,omitempty"`
}

func stampedUUID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// stampedServer answers GET /items?page=n with page(n) and no meta, every item stamped with a
// counter that changes on every answer (as a timestamp or a signed URL would), and counts the
// requests.
func stampedServer(t *testing.T, page func(n int) []int) (*Client, *atomic.Int32) {
	t.Helper()
	var asked, stamp atomic.Int32
	c, mt := coreMockClient(t)
	mt.RegisterResponder("GET", coreBase+"/items", func(r *http.Request) (*http.Response, error) {
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if asked.Add(1) > 50 {
			t.Errorf("page %d asked for: the walk does not end", n)
			return httpmock.NewStringResponse(404, `{"message":"enough"}`), nil
		}
		var items []stampedItem
		for _, i := range page(n) {
			items = append(items, stampedItem{UUID: stampedUUID(i), Stamp: int(stamp.Add(1))})
		}
		return httpmock.NewJsonResponse(200, map[string]any{"data": items})
	})
	return c, &asked
}

func collectStamped(t *testing.T, c *Client) []string {
	t.Helper()
	var got []string
	for it, err := range listAll[stampedItem](context.Background(), c, "/items", nil) {
		require.NoError(t, err)
		got = append(got, it.UUID)
	}
	return got
}

func TestListAllWithoutMetaStopsOnRepeatedItems(t *testing.T) {
	t.Parallel()
	t.Run("the same items with a field changed on every page", func(t *testing.T) {
		t.Parallel()
		c, asked := stampedServer(t, func(int) []int { return []int{1, 2, 3} })
		got := collectStamped(t, c)
		assert.Equal(t, []string{stampedUUID(1), stampedUUID(2), stampedUUID(3)}, got, "each item once")
		assert.EqualValues(t, 2, asked.Load(), "page 2 holds nothing new: the walk ends there")
	})
	t.Run("pages that overlap", func(t *testing.T) {
		t.Parallel()
		pages := map[int][]int{1: {1, 2}, 2: {2, 3}, 3: {3, 4, 1}, 4: {4, 2}, 5: {5}}
		c, asked := stampedServer(t, func(n int) []int { return pages[n] })
		got := collectStamped(t, c)
		assert.Equal(t, []string{stampedUUID(1), stampedUUID(2), stampedUUID(3), stampedUUID(4)}, got,
			"new items are yielded, old ones are not yielded again")
		assert.EqualValues(t, 4, asked.Load(), "page 4 holds nothing new: page 5 is never asked for")
	})
	t.Run("uuids compare without regard to case", func(t *testing.T) {
		t.Parallel()
		c, mt := coreMockClient(t)
		var asked atomic.Int32
		mt.RegisterResponder("GET", coreBase+"/items", func(r *http.Request) (*http.Response, error) {
			id := "ABCDEF00-0000-4000-8000-000000000001"
			if asked.Add(1) > 1 {
				id = strings.ToLower(id)
			}
			return httpmock.NewJsonResponse(200, map[string]any{"data": []stampedItem{{UUID: id}}})
		})
		assert.Len(t, collectStamped(t, c), 1)
		assert.EqualValues(t, 2, asked.Load())
	})
}

func TestItemKey(t *testing.T) {
	t.Parallel()
	byUUID := itemKey[stampedItem]()
	assert.Equal(t, byUUID(&stampedItem{UUID: "A", Stamp: 1}), byUUID(&stampedItem{UUID: "a", Stamp: 2}))
	assert.NotEqual(t, byUUID(&stampedItem{Stamp: 1}), byUUID(&stampedItem{Stamp: 2}), "no uuid: the JSON is the identity")
	plain := itemKey[corePageItem]()
	assert.Equal(t, plain(&corePageItem{Page: 1, I: 2}), plain(&corePageItem{Page: 1, I: 2}))
	assert.NotEqual(t, plain(&corePageItem{Page: 1, I: 2}), plain(&corePageItem{Page: 1, I: 3}))
	str := itemKey[string]()
	assert.NotEqual(t, str(Ptr("a")), str(Ptr("b")))
}

func TestListAllNilContext(t *testing.T) {
	t.Parallel()
	c, mt := coreMockClient(t)
	var errs []error
	//lint:ignore SA1012 a nil context must be refused, not panic
	for _, err := range listAll[stampedItem](nil, c, "/items", nil) { //nolint:staticcheck
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorContains(t, errs[0], "nil context")
	assert.Zero(t, mt.GetTotalCallCount())
}

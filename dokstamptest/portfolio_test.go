package dokstamptest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPortfolioPageGetUpdateDelete(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	a := newAPI(t, srv)
	su := srv.StudentUUIDs[0]
	c := a.issued(0, "p")
	pg := a.data(http.MethodPost, "/students/"+su+"/pages", map[string]any{"slug": "student-one", "bio": "hi"}, http.StatusCreated)
	pu := pg["uuid"].(string)
	base := "/students/" + su + "/pages/" + pu
	a.data(http.MethodPost, base+"/items", map[string]any{"certificate_uuid": c["uuid"]}, http.StatusCreated)

	got := a.data(http.MethodGet, base, nil, http.StatusOK)
	assert.Equal(t, "student-one", got["slug"])
	assert.Equal(t, false, got["is_public"])
	assert.Len(t, got["items"], 1)
	// The page belongs to its student only.
	a.call(http.MethodGet, "/students/"+srv.StudentUUIDs[1]+"/pages/"+pu, nil, http.StatusNotFound)

	// "Set the page private" and back: is_public, with PATCH or PUT.
	assert.Equal(t, true, a.data(http.MethodPatch, base, map[string]any{"is_public": true}, http.StatusOK)["is_public"])
	up := a.data(http.MethodPut, base, map[string]any{"is_public": false, "bio": "bye"}, http.StatusOK)
	assert.Equal(t, false, up["is_public"])
	assert.Equal(t, "bye", up["bio"])
	assert.Equal(t, "student-one", up["slug"])

	// The slug follows the creation rules, and a new one frees the old.
	other := a.data(http.MethodPost, "/students/"+srv.StudentUUIDs[1]+"/pages", map[string]any{"slug": "taken"}, http.StatusCreated)
	e := errorsOf(t, a.call(http.MethodPatch, base, map[string]any{"slug": "taken"}, http.StatusUnprocessableEntity))
	assert.Contains(t, e, "slug")
	a.call(http.MethodPatch, base, map[string]any{"slug": "Bad Slug"}, http.StatusUnprocessableEntity)
	a.call(http.MethodPatch, base, map[string]any{"is_public": "yes"}, http.StatusUnprocessableEntity)
	a.data(http.MethodPatch, base, map[string]any{"slug": "student-1"}, http.StatusOK)
	a.data(http.MethodPatch, "/students/"+srv.StudentUUIDs[1]+"/pages/"+other["uuid"].(string), map[string]any{"slug": "student-one"}, http.StatusOK)

	// Delete: the page and its items are gone; its slug stays taken.
	a.call(http.MethodDelete, base, nil, http.StatusNoContent)
	a.call(http.MethodGet, base, nil, http.StatusNotFound)
	a.call(http.MethodGet, base+"/items", nil, http.StatusNotFound)
	a.call(http.MethodDelete, base, nil, http.StatusNotFound)
	list := a.call(http.MethodGet, "/students/"+su+"/pages", nil, http.StatusOK)["data"].([]any)
	require.Empty(t, list)
	a.call(http.MethodPost, "/students/"+su+"/pages", map[string]any{"slug": "student-1"}, http.StatusUnprocessableEntity)
}

package dokstamptest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSeedMakesUUIDsRepeatable(t *testing.T) {
	t.Parallel()
	a := NewServer(t, WithSeed(7), WithStudents(3))
	b := NewServer(t, WithSeed(7), WithStudents(3))
	c := NewServer(t, WithSeed(8), WithStudents(3))
	assert.Equal(t, a.StudentUUIDs, b.StudentUUIDs)
	assert.Equal(t, a.CourseUUID, b.CourseUUID)
	assert.NotEqual(t, a.StudentUUIDs, c.StudentUUIDs)
	for _, id := range a.StudentUUIDs {
		assert.True(t, isUUID(id), id)
	}
}

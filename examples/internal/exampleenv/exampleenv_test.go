package exampleenv

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

func clearEnv(t *testing.T) {
	for _, k := range Vars {
		t.Setenv(k, "")
	}
}

func TestEmbeddedWithoutCredentials(t *testing.T) {
	clearEnv(t)
	var out bytes.Buffer
	env, err := Start(&out, "test", dokstamptest.WithStudents(2))
	require.NoError(t, err)
	defer env.Close()
	assert.True(t, env.Embedded())
	assert.Equal(t, "Using the embedded DokStamp test server (set DOKSTAMP_TOKEN and DOKSTAMP_TENANT to use the real API)\n", out.String())
	inst, err := env.Client.Institutions.Get(context.Background(), env.Fake.InstitutionUUID)
	require.NoError(t, err)
	assert.Equal(t, "Acme University", inst.Name)

	got, err := env.Pick("course", "", "DOKSTAMP_COURSE_UUID", env.Fake.CourseUUID)
	require.NoError(t, err)
	assert.Equal(t, env.Fake.CourseUUID, got)
	got, err = env.Pick("course", "flag-value", "DOKSTAMP_COURSE_UUID", env.Fake.CourseUUID)
	require.NoError(t, err)
	assert.Equal(t, "flag-value", got)
}

func TestRealAPIFromEnvironment(t *testing.T) {
	clearEnv(t)
	// A dokstamptest server stands in for the real API.
	srv := dokstamptest.NewServer(t)
	t.Setenv("DOKSTAMP_BASE_URL", srv.URL)
	t.Setenv("DOKSTAMP_TOKEN", srv.Token)
	t.Setenv("DOKSTAMP_TENANT", srv.Tenant)
	var out bytes.Buffer
	env, err := Start(&out, "test")
	require.NoError(t, err)
	defer env.Close()
	assert.False(t, env.Embedded())
	assert.Equal(t, "Using the DokStamp API at "+srv.URL+" (tenant acme-university)\n", out.String())
	_, err = env.Client.Institutions.Get(context.Background(), srv.InstitutionUUID)
	require.NoError(t, err)

	_, err = env.Pick("course", "", "DOKSTAMP_COURSE_UUID", "ignored")
	assert.EqualError(t, err, "-course is required against the real API (or set DOKSTAMP_COURSE_UUID)")
	t.Setenv("DOKSTAMP_COURSE_UUID", srv.CourseUUID)
	got, err := env.Pick("course", "", "DOKSTAMP_COURSE_UUID", "ignored")
	require.NoError(t, err)
	assert.Equal(t, srv.CourseUUID, got)
}

func TestPartialCredentialsAreAnError(t *testing.T) {
	clearEnv(t)
	t.Setenv("DOKSTAMP_TOKEN", "dks_secret_value")
	var out bytes.Buffer
	_, err := Start(&out, "test")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DOKSTAMP_* environment")
	assert.NotContains(t, err.Error(), "dks_secret_value")
	assert.Empty(t, out.String(), "no silent switch to the embedded server")
}

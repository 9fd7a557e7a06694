package dokstamp

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: read-ahead pages, upload
// writers, token fetches and test servers must all be gone once the tests are done.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

package dokstamp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A garbled 2xx answer to a list, an upload or a login is a *DecodeError naming the call, never
// an empty result.
func TestGarbledSuccessIsADecodeError(t *testing.T) {
	t.Parallel()
	calls := map[string]struct {
		method, path string
		status       int
		call         func(c *Client) error
	}{
		"List": {"GET", "/students", 200, func(c *Client) error {
			_, err := c.Students.List(context.Background(), nil)
			return err
		}},
		"All": {"GET", "/students", 200, func(c *Client) error {
			for _, err := range c.Students.All(context.Background(), nil) {
				return err
			}
			return errors.New("All yielded nothing")
		}},
		"Upload": {"POST", "/files", 201, func(c *Client) error {
			_, err := c.Files.Upload(context.Background(), UploadBytes("a.pdf", pdfBytes))
			return err
		}},
		"Login": {"POST", "/auth/login", 200, func(c *Client) error {
			_, err := c.Auth.Login(context.Background(), "ana@uni.eu", "pw")
			return err
		}},
		"Create": {"POST", "/certificates", 201, func(c *Client) error {
			_, err := c.Certificates.Create(context.Background(), &CertificateCreateParams{InstitutionUUID: instUUID,
				CourseUUID: courseUUID, StudentUUID: studentUUID, FileUUID: fileUUID})
			return err
		}},
	}
	for name, k := range calls {
		for answer, body := range map[string]string{"null": `null`, "empty object": `{}`, "HTML": `<html>Maintenance</html>`,
			"wrong type": `{"data":"nope","access_token":7}`, "truncated": `{"data":[{"uuid":"`} {
			t.Run(name+"/"+answer, func(t *testing.T) {
				t.Parallel()
				c, mt := newMockClient(t)
				mt.RegisterResponder(k.method, testBase+k.path, func(r *http.Request) (*http.Response, error) {
					if r.Body != nil { // the multipart writer waits for its reader
						_, _ = io.Copy(io.Discard, r.Body)
						r.Body.Close()
					}
					return httpmock.NewStringResponse(k.status, body), nil
				})
				err := k.call(c)
				var de *DecodeError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, k.method, de.Method)
				assert.Equal(t, k.path, de.Path)
				assert.Equal(t, k.status, de.StatusCode)
				assert.NotErrorIs(t, err, ErrOutcomeUnknown, "a 2xx says the server acted")
			})
		}
	}
}

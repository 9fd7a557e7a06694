package dokstamp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNullableJSON(t *testing.T) {
	t.Parallel()
	type body struct {
		S Nullable[string] `json:"s,omitzero"`
		N Nullable[int]    `json:"n,omitzero"`
	}
	for _, tc := range []struct {
		name string
		in   body
		want string
	}{
		{"left out", body{}, `{}`},
		{"cleared", body{S: Null[string]()}, `{"s":null}`},
		{"set", body{S: Set("Ana"), N: Set(3)}, `{"s":"Ana","n":3}`},
		{"set to the zero value is sent", body{S: Set(""), N: Set(0)}, `{"s":"","n":0}`},
		{"mixed", body{S: Null[string](), N: Set(0)}, `{"s":null,"n":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b))

			var back body
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, tc.in, back, "a round trip keeps absent, null and set apart")
		})
	}

	v, ok := Set("x").Get()
	assert.True(t, ok)
	assert.Equal(t, "x", v)
	_, ok = Null[string]().Get()
	assert.False(t, ok)
	assert.True(t, Null[int]().IsNull())
	assert.False(t, Set(0).IsNull())
	assert.True(t, Nullable[int]{}.IsZero())
	assert.False(t, Null[int]().IsZero())
	assert.Equal(t, "null", Null[int]().String())
	assert.Equal(t, "7", Set(7).String())
	assert.Equal(t, "(absent)", Nullable[int]{}.String())

	var bad Nullable[int]
	assert.Error(t, json.Unmarshal([]byte(`"seven"`), &bad))
}

// TestUpdateParamsClear sends every update params with one nullable field cleared and one set,
// and asserts the exact bytes on the wire: the cleared field is null, every other field is absent.
func TestUpdateParamsClear(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, path, want string
		update           func(context.Context, *Client) error
	}{
		{"student", "/students/" + studentUUID, `{"gender":"female","social_name":null}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Students.Update(ctx, studentUUID, &StudentUpdateParams{Gender: Set("female"), SocialName: Null[string]()})
				return err
			}},
		{"institution", "/institutions/" + instUUID, `{"legal_name":null,"tax_id":null,"website":"https://acme.example","linkedin_organization":null,"badge_image_uuid":null}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Institutions.Update(ctx, instUUID, &InstitutionUpdateParams{LegalName: Null[string](), TaxID: Null[string](),
					Website: Set("https://acme.example"), LinkedInOrganization: Null[string](), BadgeImageUUID: Null[string]()})
				return err
			}},
		{"organization", "/organizations/" + orgUUID, `{"code":null}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Organizations.Update(ctx, orgUUID, &OrganizationUpdateParams{Code: Null[string]()})
				return err
			}},
		{"course", "/courses/" + courseUUID, `{"organization_uuid":null,"code":null,"description":null,"workload_hours":null,"area":"CS","version":null,"badge_image_uuid":null}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Courses.Update(ctx, courseUUID, &CourseUpdateParams{OrganizationUUID: Null[string](), Code: Null[string](),
					Description: Null[string](), WorkloadHours: Null[int](), Area: Set("CS"), Version: Null[string](), BadgeImageUUID: Null[string]()})
				return err
			}},
		{"module group", "/courses/" + courseUUID + "/modules/groups/" + groupUUID, `{"order":null}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Courses.UpdateModuleGroup(ctx, courseUUID, groupUUID, &ModuleGroupUpdateParams{Order: Null[int]()})
				return err
			}},
		{"module", "/modules/" + moduleUUID, `{"code":null,"description":null,"syllabus":null,"workload":0,"credits":null,"modality":null,"level":"open"}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Modules.Update(ctx, moduleUUID, &ModuleUpdateParams{Code: Null[string](), Description: Null[string](),
					Syllabus: Null[string](), Workload: Set(0), Credits: Null[int](), Modality: Null[ModuleModality](), Level: Set(LevelOpen)})
				return err
			}},
		{"cohort", "/cohorts/" + cohortUUID, `{"modality":null,"start_date":"2026-02-01T00:00:00Z","end_date":null}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Cohorts.Update(ctx, cohortUUID, &CohortUpdateParams{Modality: Null[CohortModality](), StartDate: Set(start), EndDate: Null[time.Time]()})
				return err
			}},
		{"enrollment", "/enrollments/" + enrollUUID, `{"cohort_uuid":null,"completion_status":"enrolled","grade":null,"completed_at":null}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Enrollments.Update(ctx, enrollUUID, &EnrollmentUpdateParams{CohortUUID: Null[string](),
					CompletionStatus: CompletionEnrolled, Grade: Null[float64](), CompletedAt: Null[string]()})
				return err
			}},
		{"template", "/certificate-templates/" + templateUUID, `{"preview_image_path":null,"canva_config":{"pages":1}}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Templates.Update(ctx, templateUUID, &TemplateUpdateParams{PreviewImagePath: Null[string](),
					CanvaConfig: Set(json.RawMessage(`{"pages":1}`))})
				return err
			}},
		{"certificate", "/certificates/" + certUUID, `{"cohort_uuid":null,"enrollment_uuid":"` + enrollUUID + `","template_uuid":null}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Certificates.Update(ctx, certUUID, &CertificateUpdateParams{CohortUUID: Null[string](),
					EnrollmentUUID: Set(enrollUUID), TemplateUUID: Null[string]()})
				return err
			}},
		{"portfolio page", "/students/" + studentUUID + "/pages/" + pageUUID, `{"is_public":false,"bio":null}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Students.UpdatePage(ctx, studentUUID, pageUUID, &PortfolioPageUpdateParams{IsPublic: Ptr(false), Bio: Null[string]()})
				return err
			}},
		{"nothing set sends an empty object", "/students/" + studentUUID, `{}`,
			func(ctx context.Context, c *Client) error {
				_, err := c.Students.Update(ctx, studentUUID, &StudentUpdateParams{})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt := newMockClient(t)
			mt.RegisterResponder("PATCH", testBase+tc.path, func(r *http.Request) (*http.Response, error) {
				b, err := io.ReadAll(r.Body)
				assert.NoError(t, err)
				assert.Equal(t, tc.want, string(b), "the exact body sent")
				return reply(200, dataReply(`{"uuid":"`+certUUID+`","status":"draft"}`)), nil
			})
			require.NoError(t, tc.update(context.Background(), c))
			assert.Equal(t, 1, mt.GetTotalCallCount())
		})
	}
}

func TestUpdateParamsValidateSetValues(t *testing.T) {
	t.Parallel()
	c, mt := newMockClient(t)
	ctx := context.Background()
	_, err := c.Courses.Update(ctx, courseUUID, &CourseUpdateParams{OrganizationUUID: Set("nope"), WorkloadHours: Set(-2)})
	assert.ErrorContains(t, err, `organization_uuid "nope" is not a UUID`)
	assert.ErrorContains(t, err, "workload_hours is -2")
	_, err = c.Modules.Update(ctx, moduleUUID, &ModuleUpdateParams{Code: Set("a-code-much-longer-than-twenty")})
	assert.ErrorContains(t, err, "code is 30 characters long")
	_, err = c.Cohorts.Update(ctx, cohortUUID, &CohortUpdateParams{StartDate: Set(time.Now()), EndDate: Set(time.Now().Add(-time.Hour))})
	assert.ErrorContains(t, err, "end_date is before start_date")
	_, err = c.Enrollments.Update(ctx, enrollUUID, &EnrollmentUpdateParams{Grade: Set(11.0), CompletedAt: Set("yesterday")})
	assert.ErrorContains(t, err, "grade 11")
	assert.ErrorContains(t, err, "completed_at")
	_, err = c.Templates.Update(ctx, templateUUID, &TemplateUpdateParams{CanvaConfig: Set(json.RawMessage(`[1]`))})
	assert.ErrorContains(t, err, "canva_config is not a JSON object")
	_, err = c.Certificates.Update(ctx, certUUID, &CertificateUpdateParams{TemplateUUID: Set("x"), Status: StatusRevoked})
	assert.ErrorContains(t, err, `template_uuid "x" is not a UUID`)
	assert.ErrorContains(t, err, `status "revoked" is not one of draft, issued`)
	_, err = c.Certificates.Update(ctx, "not-a-uuid", &CertificateUpdateParams{})
	assert.ErrorContains(t, err, "not a UUID")
	_, err = c.Certificates.Update(ctx, certUUID, nil)
	assert.ErrorContains(t, err, "nil params")
	// Cleared fields are not checked as values.
	_, err = c.Courses.Update(ctx, courseUUID, &CourseUpdateParams{OrganizationUUID: Null[string](), Status: "gone"})
	assert.NotContains(t, err.Error(), "organization_uuid")
	assert.Zero(t, mt.GetTotalCallCount(), "nothing invalid is sent")
}

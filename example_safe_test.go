package dokstamp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/dokstamp/dokstamp-go"
	"github.com/dokstamp/dokstamp-go/dokstamptest"
)

func ExampleStudentsService_FindOrCreate() {
	// The fake applies every student create and then drops the connection: the answer is lost.
	srv, err := dokstamptest.New(dokstamptest.WithSeed(3),
		dokstamptest.WithRouteFaults("POST /students", dokstamptest.Faults{DropAfterCommitRate: 1}))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithToken(srv.Token), dokstamp.WithTenant(srv.Tenant))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	p := &dokstamp.StudentCreateParams{Name: "Maria Silva", Email: "maria.silva@example.com", DateOfBirth: "1999-05-14"}

	// The lost answer is settled by looking the e-mail up again.
	st, created, err := c.Students.FindOrCreate(ctx, p)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Name, created)

	// Run again (a rerun of the sync): found, not created twice.
	again, created, err := c.Students.FindOrCreate(ctx, p)
	if err != nil {
		panic(err)
	}
	fmt.Println(again.UUID == st.UUID, created)
	// Output:
	// Maria Silva true
	// true false
}

func ExampleStudentsService_FindByEmails() {
	srv, err := dokstamptest.New(dokstamptest.WithSeed(4), dokstamptest.WithStudents(3))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithToken(srv.Token), dokstamp.WithTenant(srv.Tenant))
	if err != nil {
		panic(err)
	}
	manifest := []string{
		"student1@" + srv.Tenant + ".test",
		"STUDENT3@" + srv.Tenant + ".test", // compared without regard to case
		"new.graduate@example.com",         // no such student: absent from the map
	}
	found, err := c.Students.FindByEmails(context.Background(), manifest)
	if err != nil {
		panic(err)
	}
	for _, e := range manifest {
		if st, ok := found[e]; ok {
			fmt.Println(e, "->", st.Name)
		} else {
			fmt.Println(e, "-> not found")
		}
	}
	// Output:
	// student1@acme-university.test -> Student 1
	// STUDENT3@acme-university.test -> Student 3
	// new.graduate@example.com -> not found
}

func ExampleNull() {
	// A server that prints the body of each update it gets.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path, string(body))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"data":{"uuid":"6fa459ea-ee8a-4ca4-894e-db77e160355e","name":"Maria Silva"}}`)
	}))
	defer srv.Close()
	c, err := dokstamp.NewClient(dokstamp.WithBaseURL(srv.URL), dokstamp.WithToken("tok"), dokstamp.WithTenant("acme"))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	id := "6fa459ea-ee8a-4ca4-894e-db77e160355e"

	// Null clears a field, Set sets it; the fields left out are not sent at all.
	_, err = c.Students.Update(ctx, id, &dokstamp.StudentUpdateParams{SocialName: dokstamp.Null[string](), Gender: dokstamp.Set("female")})
	if err != nil {
		panic(err)
	}
	_, err = c.Courses.Update(ctx, "1b4e28ba-2fa1-41d2-883f-0016d3cca427", &dokstamp.CourseUpdateParams{OrganizationUUID: dokstamp.Null[string]()})
	if err != nil {
		panic(err)
	}
	// Output:
	// PATCH /students/6fa459ea-ee8a-4ca4-894e-db77e160355e {"gender":"female","social_name":null}
	// PATCH /courses/1b4e28ba-2fa1-41d2-883f-0016d3cca427 {"organization_uuid":null}
}

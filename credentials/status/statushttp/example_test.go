package statushttp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/mandate-dev/mandate/credentials/status"
	"github.com/mandate-dev/mandate/credentials/status/statushttp"
)

func ExampleNewHandler() {
	dir, err := os.MkdirTemp("", "lists")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	// The issuer signs the list credential, then publishes it.
	signed := []byte(`{"id":"https://status.example/lists/1","credentialSubject":{"ttl":60000}}`)
	if err := statushttp.WriteFile(dir, "1", signed); err != nil {
		fmt.Println(err)
		return
	}
	h, err := statushttp.NewHandler(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(http.StripPrefix("/lists", h))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/lists/1")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	fmt.Println(resp.Header.Get("Content-Type"))
	fmt.Println(resp.Header.Get("Cache-Control"))
	fmt.Println(resp.Header.Get("ETag"))
	// Output:
	// 200 OK
	// application/ld+json
	// max-age=60
	// "5fd1078d035b20a3bf90688b18ab2b13"
}

func ExampleFetcher_Get() {
	f := &statushttp.Fetcher{
		// Verify checks the list credential's proof and shape.
		Verify: func(ctx context.Context, body []byte) (*status.ListCredential, error) {
			return nil, errors.New("not reached")
		},
	}
	// Over plain http, a network attacker could replay an older list.
	_, err := f.Get(context.Background(), "http://status.example/lists/1")
	fmt.Println(errors.Is(err, statushttp.ErrInsecureURL))
	fmt.Println(err)
	// Output:
	// true
	// statushttp: insecure or malformed status list URL: "http://status.example/lists/1": http to a non-loopback host
}

package external_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/mandate-dev/mandate/intent"
	"github.com/mandate-dev/mandate/intent/external"
)

// A checker served on a unix socket, and a verifier's side asking it.
func Example() {
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "checker.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go external.ServeListener(ctx, lis, fixed{intent.Answer{Verdict: intent.Deny, Reason: "not why the power was given", Confidence: 0.9}})

	c, err := external.Dial("unix://"+sock, external.WithName("classifier"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	res := intent.Run(context.Background(), []intent.Checker{c}, intent.Request{Action: "slack:read"}, time.Second)
	fmt.Println(res.Verdict, res.Reason)
	// Output: deny classifier: not why the power was given
}

package gatekeeper_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// FuzzInterceptorMetadata: whatever mandate-* metadata a call carries, the
// handler never runs without a verified presentation, nothing panics, and
// the refusal has one of the gatekeeper's codes.
func FuzzInterceptorMetadata(f *testing.F) {
	v := newRPCVerifier(f)
	icpt := gatekeeper.UnaryServerInterceptor(gatekeeper.Local(v), rpcMapper)
	f.Add([]byte(`{"@context":["https://www.w3.org/2018/credentials/v1"],"type":["VerifiablePresentation"]}`), "ldp", "triage", "", false)
	f.Add([]byte("{"), "ldp", "", "eyJhbGciOiJFZERTQSJ9.e30.sig", false)
	f.Add([]byte("x"), "sd-jwt", "\xff", "", true)
	f.Add([]byte{}, "bbs", "", "", false)
	f.Add([]byte("[]"), "jwt", "", "", true)
	f.Fuzz(func(t *testing.T, vp []byte, format, intent, approval string, twice bool) {
		md := metadata.MD{}
		add := func(k, v string) {
			if v != "" {
				md.Append(k, v)
				if twice {
					md.Append(k, v)
				}
			}
		}
		add(gatekeeper.MetadataPresentation, string(vp))
		add(gatekeeper.MetadataFormat, format)
		add(gatekeeper.MetadataIntent, intent)
		add(gatekeeper.MetadataApproval, approval)
		ran := false
		_, err := icpt(metadata.NewIncomingContext(context.Background(), md), wrapperspb.String("inbox"),
			&grpc.UnaryServerInfo{FullMethod: rpcMethod("Read")},
			func(context.Context, any) (any, error) { ran = true; return nil, nil })
		if ran || err == nil {
			t.Fatalf("let through: ran %v, err %v", ran, err)
		}
		switch code := status.Code(err); code {
		case codes.Unauthenticated:
			if len(vp) != 0 && !twice {
				t.Fatalf("challenged a call that carries a presentation: %v", err)
			}
		case codes.Unavailable:
			if format != presentation.FormatSDJWT && format != presentation.FormatBBS {
				t.Fatalf("unavailable for format %q: %v", format, err)
			}
		case codes.PermissionDenied, codes.InvalidArgument, codes.ResourceExhausted:
			if d, ok := gatekeeper.ErrorDecision(err); !ok || d.Allowed() || len(d.Reasons) == 0 {
				t.Fatalf("refusal without a denial: %+v, %v", d, err)
			}
		default:
			t.Fatalf("code %v: %v", code, err)
		}
	})
}

package main

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/mandate-dev/mandate/presentation"
	"github.com/mandate-dev/mandate/presentation/gatekeeper"
)

// The protected service, example.mail.v1.Mailbox, is written by hand over
// wrapperspb.StringValue so that the example needs no .proto of its own:
//
//	Read(StringValue folder) returns (StringValue)        email:read on mailbox:alice/<folder>
//	Send(StringValue text)   returns (StringValue)        email:send on mailbox:alice/outbox
//	List(StringValue folder) returns (stream StringValue) email:list on mailbox:alice/inbox
const mailbox = "example.mail.v1.Mailbox"

func method(name string) string { return "/" + mailbox + "/" + name }

// mapper is the service's method → request table. A stream's request is
// mapped before any message, so List names its folder in the method.
var mapper = gatekeeper.MapMethods(map[string]gatekeeper.MethodMapper{
	method("Read"): func(_ context.Context, _ string, req any) (presentation.Request, error) {
		in, ok := req.(*wrapperspb.StringValue)
		if !ok {
			return presentation.Request{}, fmt.Errorf("read takes a StringValue, not %T", req)
		}
		return presentation.Request{Action: "email:read", Resource: "mailbox:alice/" + in.GetValue()}, nil
	},
	method("Send"): func(context.Context, string, any) (presentation.Request, error) {
		return presentation.Request{Action: "email:send", Resource: "mailbox:alice/outbox"}, nil
	},
	method("List"): func(context.Context, string, any) (presentation.Request, error) {
		return presentation.Request{Action: "email:list", Resource: "mailbox:alice/inbox"}, nil
	},
})

// mailboxDesc is the service; the handlers run only on ALLOW and say on
// whose authority they act (gatekeeper.DecisionFrom).
func mailboxDesc() *grpc.ServiceDesc {
	unary := func(name string, answer func(in string, d presentation.Decision) string) grpc.MethodDesc {
		return grpc.MethodDesc{MethodName: name, Handler: func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) {
				d, _ := gatekeeper.DecisionFrom(ctx)
				return wrapperspb.String(answer(req.(*wrapperspb.StringValue).GetValue(), d)), nil
			}
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{FullMethod: method(name)}, h)
		}}
	}
	return &grpc.ServiceDesc{
		ServiceName: mailbox,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unary("Read", func(folder string, d presentation.Decision) string {
				return fmt.Sprintf("2 messages in %s (grant %s)", folder, d.Grant)
			}),
			unary("Send", func(text string, d presentation.Decision) string { return "sent " + text }),
		},
		Streams: []grpc.StreamDesc{{StreamName: "List", ServerStreams: true, Handler: func(_ any, ss grpc.ServerStream) error {
			in := new(wrapperspb.StringValue)
			if err := ss.RecvMsg(in); err != nil {
				return err
			}
			for _, subject := range []string{"invoice 42", "lunch?"} {
				if err := ss.SendMsg(wrapperspb.String(subject)); err != nil {
					return err
				}
			}
			return nil
		}}},
	}
}

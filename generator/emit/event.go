package emit

import (
	"fmt"
	"maps"
	"slices"

	"github.com/dave/jennifer/jen"

	"github.com/b24gen/b24gen/generator/model"
)

// EventsPackage renders the events package: doc.go with the shared Auth
// type and the Receiver, and one file per docs section holding, for each
// event, its name constant, its typed registration on Receiver and its
// payload types. A model with no events renders nothing.
func EventsPackage(cfg Config, evs *model.Events) ([]Output, error) {
	if evs == nil || len(evs.Events) == 0 {
		return nil, nil
	}
	pkg := model.EventsPkg
	e := newEmitter(cfg, pkg)

	doc := e.newFile(pkg)
	doc.PackageComment(eventsPackageDoc + eventsWhereToStart)
	e.receiverDecls(doc)
	b, err := render(doc)
	if err != nil {
		return nil, fmt.Errorf("%s/doc.go: %w", pkg, err)
	}
	out := []Output{{Path: pkg + "/doc.go", Data: b}}
	curated, err := e.exampleFiles(pkg, eventsIndex(evs))
	if err != nil {
		return nil, err
	}
	out = append(out, curated...)

	// Files in name order, events in each in Go-name order (the model's).
	byFile := map[string][]*model.Event{}
	for _, ev := range evs.Events {
		byFile[ev.File] = append(byFile[ev.File], ev)
	}
	for _, name := range slices.Sorted(maps.Keys(byFile)) {
		f := e.newFile(pkg)
		for _, ev := range byFile[name] {
			e.eventDecls(f, ev)
		}
		b, err := render(f)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", pkg, name, err)
		}
		out = append(out, Output{Path: pkg + "/" + name, Data: b})
	}
	return out, nil
}

const eventsPackageDoc = `Package events receives Bitrix24 outgoing-webhook events as typed structs,
one per documented event.

Bitrix24 POSTs each event to the handler URL set for the outgoing webhook
(or bound with event.bind), form-encoded with PHP bracket keys. A Receiver
is an http.Handler: it checks the application token first, decodes the
delivery into the event's struct and calls the handler registered for it:

	r := events.NewReceiver(os.Getenv("B24_APP_TOKEN"))
	r.OnCrmDealUpdate(func(ctx context.Context, e *events.OnCrmDealUpdate) error {
		log.Printf("deal %d changed", e.Data.Fields.ID)
		return nil
	})
	r.Fallback(func(ctx context.Context, e *b24.Event) error {
		slog.Info("unhandled event", "event", e) // logs e.Redacted(): no token
		return nil
	})
	if err := r.Err(); err != nil {
		log.Fatal(err) // a token shorter than 4 characters
	}
	srv := b24.NewEventServer(":8080", r) // read, header, write and idle timeouts
	log.Fatal(srv.ListenAndServe())

The token is found and compared before the body is decoded, so a forged
delivery costs about its own size; a form delivery is then decoded straight
into the event's struct in one pass. Auth is always the block whose token
was checked: a body with two auth blocks or two tokens is refused (400).

Values arrive as strings ("759", "Y", "1736405807"); the payload types
decode them into the documented types, and keep the keys the docs do not
list in their Extra fields. Log an event's raw payload through
b24.Event.Redacted (or the Event itself), never Payload: it holds the tokens.`

// receiverDecls adds the shared declarations: Auth, Receiver, NewReceiver,
// Err, ServeHTTP, Fallback, Handle and the generic registration helper.
//
//	type Auth = b24.EventAuth
//	type Receiver struct{ core *b24.Receiver }
//	func NewReceiver(applicationToken string, opts ...b24.ReceiverOption) *Receiver
func (e *emitter) receiverDecls(f *jen.File) {
	ctx := jen.Qual("context", "Context")
	rawHandler := func() *jen.Statement {
		return jen.Func().Params(jen.Qual("context", "Context"), jen.Op("*").Qual(e.rt, "Event")).Error()
	}
	f.Add(comment([]string{
		model.AuthType + " is the \"auth\" block of a delivery: the portal (Domain, MemberID, ClientEndpoint), and the OAuth tokens when the event can be tied to a user. The tokens are credentials: Auth prints and logs them as \"[redacted]\".",
	})).Line().Type().Id(model.AuthType).Op("=").Qual(e.rt, "EventAuth")
	f.Line()

	f.Add(comment([]string{
		"Receiver is an http.Handler for Bitrix24 outgoing webhooks with one typed registration per documented event (Receiver.OnCrmDealUpdate and so on) and a Fallback for the rest.",
		"It wraps b24.Receiver, which answers 401 to a wrong or missing application token (found and checked in constant time before anything is decoded), 400 to a malformed body or one with two auth blocks or tokens, 408 to a body that does not arrive in time, 413 to an oversized one, 405 to anything but POST, and 500 when the handler fails, the payload does not decode into its type or the token is misconfigured (see Err); the failure is logged without the token. Made with b24.WithSpool, it answers 200 once the delivery is stored and 503 when the spool fails, and the handlers run in workers (WorkSpool). Registration and delivery are safe for concurrent use.",
	})).Line().Type().Id("Receiver").Struct(jen.Id("core").Op("*").Qual(e.rt, "Receiver"))
	f.Line()

	f.Add(comment([]string{
		"NewReceiver returns a Receiver that accepts deliveries carrying applicationToken (shown by the portal for the outgoing webhook, or sent to an application when it is installed). With an empty token every delivery is refused. A token shorter than 4 characters is a configuration error: Err reports it and every delivery is answered 500. The options are the runtime's: b24.WithReceiverLogger, b24.WithMaxBodyBytes, b24.WithHandlerTimeout, b24.WithBodyReadTimeout, and b24.WithSpool, which answers 200 only once the delivery (without its tokens) is stored and leaves the handlers to workers (WorkSpool). Serve it with b24.NewEventServer, which sets the timeouts a bare http.ListenAndServe lacks.",
	})).Line().Func().Id("NewReceiver").Params(
		jen.Id("applicationToken").String(), jen.Id("opts").Op("...").Qual(e.rt, "ReceiverOption"),
	).Op("*").Id("Receiver").Block(
		jen.Return(jen.Op("&").Id("Receiver").Values(jen.Dict{
			jen.Id("core"): jen.Qual(e.rt, "NewReceiver").Call(jen.Id("applicationToken"), jen.Id("opts").Op("...")),
		})),
	)
	f.Line()

	f.Add(comment([]string{
		"Err reports a configuration error of the Receiver (an application token shorter than 4 characters), nil when it is usable. Check it at start-up.",
	})).Line().Func().Params(jen.Id("r").Op("*").Id("Receiver")).Id("Err").Params().Error().
		Block(jen.Return(jen.Id("r").Dot("core").Dot("Err").Call()))
	f.Line()

	f.Comment("ServeHTTP implements http.Handler.").Line().
		Func().Params(jen.Id("r").Op("*").Id("Receiver")).Id("ServeHTTP").Params(
		jen.Id("w").Qual("net/http", "ResponseWriter"), jen.Id("req").Op("*").Qual("net/http", "Request"),
	).Block(jen.Id("r").Dot("core").Dot("ServeHTTP").Call(jen.Id("w"), jen.Id("req")))
	f.Line()

	f.Add(comment([]string{
		"Dispatch hands a delivery that a Receiver made with b24.WithSpool stored (id and body as the spool returned them) to the handler registered for its event, with id in the handler's context (b24.DeliveryID). An error wrapping b24.ErrUndecodable will never succeed; any other may on another try. See b24.Receiver.Dispatch.",
	})).Line().Func().Params(jen.Id("r").Op("*").Id("Receiver")).Id("Dispatch").Params(
		jen.Id("ctx").Add(ctx.Clone()), jen.Id("id").String(), jen.Id("body").Index().Byte(),
	).Error().Block(jen.Return(jen.Id("r").Dot("core").Dot("Dispatch").Call(jen.Id("ctx"), jen.Id("id"), jen.Id("body"))))
	f.Line()

	f.Add(comment([]string{
		"WorkSpool takes deliveries from s and dispatches each until ctx ends: acked when handled, handed out again by the spool after its lease when the handler failed or the worker died. Handlers whose effect must happen once dedupe by b24.DeliveryID. See b24.Receiver.WorkSpool.",
	})).Line().Func().Params(jen.Id("r").Op("*").Id("Receiver")).Id("WorkSpool").Params(
		jen.Id("ctx").Add(ctx.Clone()), jen.Id("s").Qual(e.rt, "Spool"),
	).Error().Block(jen.Return(jen.Id("r").Dot("core").Dot("WorkSpool").Call(jen.Id("ctx"), jen.Id("s"))))
	f.Line()

	f.Add(comment([]string{
		"Fallback registers h for every event without a handler of its own, including events the docs do not list; h gets the raw delivery (b24.Event: the whole payload as JSON, the auth block decoded), so nothing is lost. nil removes it.",
	})).Line().Func().Params(jen.Id("r").Op("*").Id("Receiver")).Id("Fallback").Params(jen.Id("h").Add(rawHandler())).
		Block(jen.Id("r").Dot("core").Dot("HandleFallback").Call(jen.Id("h")))
	f.Line()

	f.Add(comment([]string{
		"Handle registers h for the event name (matched case-insensitively) with the raw delivery: for an event the docs do not list yet. A typed registration for the same name replaces it, and the reverse.",
	})).Line().Func().Params(jen.Id("r").Op("*").Id("Receiver")).Id("Handle").Params(jen.Id("event").String(), jen.Id("h").Add(rawHandler())).
		Block(jen.Id("r").Dot("core").Dot("Handle").Call(jen.Id("event"), jen.Id("h")))
	f.Line()

	// func handle[T any](r *Receiver, name string, h func(context.Context, *T) error) {
	//	b24.HandleTyped(r.core, name, h)
	// }
	f.Add(comment([]string{
		"handle registers h for name: the runtime decodes each delivery into a new T (a form in one pass, the auth block being the verified one) and answers 500 to a payload that does not decode.",
	})).Line().Func().Id("handle").Types(jen.Id("T").Any()).Params(
		jen.Id("r").Op("*").Id("Receiver"), jen.Id("name").String(),
		jen.Id("h").Func().Params(ctx.Clone(), jen.Op("*").Id("T")).Error(),
	).Block(
		jen.Qual(e.rt, "HandleTyped").Call(jen.Id("r").Dot("core"), jen.Id("name"), jen.Id("h")),
	)
	f.Line()
}

// eventDecls adds one event: its name constant, its registration, its
// EventName method, the payload struct and the nested types.
//
//	// NameOnCrmDealUpdate is the name the portal sends for OnCrmDealUpdate.
//	const NameOnCrmDealUpdate = "ONCRMDEALUPDATE"
//
//	func (r *Receiver) OnCrmDealUpdate(h func(context.Context, *OnCrmDealUpdate) error) {
//		handle(r, NameOnCrmDealUpdate, h)
//	}
//
//	func (OnCrmDealUpdate) EventName() string { return NameOnCrmDealUpdate }
func (e *emitter) eventDecls(f *jen.File, ev *model.Event) {
	f.Comment(ev.Const + " is the event name the portal sends for " + ev.Name + ".").Line().
		Const().Id(ev.Const).Op("=").Lit(ev.Wire)
	f.Line()
	f.Add(comment([]string{
		ev.Name + " registers h for " + ev.Wire + "; a later registration replaces it and nil removes it.",
	})).Line().Func().Params(jen.Id("r").Op("*").Id("Receiver")).Id(ev.Name).Params(
		jen.Id("h").Func().Params(jen.Qual("context", "Context"), jen.Op("*").Id(ev.Name)).Error(),
	).Block(jen.Id("handle").Call(jen.Id("r"), jen.Id(ev.Const), jen.Id("h")))
	f.Line()
	f.Comment("EventName returns " + ev.Const + ".").Line().
		Func().Params(jen.Id(ev.Name)).Id("EventName").Params().String().Block(jen.Return(jen.Id(ev.Const)))
	f.Line()
	st := *ev.Struct
	st.Doc = ev.Doc
	e.structDecls(f, &st)
	for _, s := range ev.Structs {
		e.structDecls(f, s)
	}
	for _, en := range ev.Enums {
		f.Add(e.enumDecl(en))
		f.Line()
	}
}

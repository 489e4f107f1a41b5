// Package b24 is the runtime of the Go bindings b24gen generates for the
// Bitrix24 REST API: the client the generated functions call, the batch and
// list helpers, the value types that read Bitrix24's loosely typed JSON, and
// the receiver for outgoing webhooks (events). It uses the standard library
// only. The generator copies it into each output tree, so a program imports
// the copy that matches its generated packages.
//
// The runnable examples (ExampleNewApp, ExampleWithIdempotencyKey, …) are
// shown on pkgsite and run with `go test -run Example -v` in this package's
// directory.
//
// # Webhooks
//
// A client is made from the incoming-webhook URL the portal shows; the secret
// in it never appears in an error, a log line or String:
//
//	client, err := b24.NewWebhookClient("https://example.bitrix24.com/rest/1/secret/")
//	got, err := crm.ItemGet(ctx, client, crm.ItemGetParams{EntityTypeID: 2, ID: 410}) // 2: deals
//	if errors.Is(err, b24.ErrNotFound) { ... }
//
// crm.item.* serves every CRM object type by entityTypeId; the per-entity
// crm.deal.* methods are deprecated.
//
// Generated functions take a [Caller], so tests can put a fake portal
// (package b24test) or anything else behind them. Methods without a binding
// are called by name with [Client.CallMethod] or [Invoke]. Calls share a
// client-side leaky bucket sized like the portal's; reads are retried after
// ambiguous failures, writes never are. Errors from the portal are
// [*APIError] values, matched with errors.Is by code. An error answered with
// an empty code ({"error":"","error_description":"Not found"}, HTTP 400) is
// an *APIError too, with Code "", and matches the sentinel its description
// names ([DescriptionCode]): errors.Is(err, b24.ErrNotFound).
//
// # Applications
//
// An application (OAuth 2.0) is installed on many portals. [NewApp] takes
// its client id and secret; a [Receiver] in install mode ([WithApp]) takes
// ONAPPINSTALL, confirms the tokens with the authorization server and keeps
// them in a [TokenStore]; [App.Client] then calls that portal, renewing the
// access token when it expires:
//
//	app, err := b24.NewApp(clientID, clientSecret, b24.WithTokenStore(store))
//	r := events.NewReceiver("", b24.WithApp(app)) // the install handler and every event, for every portal
//	r.OnAppInstall(func(ctx context.Context, e *events.OnAppInstall) error {
//		portal, err := app.Client(ctx, e.Auth.MemberID)
//		if err != nil {
//			return err
//		}
//		_, err = user.Current(ctx, portal, user.CurrentParams{})
//		return err
//	})
//
// # REST 3.0
//
// The methods of /rest/api/ are the generated functions with the V3 suffix
// beside a REST 2 twin (tasks.TaskAddV3) and the Version 3 [Request]s. Their
// writes carry an Idempotency-Key, so a retry after a lost answer runs once
// ([WithIdempotencyKey], [WithReplayed]); their filters are typed
// ([FilterV3], [Field], [OrderedField]); they batch through [NewBatchV3]:
//
//	task, err := tasks.TaskAddV3(ctx, client, tasks.TaskAddV3Params{Fields: tasks.TaskV3Input{
//		Title: b24.Some("Prepare a report"), CreatorID: b24.Some(b24.Int(1)), ResponsibleID: b24.Some(b24.Int(1))}}, b24.WithIdempotencyKey("report-2026-12"))
//	for t, err := range tasks.TaskListV3All(ctx, client, tasks.TaskListV3Params{
//		Filter: b24.FilterV3{tasks.TaskV3ID.Gt(100), tasks.TaskV3Status.Eq("pending")}}) { ... }
//
// # Testing without a portal
//
// Package b24test, generated beside this one, is a fake portal: the bucket,
// batch, pagination, fault injection, recorded calls, the authorization
// server, and with b24test.WithState records for crm items, tasks, users and
// departments that add, update, delete, get and list act on:
//
//	portal := b24test.NewPortal(t, b24test.WithState(), b24test.WithDocumentedAnswers())
//	client, err := b24.NewWebhookClient(portal.WebhookURL())
//
// `b24gen fake` serves the same portal on 127.0.0.1:8024 for a program run
// by hand; its first line is the webhook URL.
//
// # Batch
//
// Up to 50 commands go in one HTTP call; larger sets are split. A command's
// result can feed a later command through [Handle.Ref]:
//
//	b := b24.NewBatch(b24.WithHalt(true))
//	deal := b24.Add(b, "deal", crm.ItemGetCommand(crm.ItemGetParams{EntityTypeID: 2, ID: 759}))
//	contact := b24.Add(b, "contact", crm.ItemGetCommand(crm.ItemGetParams{EntityTypeID: 3}),
//		b24.WithRef("id", deal.Ref("item.contactId")))
//	err := b.Run(ctx, client) // a *BatchError lists the commands that failed
//	d, err := deal.Result()   // typed; ErrNotRun when the command did not run
//
// A typed parameter (an Int, an int64, an Opt) cannot hold the "$result[…]"
// text, so [WithRef], passed to Add, puts the reference at its wire path:
//
//	b24.Add(b, "deal", crm.ItemAddCommand(p), b24.WithRef("fields.contactId", contact.Ref("item.id")))
//
// Batch commands travel as PHP query strings; [EncodeForm] writes them the
// way PHP's http_build_query does.
//
// # Lists
//
// [List] pages through start/next as an iterator; [Export] reads a whole
// table by ID (start=-1, a >ID filter, 50 pages chained per batch), about
// 2,500 rows per HTTP call:
//
//	for item, err := range b24.Export[crm.Item](ctx, client, req, b24.ListSpec{ItemsKey: "items", IDField: "id"}) {
//		if err != nil { ... }
//	}
//
// # Values
//
// Bitrix24 sends an ID as 410 or "410", a flag as "Y", an amount as
// "1000000.00" and an empty value as null, "", false, [] or {}. [Int],
// [Number], [Bool], [String], [Time] and [Date] accept all of these and
// encode back the form the portal accepts ("Y"/"N" for Bool, RFC 3339 for
// Time). [Opt] marks an optional request parameter whose presence matters, so
// 0, "" and "N" can be sent. Generated structs keep the keys the docs do not
// list (UF_* user fields and the like) in a [Fields] map through
// [DecodeObject] and [EncodeObject].
//
// A value that does not fit its documented type (1999.99 for an Int, an
// object for a string) never loses the call: the field is left zero, the raw
// value stays in the struct's Extra under its own key ([Mismatches] lists
// them), and it is logged at debug level through the client's logger. An
// object keyed by ID where a list was documented fills the list with its
// values. [WithStrictDecoding] (or [SetStrictDecoding] for a whole test
// binary) makes every such value a [*DecodeError] naming the method, the
// JSON path and the value.
//
// # What arrived, and sending a value back
//
// Every generated read type (an entity such as crm.Item, a result, a row,
// a nested object, an event payload) embeds a [Presence]: a bit set over the
// type's documented fields, two inline words of "sent" and two of "null"
// bits for the first 128 fields (a slice beyond), indexed by the position of
// the field in the type's json-tag plan that decoding computes once per type.
// Decoding sets the bits in the same pass and allocates nothing for them.
// item.Has("opportunity"), item.IsNull("companyId") and item.Keys() tell a
// field not sent (not selected) from one sent as 0, "" or null, without a
// pointer per field. Encoding writes the fields that arrived (null as null,
// each key spelled as it arrived), the fields set to non-zero values since,
// and Extra: a row read and written out carries the keys the portal sent and
// no others. A value built in Go, where nothing arrived, writes its non-zero
// fields.
//
// An entity with a write form has an Input method: item.Input() is the
// crm.ItemInput of the fields that arrived and are writable (read-only ones
// are never in an …Input), custom fields included ([FillInput]). The form
// embeds a [Baseline] of what it held then, and its encoder sends only the
// fields whose value changed since, so setting one field and sending the
// update sends that field alone; [Baseline.SendUnchanged] sends them all.
//
//	got, _ := crm.ItemGet(ctx, client, crm.ItemGetParams{EntityTypeID: 2, ID: 410})
//	in := got.Item.Input()
//	in.StageID = b24.Some("WON")
//	crm.ItemUpdate(ctx, client, crm.ItemUpdateParams{EntityTypeID: 2, ID: 410, Fields: in}) // fields: {"stageId": "WON"}
//
// # Events
//
// A [Receiver] is the http.Handler behind an outgoing webhook. Deliveries
// arrive form-encoded with PHP bracket keys (data[FIELDS][ID]=759), though the
// docs draw them as JSON; both are read. The application token is found and
// checked in constant time before the body is decoded, the body is bounded in
// size and time, and a handler's error or panic is logged (never with a
// token) and answered 500. Serve it through [NewEventServer], which sets the
// timeouts a bare http.ListenAndServe lacks, and log events through
// [Event.Redacted], never their Payload:
//
//	r := b24.NewReceiver(os.Getenv("B24_APP_TOKEN"))
//	r.Handle("ONCRMDEALUPDATE", func(ctx context.Context, e *b24.Event) error {
//		var p struct {
//			Data struct{ Fields struct{ ID b24.Int } `json:"FIELDS"` } `json:"data"`
//		}
//		return e.Decode(&p)
//	})
//	log.Fatal(b24.NewEventServer(":8080", r).ListenAndServe())
//
// With [WithSpool] the receiver answers 200 only once the delivery, stripped
// of its tokens, is stored in a [Spool] (503 when that fails), and workers in
// any process run the handlers from it ([Receiver.WorkSpool],
// [Receiver.Dispatch]), deduplicating their effect by [DeliveryID].
//
// The generated events package wraps it with one typed registration per
// documented event.
package b24

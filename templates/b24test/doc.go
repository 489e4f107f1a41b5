// Package b24test is a fake Bitrix24 portal for tests of code that calls the
// REST API through package b24 (and the generated bindings on top of it).
//
// A [Portal] runs on a loopback httptest server and serves the incoming
// webhook [Portal.WebhookURL] (its secret is the constant [Secret]):
//
//	p := b24test.NewPortal(t)
//	p.Answer("user.current", map[string]any{"ID": "1"})
//	p.Handle("crm.deal.add", func(params map[string]any) (any, error) {
//		return 42, nil
//	})
//	client, _ := b24.NewWebhookClient(p.WebhookURL())
//
// It behaves like a portal where tests need it to:
//
//   - answers in the real envelope (result, total, next, time) and errors in
//     the REST 2 or REST 3.0 shape (/rest/api/…), from [HandlerFunc]s, fixed
//     answers ([Portal.Answer], [Portal.AnswerRaw] for a docs example), or a
//     [Portal.Fallback];
//   - serves "batch" by running its commands against the same handlers, with
//     $result[key][…] references, halt, the 50-command limit and the
//     result/result_error/result_total/result_next/result_time layout;
//   - keeps records when asked ([WithState]): crm.item.* and crm.deal.* and
//     its siblings, tasks.task.*, user.*, department.*, seeded from the
//     docs' examples, with filters, select and paging applied and a missing
//     ID answered with the documented not-found error; [WithEventDeliveries]
//     posts an event for every change (b24gen fake serves this portal);
//   - serves list methods from rows ([Portal.ServeList]): start/next/total,
//     start=-1, >ID filters and ID order, rows under "items" or at the top;
//   - enforces a leaky bucket when asked ([WithRateLimit]) and answers 503
//     QUERY_LIMIT_EXCEEDED like the portal;
//   - injects faults per method ([Portal.Fail]): 503 storms, 429 with
//     operating_reset_at, API errors, connection resets, cut and truncated
//     bodies, a proxy's HTML page, slow answers;
//   - checks each request, batch commands included, against the method's
//     documented parameters when the b24test of a generated tree holds them:
//     a missing required parameter or an array where the portal wants an
//     object is answered with the portal's error (400, code 100 "Could not
//     find value for parameter", or the code the page documents), so a wrong
//     request fails the test; [WithStrictRequestChecks] also refuses names
//     the docs do not know, [WithoutRequestChecks] turns the checks off;
//   - makes clients of itself ([Portal.Client]), decoding strictly with
//     [WithStrictDecoding] so a result its types do not hold fails the test;
//   - records every call with its decoded params ([Portal.Calls]), and
//     counts the calls that really ran ([Portal.Ran]) so a test can prove a
//     write never ran twice;
//   - delivers outgoing-webhook events form-encoded, as Bitrix24 does
//     ([Portal.Deliver]);
//   - plays the OAuth 2.0 authorization server for an application
//     ([Portal.RegisterApp], [AuthServer]): issues and rotates token pairs at
//     /oauth/token/, signs application calls to /rest/<method> with the
//     "auth" parameter, expires tokens on demand, answers expired_token,
//     invalid_token and invalid_grant as the docs show, and builds the
//     ONAPPINSTALL and ONAPPUNINSTALL deliveries.
package b24test

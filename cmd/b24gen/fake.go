package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/b24gen/b24gen/generator/model"
	"github.com/b24gen/b24gen/spec"
	"github.com/b24gen/b24gen/templates/b24test"
)

// defaultFakeAddr is where b24gen fake serves without -addr: a fixed port,
// so the webhook URL a program is given stays the same from run to run.
const defaultFakeAddr = "127.0.0.1:8024"

// The application registered on the fake portal. They are fixed, like the
// webhook secret, so a program's configuration outlives a restart; they
// guard nothing, the portal serves loopback only.
const (
	fakeClientID     = "local.b24testfake0001.00000001"
	fakeClientSecret = "b24testAppS3cr3tFakePortal0000000000000000000001"
)

// runFake serves the fake portal until ctx ends (SIGINT or SIGTERM in
// main). The first line on stdout is the webhook URL, so a script can read
// it: B24_WEBHOOK=$(b24gen fake | head -1) does not work, the process keeps
// running, but `read -r B24_WEBHOOK < <(b24gen fake &)` does.
func runFake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fake", stderr)
	addr := fs.String("addr", defaultFakeAddr, "loopback HOST:PORT to serve on (127.0.0.1:0 picks a free port)")
	documented := fs.Bool("documented", false, "keep no records: answer every method with its documented example only")
	events := fs.String("events", "", "URL to deliver an event to for every change the state makes (ONCRMDEALADD, ONTASKUPDATE, …), form-encoded as Bitrix24 sends them")
	install := fs.String("install", "", "URL of the application's install handler: ONAPPINSTALL is delivered to it once it answers (retried each second for a minute)")
	limits := fs.Bool("limits", false, "enforce the cloud portal's leaky bucket (50 requests burst, 2 a second): the 51st fast request gets 503 QUERY_LIMIT_EXCEEDED")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := loopbackOnly(*addr); err != nil {
		return err
	}
	if *documented && *events != "" {
		return usageError{"-events needs the records that -documented turns off"}
	}

	s, err := spec.Embedded()
	if err != nil {
		return err
	}
	b24test.LoadDocs(answerMap(s), paramMap(s))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w (another b24gen fake running? -addr 127.0.0.1:0 picks a free port)", *addr, err)
	}
	opts := []b24test.PortalOption{b24test.WithListener(ln), b24test.WithDocumentedAnswers()}
	if !*documented {
		opts = append(opts, b24test.WithState())
	}
	if *limits {
		opts = append(opts, b24test.WithStandardLimits())
	}
	if *events != "" {
		opts = append(opts, b24test.WithEventDeliveries(*events, "")) // the application's token, below
	}
	p := b24test.Start(opts...)
	oauth := p.RegisterApp(fakeClientID, fakeClientSecret)
	defer p.Close()

	fmt.Fprintln(stdout, p.WebhookURL())
	fmt.Fprintf(stdout, "application: client id %s, client secret %s, authorization server %s (b24.WithAuthServer)\n",
		fakeClientID, fakeClientSecret, oauth.URL())
	fmt.Fprintf(stdout, "application token of event deliveries: %s\n", oauth.ApplicationToken())
	if *documented {
		fmt.Fprintln(stdout, "answers: every method with its documented example; no records are kept")
	} else {
		fmt.Fprintln(stdout, "answers: crm.item.*, crm.deal/lead/contact/company.*, tasks.task.*, user.*, department.* from records kept in memory (seeded from the docs' examples); every other method with its documented example")
	}
	if *events != "" {
		fmt.Fprintf(stdout, "events: every change is delivered to %s\n", *events)
	}
	fmt.Fprintln(stdout, "stop with Ctrl-C")

	if *install != "" {
		go deliverInstall(ctx, p, oauth, *install, stdout)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "b24gen fake: stopped")
	return nil
}

// loopbackOnly refuses an address a machine other than this one could
// reach: the fake's webhook secret is a published constant.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError{fmt.Sprintf("-addr %q: want HOST:PORT, such as 127.0.0.1:8024 (%v)", addr, err)}
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usageError{fmt.Sprintf("-addr %q: the fake portal serves on loopback only (127.0.0.1, [::1] or localhost): its webhook secret and application keys are public", addr)}
}

// deliverInstall posts ONAPPINSTALL to the application's install handler
// as soon as it answers 2xx, trying once a second for a minute.
func deliverInstall(ctx context.Context, p *b24test.Portal, oauth *b24test.AuthServer, url string, stdout io.Writer) {
	payload := oauth.InstallEvent()
	var last string
	for range 60 {
		status, err := p.DeliverURL(ctx, url, payload)
		if err == nil && status >= 200 && status < 300 {
			fmt.Fprintf(stdout, "ONAPPINSTALL delivered to %s: %d (member_id %s)\n", url, status, oauth.MemberID())
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("answered %d", status)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	fmt.Fprintf(stdout, "ONAPPINSTALL not delivered to %s after a minute: %s\n", url, strings.TrimSpace(last))
}

// answerMap and paramMap are the documented answers and parameter schemas
// the generator writes into a tree's b24test, built from the embedded
// spec, so the fake needs no generated tree.
func answerMap(s *spec.Spec) map[string]string {
	out := map[string]string{}
	for _, a := range model.Answers(s, nil) {
		out[a.Key] = string(a.JSON)
	}
	return out
}

func paramMap(s *spec.Spec) map[string]string {
	out := map[string]string{}
	for _, ps := range model.ParamSchemas(s, nil) {
		out[ps.Key] = ps.Code
	}
	return out
}

package b24_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
)

// A receiver with a spool answers 200 once the delivery is stored, without
// its tokens; a worker (here a goroutine, usually other processes with an
// adapter's spool: b24nats, b24pg) runs the handler later, with the
// delivery's id for deduplication.
func ExampleWithSpool() {
	const appToken = "51856fefc120afa4b628cc82d3935cce"
	spool := b24.NewMemorySpool(30 * time.Second) // in a fleet: b24nats.NewSpool or b24pg.NewSpool

	r := b24.NewReceiver(appToken, b24.WithSpool(spool), b24.WithReceiverLogger(slog.New(slog.DiscardHandler)))
	done := make(chan struct{})
	r.Handle("ONCRMDEALUPDATE", func(ctx context.Context, e *b24.Event) error {
		defer close(done)
		fmt.Println("handled", e.Name, "on", e.Auth.Domain, "token handed over:", e.Auth.AccessToken != "")
		fmt.Println("delivery id:", len(b24.DeliveryID(ctx)), "hex digits") // record it with the effect
		return nil
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	body := "event=ONCRMDEALUPDATE&data%5BFIELDS%5D%5BID%5D=759&auth%5Bdomain%5D=some-domain.bitrix24.com" +
		"&auth%5Baccess_token%5D=s6p6eclrvim6da22ft9ch94ekreb52lv&auth%5Bapplication_token%5D=" + appToken
	resp, err := http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, "stored:", spool.Len())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.WorkSpool(ctx, spool)
	<-done
	// Output:
	// 200 stored: 1
	// handled ONCRMDEALUPDATE on some-domain.bitrix24.com token handed over: false
	// delivery id: 64 hex digits
}

package b24

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// 200 clients that send their headers, then trickle the body: once the
// body read timeout has passed, the server holds none of their
// connections (net/http must not be left draining the rest of the body
// without a deadline).
func TestEventServerDropsSlowBodiesAfterTimeout(t *testing.T) {
	const clients = 200
	const readTimeout = 200 * time.Millisecond
	srv := NewEventServer("", quietReceiver(testAppToken, WithBodyReadTimeout(readTimeout)))
	var open atomic.Int64
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	addr := startServer(t, srv)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for range clients {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: 100000\r\n\r\n", formType)
			go func() { // answers are read so that the server's writes never block
				buf := make([]byte, 512)
				for {
					if _, err := conn.Read(buf); err != nil {
						return
					}
				}
			}()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte("a")); err != nil {
						return // the server cut the connection
					}
				}
			}
		}()
	}
	start := time.Now()
	deadline := start.Add(readTimeout + 3*time.Second)
	for open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	held := open.Load()
	t.Logf("%d of %d slow-body connections held %s after they started (body read timeout %s)", held, clients, time.Since(start).Round(time.Millisecond), readTimeout)
	if held > 0 {
		t.Fatalf("%d of %d slow-body connections still held after the read timeout", held, clients)
	}
}

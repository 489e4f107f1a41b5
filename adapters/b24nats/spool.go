// Package b24nats keeps the receiver's event spool in a NATS JetStream
// stream. Spool satisfies the b24 runtime's Spool interface structurally:
// the package imports no b24, so it fits every generated tree's copy.
package b24nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SpoolOptions configures a Spool; zero fields take the defaults.
type SpoolOptions struct {
	// Stream is the stream's name ("B24_SPOOL"); its subject is the same
	// name in lower case.
	Stream string
	// Lease is the consumer's AckWait: a delivery not acked within it is
	// handed out again (30s). Make it longer than the slowest handler.
	Lease time.Duration
	// DedupWindow is the stream's duplicate window: a second Put of an id
	// within it stores nothing (1h).
	DedupWindow time.Duration
}

// Spool is a work-queue stream with message-id deduplication (Nats-Msg-Id)
// and one durable pull consumer shared by every worker. Put returns once the
// server acknowledged the publish (stored; with one server that is its file
// store, with R3 a quorum).
type Spool struct {
	js      jetstream.JetStream
	subject string
	cons    jetstream.Consumer

	mu       sync.Mutex
	inFlight map[string]jetstream.Msg
}

// NewSpool creates or updates the stream and its consumer.
func NewSpool(ctx context.Context, js jetstream.JetStream, opt SpoolOptions) (*Spool, error) {
	if js == nil {
		return nil, errors.New("b24nats: nil JetStream")
	}
	if opt.Stream == "" {
		opt.Stream = "B24_SPOOL"
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.DedupWindow <= 0 {
		opt.DedupWindow = time.Hour
	}
	subject := "b24spool." + opt.Stream
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       opt.Stream,
		Subjects:   []string{subject},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Duplicates: opt.DedupWindow,
	})
	if err != nil {
		return nil, fmt.Errorf("b24nats: create spool stream: %w", err)
	}
	cons, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:    "workers",
		AckPolicy:  jetstream.AckExplicitPolicy,
		AckWait:    opt.Lease,
		MaxDeliver: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("b24nats: create spool consumer: %w", err)
	}
	return &Spool{js: js, subject: subject, cons: cons, inFlight: map[string]jetstream.Msg{}}, nil
}

// Put publishes one delivery with id as its Nats-Msg-Id and returns once
// the stream stored it; a duplicate within the window stores nothing.
func (s *Spool) Put(ctx context.Context, id string, body []byte) error {
	if id == "" {
		return errors.New("b24nats: spool put: empty id")
	}
	if _, err := s.js.Publish(ctx, s.subject, body, jetstream.WithMsgID(id)); err != nil {
		return fmt.Errorf("b24nats: spool put: %w", err)
	}
	return nil
}

// Next blocks until a delivery is due and returns it leased for AckWait.
func (s *Spool) Next(ctx context.Context) (string, []byte, error) {
	for {
		if err := ctx.Err(); err != nil {
			return "", nil, err
		}
		wait := 5 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(dl))
		}
		if wait < 10*time.Millisecond {
			<-ctx.Done()
			return "", nil, ctx.Err()
		}
		// The pull ends with ctx (a worker told to stop stops now, not
		// after the wait); a message the server sent just then stays
		// leased and is handed out again after AckWait.
		fctx, cancel := context.WithTimeout(ctx, wait)
		batch, err := s.cons.Fetch(1, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return "", nil, ctx.Err()
			}
			return "", nil, fmt.Errorf("b24nats: spool next: %w", err)
		}
		for msg := range batch.Messages() {
			id := msg.Headers().Get(jetstream.MsgIDHeader)
			if id == "" {
				msg.Term() // not a spooled delivery: never hand it to a handler
				continue
			}
			s.mu.Lock()
			s.inFlight[id] = msg
			s.mu.Unlock()
			cancel()
			return id, msg.Data(), nil
		}
		cancel()
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return "", nil, fmt.Errorf("b24nats: spool next: %w", err)
		}
	}
}

// Ack marks id handled, waiting for the server to confirm. Only the Spool
// whose Next handed id out can ack it.
func (s *Spool) Ack(ctx context.Context, id string) error {
	s.mu.Lock()
	msg, ok := s.inFlight[id]
	delete(s.inFlight, id)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("b24nats: spool ack: delivery %q was not handed out by this spool", id)
	}
	if err := msg.DoubleAck(ctx); err != nil {
		return fmt.Errorf("b24nats: spool ack: %w", err)
	}
	return nil
}

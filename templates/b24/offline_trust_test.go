package b24_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// reservingQueue plays event.offline.get with clear=0 as the docs say: a
// fetch reserves its records under a new process_id and hides them from
// every other fetch. With process_id, reselectOnly re-selects that
// reservation's records only; otherwise the fetch also reserves new
// records under the same process_id (the two readings of the docs).
type reservingQueue struct {
	mu           sync.Mutex
	reselectOnly bool
	owner        map[int]string // record -> process_id ("" unreserved)
	order        []int
	next         int
}

func serveReserving(p *b24test.Portal, n int, reselectOnly bool) *reservingQueue {
	q := &reservingQueue{reselectOnly: reselectOnly, owner: map[int]string{}}
	for i := 1; i <= n; i++ {
		q.owner[i] = ""
		q.order = append(q.order, i)
	}
	p.Handle("event.offline.get", func(params map[string]any) (any, error) {
		q.mu.Lock()
		defer q.mu.Unlock()
		limit := 50
		if l, ok := b24test.Int(params, "limit"); ok {
			limit = int(l)
		}
		pid, _ := params["process_id"].(string)
		mark := pid
		if mark == "" {
			q.next++
			mark = fmt.Sprintf("p%d", q.next)
		}
		var out []any
		for _, id := range q.order {
			own, ok := q.owner[id]
			if !ok || len(out) >= limit {
				continue
			}
			if (pid != "" && own == pid) || (own == "" && (pid == "" || !q.reselectOnly)) {
				q.owner[id] = mark
				out = append(out, map[string]any{"ID": fmt.Sprint(id), "EVENT_NAME": "ONCRMLEADADD", "MESSAGE_ID": fmt.Sprint(id)})
			}
		}
		if len(out) == 0 {
			return map[string]any{"process_id": nil, "events": []any{}}, nil
		}
		return map[string]any{"process_id": mark, "events": out}, nil
	})
	p.Handle("event.offline.clear", func(params map[string]any) (any, error) {
		q.mu.Lock()
		defer q.mu.Unlock()
		pid, _ := params["process_id"].(string)
		ids, _ := params["id"].([]any)
		for _, x := range ids {
			var id int
			fmt.Sscan(fmt.Sprint(x), &id)
			if q.owner[id] == pid {
				delete(q.owner, id)
			}
		}
		return true, nil
	})
	return q
}

func (q *reservingQueue) left() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.owner)
}

// The README loop, run again and again with a handler that fails every
// 7th call: every record is handled and the queue ends empty, under both
// readings of process_id.
func TestOfflineREADMELoopStrandsNothing(t *testing.T) {
	for _, reselectOnly := range []bool{true, false} {
		t.Run(fmt.Sprintf("reselectOnly=%v", reselectOnly), func(t *testing.T) {
			f := newAppFixture(t)
			c := f.client(t)
			q := serveReserving(f.portal, 500, reselectOnly)
			handled := map[int64]bool{}
			calls := 0
			boom := errors.New("handler failed")
			handle := func(ev b24.OfflineEvent) error {
				calls++
				if calls%7 == 0 {
					return boom
				}
				handled[int64(ev.ID)] = true
				return nil
			}
			run := func() error {
				for ev, err := range b24.OfflineEvents(context.Background(), c, b24.OfflineOptions{Limit: 20}) {
					if err != nil {
						return err
					}
					if err := handle(ev); err != nil {
						return err
					}
				}
				return nil
			}
			runs := 0
			for ; runs < 400; runs++ {
				if err := run(); err == nil {
					break
				} else if !errors.Is(err, boom) {
					t.Fatal(err)
				}
			}
			t.Logf("%d runs, %d of 500 handled, %d left in the queue", runs+1, len(handled), q.left())
			if len(handled) != 500 || q.left() != 0 {
				t.Fatalf("%d of 500 handled, %d left (reserved and never seen again)", len(handled), q.left())
			}
		})
	}
}

// HandleOffline, run again and again with a handler that fails every 7th
// call: each record is handled or marked erroneous, none stays reserved.
func TestHandleOfflineStrandsNothing(t *testing.T) {
	for _, reselectOnly := range []bool{true, false} {
		t.Run(fmt.Sprintf("reselectOnly=%v", reselectOnly), func(t *testing.T) {
			f := newAppFixture(t)
			c := f.client(t)
			q := serveReserving(f.portal, 300, reselectOnly)
			marked := map[string]bool{}
			f.portal.Handle("event.offline.error", func(params map[string]any) (any, error) {
				q.mu.Lock()
				defer q.mu.Unlock()
				ids, _ := params["message_id"].([]any)
				for _, x := range ids {
					var id int
					fmt.Sscan(fmt.Sprint(x), &id)
					marked[fmt.Sprint(id)] = true
					delete(q.owner, id) // moved to the erroneous records
				}
				return true, nil
			})
			handled, calls := 0, 0
			runs := 0
			for ; runs < 400; runs++ {
				err := b24.HandleOffline(context.Background(), c, b24.OfflineOptions{Limit: 20}, func(context.Context, b24.OfflineEvent) error {
					calls++
					if calls%7 == 0 {
						return errors.New("handler failed")
					}
					handled++
					return nil
				})
				if err == nil {
					break
				}
				var oe *b24.OfflineError
				if !errors.As(err, &oe) {
					t.Fatal(err)
				}
			}
			t.Logf("%d runs: %d handled, %d marked erroneous, %d left", runs+1, handled, len(marked), q.left())
			if handled+len(marked) != 300 || q.left() != 0 {
				t.Fatalf("%d handled + %d erroneous of 300, %d left reserved", handled, len(marked), q.left())
			}
		})
	}
}

package b24

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"sync"
)

// OfflineEvent is one record of the portal's offline event queue
// (event.offline.get): an event bound with event_type "offline" that waits
// for the application to fetch it.
type OfflineEvent struct {
	ID         Int             `json:"ID"`
	Timestamp  Time            `json:"TIMESTAMP_X"`
	Name       String          `json:"EVENT_NAME"` // "ONCRMLEADADD"
	Data       json.RawMessage `json:"EVENT_DATA"`
	Additional json.RawMessage `json:"EVENT_ADDITIONAL"`
	MessageID  String          `json:"MESSAGE_ID"`
	// ProcessID is the reservation the record was fetched under; pass it as
	// OfflineOptions.ProcessID to fetch again what a run did not clear.
	ProcessID string `json:"-"`
}

// OfflineOptions selects the offline events to read.
type OfflineOptions struct {
	Filter        map[string]any // event.offline.get filter: "=EVENT_NAME", ">ID", …
	Limit         int            // records per fetch; 0: the portal's default (50)
	AuthConnector string         // the auth_connector given to event.bind, if any
	ProcessID     string         // re-select records reserved by an earlier run and not cleared
	Errors        bool           // read the records marked erroneous (event.offline.error) instead
}

type offlinePage struct {
	ProcessID String         `json:"process_id"`
	Events    []OfflineEvent `json:"events"`
}

// OfflineEvents reads the portal's offline event queue: records are fetched
// reserved (event.offline.get with clear=0), handed to the loop body one at
// a time, and cleared (event.offline.clear by ID) only once the body has
// finished with them, that is when it asks for the next one. Breaking out
// of the loop leaves the current record and the rest of its fetch
// uncleared and reserved under its process_id; the next OfflineEvents on
// the same Caller (in this process) re-selects that reservation first,
// until it is empty, so a break never strands a record. A process that
// dies in the middle leaves its reservation to ev.ProcessID (persist it and
// pass it as OfflineOptions.ProcessID) or to the portal's 30-day expiry.
// Records the body finished before a break are cleared first. A failed
// fetch or clear is yielded as the error and ends the loop.
//
//	for ev, err := range b24.OfflineEvents(ctx, client, b24.OfflineOptions{}) {
//		if err != nil { return err }
//		if err := handle(ev); err != nil { return err } // ev stays in the queue
//	}
func OfflineEvents(ctx context.Context, c Caller, o OfflineOptions) iter.Seq2[OfflineEvent, error] {
	return func(yield func(OfflineEvent, error) bool) {
		key, keep := offlineKeyOf(c, o.Errors)
		// Reservations an earlier run left (a break, a failed clear) are
		// read first: the portal hides them from every fetch without their
		// process_id, so nothing else would ever see them again.
		var queue []string
		if o.ProcessID != "" {
			queue = []string{o.ProcessID}
		} else if keep {
			queue = takeStranded(key)
		}
		for {
			processID := ""
			if len(queue) > 0 {
				processID, queue = queue[0], queue[1:]
			}
			strand := func(pid string) {
				if keep && pid != "" {
					putStranded(key, append([]string{pid}, queue...)...)
				}
			}
			params := map[string]any{"clear": 0}
			if o.Filter != nil {
				params["filter"] = o.Filter
			}
			if o.Limit > 0 {
				params["limit"] = o.Limit
			}
			if o.AuthConnector != "" {
				params["auth_connector"] = o.AuthConnector
			}
			if processID != "" {
				params["process_id"] = processID
			}
			if o.Errors {
				params["error"] = 1
			}
			var page offlinePage
			if err := Invoke(ctx, c, Request{Method: "event.offline.get", Params: params}, &page); err != nil {
				strand(processID)
				yield(OfflineEvent{}, err)
				return
			}
			if len(page.Events) == 0 {
				if len(queue) > 0 {
					continue
				}
				if processID != "" && o.ProcessID == "" {
					continue // a drained reservation: on to new records
				}
				return
			}
			if string(page.ProcessID) != "" {
				processID = string(page.ProcessID)
			}
			var done []Int
			for _, ev := range page.Events {
				ev.ProcessID = processID
				if !yield(ev, nil) {
					// The loop is over and the caller hears nothing more: the
					// finished records are cleared, the rest stay reserved
					// under processID, which the next run reads first.
					_ = clearOffline(ctx, c, processID, done)
					strand(processID)
					return
				}
				done = append(done, ev.ID)
			}
			if err := clearOffline(ctx, c, processID, done); err != nil {
				strand(processID)
				yield(OfflineEvent{}, err)
				return
			}
			// Read the same reservation again until it is empty: under
			// either reading of process_id (re-select only, or re-select
			// and reserve more) that leaves nothing behind.
			queue = append([]string{processID}, queue...)
		}
	}
}

// stranded holds, per caller and queue (normal or erroneous), the
// process_ids of reservations a run left with records in them.
var stranded sync.Map // offlineKey → *strandedSet

type offlineKey struct {
	c      Caller
	errors bool
}

type strandedSet struct {
	mu  sync.Mutex
	ids []string
}

// offlineKeyOf keys the registry by the caller; a caller that is not
// comparable gets none (its reservations are named by ev.ProcessID only).
func offlineKeyOf(c Caller, errs bool) (offlineKey, bool) {
	if c == nil || !reflect.TypeOf(c).Comparable() {
		return offlineKey{}, false
	}
	return offlineKey{c, errs}, true
}

func takeStranded(k offlineKey) []string {
	v, ok := stranded.Load(k)
	if !ok {
		return nil
	}
	s := v.(*strandedSet)
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.ids
	s.ids = nil
	return ids
}

func putStranded(k offlineKey, ids ...string) {
	v, _ := stranded.LoadOrStore(k, &strandedSet{})
	s := v.(*strandedSet)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if !slices.Contains(s.ids, id) {
			s.ids = append(s.ids, id)
		}
	}
}

// clearOffline clears the records with the given IDs of a reservation.
func clearOffline(ctx context.Context, c Caller, processID string, ids []Int) error {
	if len(ids) == 0 {
		return nil
	}
	if processID == "" {
		return fmt.Errorf("b24: event.offline.get answered records without a process_id: %d record(s) handled but not cleared", len(ids))
	}
	return Invoke(ctx, c, Request{Method: "event.offline.clear", Params: map[string]any{"process_id": processID, "id": ids}}, nil)
}

// OfflineError is a handler's failure in HandleOffline: Event was marked
// erroneous (event.offline.error) and stays in the queue, to be read with
// OfflineOptions.Errors; the records after it in its fetch stay reserved
// under its ProcessID.
type OfflineError struct {
	Event   OfflineEvent
	Err     error // the handler's error
	MarkErr error // marking the record erroneous failed (it stays reserved, uncleared)
}

func (e *OfflineError) Error() string {
	msg := fmt.Sprintf("b24: offline event %d (%s): %v", e.Event.ID, e.Event.Name, e.Err)
	if e.MarkErr != nil {
		msg += fmt.Sprintf("; marking it erroneous failed too: %v", e.MarkErr)
	}
	return msg
}

func (e *OfflineError) Unwrap() []error { return []error{e.Err, e.MarkErr} }

// HandleOffline hands the offline events to h one at a time, clearing each
// only after h returned nil. When h fails, the record is marked erroneous
// with event.offline.error, so it is kept, and HandleOffline returns an
// *OfflineError; the records h finished are cleared.
func HandleOffline(ctx context.Context, c Caller, o OfflineOptions, h func(context.Context, OfflineEvent) error) error {
	for ev, err := range OfflineEvents(ctx, c, o) {
		if err != nil {
			return err
		}
		if herr := h(ctx, ev); herr != nil {
			oe := &OfflineError{Event: ev, Err: herr}
			if ev.ProcessID != "" && ev.MessageID != "" {
				oe.MarkErr = Invoke(ctx, c, Request{Method: "event.offline.error",
					Params: map[string]any{"process_id": ev.ProcessID, "message_id": []String{ev.MessageID}}}, nil)
			}
			return oe
		}
	}
	return nil
}

package b24_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/b24gen/b24gen/templates/b24"
	"github.com/b24gen/b24gen/templates/b24test"
)

// The portal stores only a successful REST 3.0 call's answer: a write that
// ran and then failed with 500 INTERNAL_SERVER_ERROR runs again if repeated
// under the same key, so the client must not repeat it.
func TestV3WriteNotRetriedAfterInternalError(t *testing.T) {
	p := b24test.NewPortal(t)
	var mu sync.Mutex
	runs := map[string]int{}
	p.Handle("tasks.task.add", func(params map[string]any) (any, error) {
		title := b24test.Str(b24test.Map(params, "fields"), "title")
		mu.Lock()
		defer mu.Unlock()
		runs[title]++
		var i int
		fmt.Sscan(strings.TrimPrefix(title, "task "), &i)
		if i%10 < 3 && runs[title] == 1 {
			// Ran, then failed: nothing is stored under the key.
			return nil, b24test.Errorf(500, "INTERNAL_SERVER_ERROR", "Internal server error")
		}
		return map[string]any{"item": map[string]any{"id": i, "title": title}}, nil
	})
	c, _ := newClient(t, p)
	failed := 0
	for i := range 200 {
		_, err := addTask(context.Background(), c, fmt.Sprintf("task %d", i))
		if err != nil {
			if !errors.Is(err, b24.ErrInternal) {
				t.Fatalf("task %d: %v", i, err)
			}
			failed++
		}
	}
	twice := 0
	for _, n := range runs {
		if n > 1 {
			twice++
		}
	}
	t.Logf("200 REST 3.0 writes, 60 answered 500 after running: %d ran twice, %d returned the error", twice, failed)
	if twice != 0 {
		t.Errorf("%d of 200 writes ran twice after a 500", twice)
	}
	if failed != 60 {
		t.Errorf("%d writes returned the 500, want 60", failed)
	}
}

// appTaskFixture is an application portal serving tasks.task.add, with an
// attempt hook the test sets.
func appTaskFixture(t *testing.T) (*appFixture, func() int, *func(b24.Attempt)) {
	hook := new(func(b24.Attempt))
	f := newAppFixture(t, b24.WithClientOptions(b24.WithAttemptHook(func(at b24.Attempt) {
		if *hook != nil {
			(*hook)(at)
		}
	})))
	var mu sync.Mutex
	made := 0
	f.portal.Handle("tasks.task.add", func(params map[string]any) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		made++
		return map[string]any{"item": map[string]any{"id": 100 + made}}, nil
	})
	return f, func() int { mu.Lock(); defer mu.Unlock(); return made }, hook
}

// An application signs in the body. The token is renewed between a write's
// cut-off attempt and its retry: the retry still sends the first attempt's
// body, so the portal answers it from its store and the write runs once.
func TestAppV3RetryAfterRenewalRunsOnce(t *testing.T) {
	f, made, hook := appTaskFixture(t)
	c := f.client(t)
	ctx := context.Background()
	once := false
	*hook = func(at b24.Attempt) {
		if at.Method != "tasks.task.add" || at.Err == nil || once {
			return
		}
		once = true
		// Another caller of the portal renews the token meanwhile (ahead
		// of its expiry; the old access token stays valid).
		near := f.tok
		near.Expires = time.Now().Add(10 * time.Second)
		if err := f.app.Install(ctx, near); err != nil {
			t.Error(err)
		}
		if err := c.CallMethod(ctx, "user.current", nil, nil); err != nil {
			t.Error(err)
		}
	}
	f.portal.Fail("tasks.task.add", b24test.ConnectionReset())
	var replayed bool
	res, err := addTask(ctx, c, "Prepare a report", b24.WithReplayed(&replayed))
	if err != nil {
		t.Fatalf("the retry after a renewal failed: %v", err)
	}
	if f.auth.Renewals() != 1 {
		t.Fatalf("renewals = %d, want 1 between the attempts", f.auth.Renewals())
	}
	if made() != 1 || !replayed || res.Item.ID != 101 {
		t.Errorf("made %d, replayed %v, result %+v: want one run, answered from the store", made(), replayed, res)
	}
}

// The access token expires between a cut-off attempt and its retry: the
// retry must be signed anew, the portal refuses that body under the key
// because it stored the first attempt's answer. The write ran: the error
// says so, and does not advise a new key (that would run it twice).
func TestAppV3ExpiredDuringRetryReportsTheWriteRan(t *testing.T) {
	f, made, _ := appTaskFixture(t)
	c := f.client(t)
	f.portal.Fail("tasks.task.add", b24test.ConnectionReset())
	f.portal.Fail("tasks.task.add", b24test.APIFailure(401, "expired_token", "The access token provided has expired."))
	_, err := addTask(context.Background(), c, "Prepare a report")
	if !errors.Is(err, b24.ErrWriteRan) {
		t.Fatalf("want ErrWriteRan, got %v", err)
	}
	if errors.Is(err, b24.ErrIdempotencyKeyReused) || strings.Contains(err.Error(), "take a new key") {
		t.Errorf("the error advises what would run the write twice: %v", err)
	}
	if made() != 1 {
		t.Errorf("the write ran %d times", made())
	}
	assertNoSecret(t, "error", err.Error())
	for _, tok := range f.auth.Issued() {
		if strings.Contains(err.Error(), tok.AccessToken) {
			t.Fatal("the error quotes an access token")
		}
	}
}

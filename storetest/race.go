package storetest

import (
	"sync"
	"testing"
)

// race runs fn from n goroutines at once and returns how many returned
// true; errors fail t.
func race(t *testing.T, n int, fn func() (bool, error)) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := fn()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
			}
			if ok {
				won++
			}
		}()
	}
	close(start)
	wg.Wait()
	return won
}

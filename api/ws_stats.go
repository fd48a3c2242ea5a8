package api

// WSConnections is how many WebSocket connections are open (for metrics).
func (s *Server) WSConnections() int {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	n := 0
	for _, c := range s.wsByIP {
		n += c
	}
	return n
}

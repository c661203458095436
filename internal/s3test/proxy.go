package s3test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Direction is which way bytes flow through the Proxy.
type Direction int

const (
	// Upstream is client to server: request headers and bodies (uploads).
	Upstream Direction = iota
	// Downstream is server to client: responses (downloads).
	Downstream
)

// Fault tells the Proxy to cut connections: after After bytes have passed
// in direction Dir on one connection (counted from when the fault was
// set), that connection is closed at once, mid-message. Times is how many
// connections to cut before the fault clears itself; negative: all.
//
// With Stall, the connection is not closed but goes silent in direction
// Dir, as behind a dead NAT entry: nothing more is delivered and nothing
// says so, until a peer gives up and closes.
type Fault struct {
	Dir   Direction
	After int64
	Times int
	Stall bool
}

// Proxy forwards TCP connections from a loopback port to a target address,
// cutting them when a Fault says so. It sees bytes, not HTTP, so a cut
// lands wherever the byte count falls: inside a body, as a real network
// failure would.
type Proxy struct {
	URL  string // http://127.0.0.1:PORT
	Addr string

	target string
	l      net.Listener
	wg     sync.WaitGroup

	mu    sync.Mutex
	fault *Fault
	gen   int // bumped by every Inject so connections restart their counts
	cuts  int
	bytes [2]int64
	conns map[*proxyConn]struct{}
}

type proxyConn struct {
	client, server net.Conn
	gen            int
	count          [2]int64
}

// NewProxy listens on a free loopback port and forwards to target
// ("127.0.0.1:PORT") until the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("s3test: proxy listen: %v", err)
	}
	p := &Proxy{Addr: l.Addr().String(), URL: "http://" + l.Addr().String(), target: target, l: l,
		conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Inject sets the fault, replacing any earlier one.
func (p *Proxy) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = &f
	p.gen++
}

// Clear removes the fault.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = nil
}

// Bytes is how many bytes have passed in direction dir so far.
func (p *Proxy) Bytes(dir Direction) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes[dir]
}

// Cuts is how many connections the proxy has cut or stalled so far.
func (p *Proxy) Cuts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts
}

// Close stops accepting, closes every connection and waits for the
// forwarding goroutines.
func (p *Proxy) Close() {
	p.l.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.client.Close()
		c.server.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.l.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		c.gen = p.gen
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		var done sync.WaitGroup
		done.Add(2)
		p.wg.Add(3)
		go func() { defer p.wg.Done(); defer done.Done(); p.pipe(c, Upstream, server, client) }()
		go func() { defer p.wg.Done(); defer done.Done(); p.pipe(c, Downstream, client, server) }()
		go func() {
			defer p.wg.Done()
			done.Wait()
			p.mu.Lock()
			delete(p.conns, c)
			p.mu.Unlock()
		}()
	}
}

// pipe copies src to dst, consulting the fault before each write.
func (p *Proxy) pipe(c *proxyConn, dir Direction, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			allow, cut, stall := p.admit(c, dir, int64(n))
			if allow > 0 {
				if _, werr := dst.Write(buf[:allow]); werr != nil {
					break
				}
			}
			if stall {
				// Swallow everything until either side closes.
				io.Copy(io.Discard, src)
				break
			}
			if cut {
				// Close both sides without a polite shutdown, so each
				// peer sees the stream end mid-message.
				if tc, ok := c.client.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				c.client.Close()
				c.server.Close()
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				break
			}
			// Half-close: pass the EOF on and let the other way finish.
			if tc, ok := dst.(*net.TCPConn); ok {
				tc.CloseWrite()
				return
			}
			break
		}
	}
	c.client.Close()
	c.server.Close()
}

// admit returns how many of n bytes may pass and whether to cut or stall
// the connection after them.
func (p *Proxy) admit(c *proxyConn, dir Direction, n int64) (allow int64, cut, stall bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fault
	if f == nil || f.Dir != dir || f.Times == 0 {
		p.bytes[dir] += n
		return n, false, false
	}
	if c.gen != p.gen { // counts start when the fault was injected
		c.gen = p.gen
		c.count = [2]int64{}
	}
	if c.count[dir]+n <= f.After {
		c.count[dir] += n
		p.bytes[dir] += n
		return n, false, false
	}
	allow = f.After - c.count[dir]
	p.bytes[dir] += allow
	c.count[dir] = f.After
	p.cuts++
	if f.Times > 0 {
		f.Times--
	}
	return allow, !f.Stall, f.Stall
}

package desens

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// sameUserListener accepts only loopback TCP connections whose client
// socket belongs to uid: the rest are closed before a byte is read or
// written. The kernel records each socket's owner in /proc/net/tcp and
// /proc/net/tcp6, where the client's end is the entry whose local address
// is the connection's remote one and the other way round.
type sameUserListener struct {
	net.Listener
	uid int
	// checkFailed, when set, hears of a client that could not be checked
	// because the socket tables could not be read.
	checkFailed func(error)
}

// procNetTCP are the socket tables searched for a client, IPv4 first: a
// client may reach an IPv4 listener from an IPv6 socket (::ffff:127.0.0.1).
var procNetTCP = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// errPeerNotFound means no socket table holds the client's end, as when
// the client has already gone.
var errPeerNotFound = errors.New("client socket not found")

func (l sameUserListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(c)
		if err == nil && uid == l.uid {
			return c, nil
		}
		c.Close()
		if err != nil && !errors.Is(err, errPeerNotFound) && l.checkFailed != nil {
			l.checkFailed(err)
		}
	}
}

// peerUID returns the user owning the client end of a TCP connection made
// on this host.
func peerUID(c net.Conn) (int, error) {
	local, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil {
		return 0, fmt.Errorf("local address: %w", err)
	}
	remote, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return 0, fmt.Errorf("remote address: %w", err)
	}
	// The client's entry lists its own address first.
	want := socketPair{local: unmap(remote), remote: unmap(local)}
	var errs []error
	for _, name := range procNetTCP {
		uid, err := findSocketUID(name, want)
		if err == nil {
			return uid, nil
		}
		if !errors.Is(err, errPeerNotFound) {
			errs = append(errs, err)
		}
	}
	if len(errs) == len(procNetTCP) {
		return 0, fmt.Errorf("checking the user of a loopback client: %w", errors.Join(errs...))
	}
	return 0, errPeerNotFound
}

// socketPair is one end of a TCP connection as a socket table lists it.
type socketPair struct{ local, remote netip.AddrPort }

func unmap(a netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()) }

func findSocketUID(name string, want socketPair) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	uid, err := scanSocketUID(f, want)
	if err != nil && !errors.Is(err, errPeerNotFound) {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return uid, err
}

// scanSocketUID searches a /proc/net/tcp or tcp6 table for the socket
// whose local and remote addresses are want's, and returns its uid.
func scanSocketUID(r io.Reader, want socketPair) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		local, err := parseProcAddr(f[1])
		if err != nil {
			return 0, fmt.Errorf("line %q: %w", sc.Text(), err)
		}
		if local != want.local {
			continue
		}
		remote, err := parseProcAddr(f[2])
		if err != nil {
			return 0, fmt.Errorf("line %q: %w", sc.Text(), err)
		}
		if remote != want.remote {
			continue
		}
		uid, err := strconv.Atoi(f[7])
		if err != nil {
			return 0, fmt.Errorf("line %q: uid: %w", sc.Text(), err)
		}
		return uid, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errPeerNotFound
}

// parseProcAddr decodes an address as the kernel's socket tables write
// it: the IP as 32-bit words in host byte order (one for IPv4, four for
// IPv6), a colon, then the port in hex. IPv4-mapped IPv6 addresses come
// back as IPv4.
func parseProcAddr(s string) (netip.AddrPort, error) {
	ipHex, portHex, ok := strings.Cut(s, ":")
	if !ok || len(portHex) != 4 {
		return netip.AddrPort{}, fmt.Errorf("malformed address %q", s)
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("malformed port in %q: %w", s, err)
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("malformed IP in %q", s)
	}
	// Each word was printed as a number: turn it back into memory order.
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(raw[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}

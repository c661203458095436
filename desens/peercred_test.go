package desens

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The sample tables are as a little-endian kernel writes them.
func skipBigEndian(t *testing.T) {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("sample socket tables are little-endian")
	}
}

func TestPeerParseProcAddr(t *testing.T) {
	skipBigEndian(t)
	for _, tc := range []struct {
		in   string
		want string // "" for an error
	}{
		{"0100007F:B6CE", "127.0.0.1:46798"},
		{"00000000:07E8", "0.0.0.0:2024"},
		{"0101A8C0:0050", "192.168.1.1:80"},
		{"00000000000000000000000001000000:1F90", "[::1]:8080"},
		{"0000000000000000FFFF00000100007F:AB4B", "127.0.0.1:43851"}, // IPv4-mapped
		{"B80D0120000000000000000001000000:0016", "[2001:db8::1]:22"},
		{"0100007F", ""},
		{"0100007F:12", ""},
		{"0100007G:0050", ""},
		{"0100:0050", ""},
		{"0100007F:ZZZZ", ""},
	} {
		got, err := parseProcAddr(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("parseProcAddr(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != netip.MustParseAddrPort(tc.want) {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

const (
	tcpHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	// A listener on :2024, then both ends of a connection from
	// 127.0.0.1:46798 (user 1000) to 127.0.0.1:43851 (user 0).
	tcpTable = tcpHeader +
		"   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1202 1 000000005aa7e8ce 100 0 0 10 0\n" +
		"   1: 0100007F:AB4B 0100007F:B6CE 01 00000000:00000000 00:00000000 00000000     0        0 5521 1 000000008142d71f 20 4 30 10 -1\n" +
		"   2: 0100007F:B6CE 0100007F:AB4B 01 00000000:00000000 00:00000000 00000000  1000        0 5520 1 000000003b1f5a2c 20 4 30 10 -1\n"
	tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	// A client of user 65534 on ::1 and one of user 1001 on an
	// IPv4-mapped address, both talking to port 43851.
	tcp6Table = tcp6Header +
		"   0: 00000000000000000000000001000000:C350 00000000000000000000000001000000:AB4B 01 00000000:00000000 00:00000000 00000000 65534        0 7001 1 0000000000000000 20 4 30 10 -1\n" +
		"   1: 0000000000000000FFFF00000100007F:C351 0000000000000000FFFF00000100007F:AB4B 01 00000000:00000000 00:00000000 00000000  1001        0 7002 1 0000000000000000 20 4 30 10 -1\n"
)

func TestPeerScanSocketUID(t *testing.T) {
	skipBigEndian(t)
	pair := func(local, remote string) socketPair {
		return socketPair{netip.MustParseAddrPort(local), netip.MustParseAddrPort(remote)}
	}
	for _, tc := range []struct {
		name, table string
		want        socketPair
		uid         int
		err         error // nil: any error is a failure; errPeerNotFound: that one
		bad         bool  // some other error
	}{
		{"IPv4 client", tcpTable, pair("127.0.0.1:46798", "127.0.0.1:43851"), 1000, nil, false},
		{"IPv4 server end", tcpTable, pair("127.0.0.1:43851", "127.0.0.1:46798"), 0, nil, false},
		{"IPv4 wrong remote", tcpTable, pair("127.0.0.1:46798", "127.0.0.1:43852"), 0, errPeerNotFound, false},
		{"IPv4 absent", tcpTable, pair("127.0.0.1:1", "127.0.0.1:43851"), 0, errPeerNotFound, false},
		{"IPv6 client", tcp6Table, pair("[::1]:50000", "[::1]:43851"), 65534, nil, false},
		{"IPv4-mapped client", tcp6Table, pair("127.0.0.1:50001", "127.0.0.1:43851"), 1001, nil, false},
		{"header only", tcpHeader, pair("127.0.0.1:46798", "127.0.0.1:43851"), 0, errPeerNotFound, false},
		{"empty", "", pair("127.0.0.1:46798", "127.0.0.1:43851"), 0, errPeerNotFound, false},
		{"short lines skipped", tcpHeader + "   0: 0100007F:B6CE\n", pair("127.0.0.1:46798", "127.0.0.1:43851"), 0, errPeerNotFound, false},
		{"bad uid", tcpHeader + "   0: 0100007F:B6CE 0100007F:AB4B 01 0:0 0:0 0 x 0 1\n", pair("127.0.0.1:46798", "127.0.0.1:43851"), 0, nil, true},
		{"bad address", tcpHeader + "   0: 0100007F 0100007F:AB4B 01 0:0 0:0 0 1000 0 1\n", pair("127.0.0.1:46798", "127.0.0.1:43851"), 0, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uid, err := scanSocketUID(strings.NewReader(tc.table), tc.want)
			switch {
			case tc.bad:
				if err == nil || errors.Is(err, errPeerNotFound) {
					t.Fatalf("got uid %d, err %v; want a parse error", uid, err)
				}
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("got uid %d, err %v; want %v", uid, err, tc.err)
				}
			case err != nil || uid != tc.uid:
				t.Fatalf("got uid %d, err %v; want %d", uid, err, tc.uid)
			}
		})
	}
}

// TestPeerListener checks the listener against this host's real socket
// tables: a client of this user gets through to a listener for this user,
// and is dropped unread by one for another user.
func TestPeerListener(t *testing.T) {
	for _, tc := range []struct {
		name  string
		uid   int
		admit bool
	}{
		{"same user", os.Getuid(), true},
		{"other user", os.Getuid() + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var checkErr atomic.Pointer[error]
			ln := sameUserListener{Listener: inner, uid: tc.uid, checkFailed: func(err error) { checkErr.Store(&err) }}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Write([]byte("hello"))
					c.Close()
				}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(c)
			if tc.admit && (err != nil || string(got) != "hello") {
				t.Errorf("admitted client read %q, %v; want hello", got, err)
			}
			if !tc.admit && len(got) != 0 {
				t.Errorf("refused client read %q, want nothing", got)
			}
			ln.Close()
			if err := checkErr.Load(); err != nil {
				t.Errorf("check failed: %v", *err)
			}
		})
	}
}

package desens

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/desens/desens/desens/storage"
	"github.com/desens/desens/internal/s3test"
)

// BenchmarkBucketStream streams one large video object (64 MiB;
// DESENS_BENCH_MB to change) from one versitygw bucket to another, four
// ways, in one run:
//
//	pipeline  desens with detection off (newDesensitizer without detection) and the
//	          ultrafast encoder: storage, loopback server, decode, encode,
//	          multipart upload of fragmented MP4
//	storage   the storage package alone: Open, io.Copy, Create
//	sdk       the plain SDK: one GetObject into a sequential multipart
//	          upload written by hand
//	ffmpeg    ffmpeg's own transcode of the same file, local disk to local
//	          disk, with the same encoder settings: the floor under the
//	          pipeline, which no storage work can beat
//
// The video is moving noise (640x360, about 30 Mbit/s), so it has many
// bytes per frame and its output is nearly as large as its input, like
// for like with the byte copies. Each row reports MB/s of source and
// peak-RSS-MB, this process's peak resident memory (VmHWM, reset before
// each row); the pipeline and ffmpeg rows also report peak-ffmpeg-RSS-MB,
// the largest sum of resident memory of the ffmpeg processes at once.
// Like the desens command, it runs with GOGC=50 unless GOGC is set.
//
//	DESENS_BENCH_MB=256 DESENS_S3TEST_DIR=/dev/shm go test ./desens -run '^$' -bench BucketStream -benchtime 3x
func BenchmarkBucketStream(b *testing.B) {
	size := int64(64)
	if v, err := strconv.ParseInt(os.Getenv("DESENS_BENCH_MB"), 10, 64); err == nil && v > 0 {
		size = v
	}
	size <<= 20
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(50)) // as cmd/desens does
	}
	e := newS3Env(b, false, nil)
	dir := b.TempDir()
	src := makeBigVideo(b, dir, size)
	st, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}
	size = st.Size()
	e.putFile(b, e.in, "big.mp4", src)
	ctx := context.Background()
	b.Logf("source: %.1f MiB, %s", float64(size)/(1<<20), src)

	row := func(name string, ffmpegRSS bool, fn func(b *testing.B)) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(size)
			m := startMemWatch()
			fn(b)
			self, kids := m.stop()
			b.ReportMetric(self, "peak-RSS-MB")
			if ffmpegRSS {
				b.ReportMetric(kids, "peak-ffmpeg-RSS-MB")
			}
		})
	}
	row("pipeline", true, func(b *testing.B) {
		d := newBareDesensitizer(b, e, Options{Overwrite: true})
		for b.Loop() {
			rep, err := d.Run(ctx, s3url(e.in, "big.mp4"), s3url(e.out, "pipeline.mp4"), nil)
			if err != nil || !rep.Files[0].OK {
				b.Fatal(err, rep.Files[0].Error)
			}
		}
	})
	row("storage", false, func(b *testing.B) {
		bkt, _, err := e.mux.Open(ctx, s3url(e.in, ""))
		if err != nil {
			b.Fatal(err)
		}
		defer bkt.Close()
		for b.Loop() {
			if err := storageCopy(ctx, bkt, "big.mp4", "copy-storage.mp4"); err != nil {
				b.Fatal(err)
			}
		}
	})
	row("sdk", false, func(b *testing.B) {
		buf := make([]byte, storage.DefaultPartSize)
		for b.Loop() {
			if err := sdkCopy(ctx, e.client, e.in, "big.mp4", "copy-sdk.mp4", buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	row("ffmpeg", true, func(b *testing.B) {
		out := filepath.Join(dir, "ffmpeg.mp4")
		for b.Loop() {
			ffmpeg(b, "-i", src, "-map", "0:v:0", "-map", "0:a", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20",
				"-pix_fmt", "yuv420p", "-c:a", "copy", "-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", out)
		}
	})
}

// makeBigVideo makes a video of moving noise with audio, of about size
// bytes.
func makeBigVideo(tb testing.TB, dir string, size int64) string {
	out := filepath.Join(dir, "big.mp4")
	ffmpeg(tb, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25,noise=alls=60:allf=t+u",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "100000", "-fs", strconv.FormatInt(size, 10),
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-g", "50", "-c:a", "aac", out)
	return out
}

func storageCopy(ctx context.Context, bkt storage.Bucket, from, to string) error {
	r, err := bkt.Open(ctx, from)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := bkt.Create(ctx, to, nil)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// sdkCopy is what a caller writes by hand with the SDK and no transfer
// manager: one GET streamed into a sequential multipart upload.
func sdkCopy(ctx context.Context, c *s3.Client, bucket, from, to string, buf []byte) error {
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &from})
	if err != nil {
		return err
	}
	defer get.Body.Close()
	return s3test.SDKMultipartUpload(ctx, c, bucket, to, get.Body, buf)
}

// memWatch measures peak resident memory: this process's from the
// kernel's high-water mark, reset at start (Linux), and the ffmpeg
// children's by sampling, since the kernel keeps no resettable peak for
// a process tree.
type memWatch struct {
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	kidsPeak int64 // kB
}

func startMemWatch() *memWatch {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM
	m := &memWatch{done: make(chan struct{})}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(25 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-t.C:
			}
			kids := ffmpegRSS()
			m.mu.Lock()
			m.kidsPeak = max(m.kidsPeak, kids)
			m.mu.Unlock()
		}
	}()
	return m
}

// stop returns the peaks in MB: this process's, and the ffmpeg children's.
func (m *memWatch) stop() (self, kids float64) {
	close(m.done)
	m.wg.Wait()
	return float64(procStatus("self", "VmHWM:")) / 1024, float64(m.kidsPeak) / 1024
}

// ffmpegRSS sums the resident memory of ffmpeg and ffprobe processes that
// are children of this one, in kB.
func ffmpegRSS() int64 {
	self := strconv.Itoa(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	var sum int64
	for _, e := range ents {
		pid := e.Name()
		if pid[0] < '0' || pid[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		comm, rest := s[open+1:closing], strings.Fields(s[closing+1:])
		if len(rest) < 2 || rest[1] != self || (comm != "ffmpeg" && comm != "ffprobe") {
			continue
		}
		sum += procStatus(pid, "VmRSS:")
	}
	return sum
}

// procStatus reads a "kB" field of /proc/PID/status.
func procStatus(pid, field string) int64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb
		}
	}
	return 0
}

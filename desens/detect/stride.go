package detect

import "image"

// frameStride picks the frames of a video a stream searches at all: one
// in n, the first frame and the first of a new size always.
type frameStride struct {
	n    int  // one frame in n is searched
	seen int  // frames given, searched or not
	idle bool // the latest frame given was not searched
}

// newFrameStride deals a stream's search, spread over every frames, into
// shares, one per searched frame, searching one frame in stride. With
// every not over stride it searches every frame, in one share.
func newFrameStride(every, stride int) (shares int, fs frameStride) {
	every, stride = max(1, every), max(1, stride)
	if every <= stride {
		return 1, frameStride{n: 1}
	}
	return every / stride, frameStride{n: stride}
}

// skip takes the next frame, of the given size where the last searched
// frame's was last, and reports whether it goes unsearched.
func (fs *frameStride) skip(size, last image.Point) bool {
	fs.seen++
	fs.idle = fs.n > 1 && (fs.seen-1)%fs.n != 0 && size == last
	return fs.idle
}

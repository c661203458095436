package detect

import (
	"os"
	"testing"

	"github.com/desens/desens/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.CheckMats(m)) }

// argocd-cmp-server as Argo CD ships it: Argo CD's single binary runs this
// command when invoked under this name; built alone here so the tests do not
// compile the whole of Argo CD.
package main

import (
	"os"

	"github.com/argoproj/argo-cd/v3/cmd/argocd-cmp-server/commands"
)

func main() {
	if err := commands.NewCommand().Execute(); err != nil {
		os.Exit(1)
	}
}

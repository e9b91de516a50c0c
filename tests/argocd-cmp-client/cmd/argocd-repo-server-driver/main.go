// argocd-repo-server-driver plays Argo CD's repo-server against a running
// argocd-cmp-server, using the repo-server's own code (the same module
// version as the server), so what regcred's tests see is what Argo CD sees:
//
//	argocd-repo-server-driver generate < request.json
//	argocd-repo-server-driver match < request.json
//	argocd-repo-server-driver parameters < request.json
//
// The plugin socket directory comes from ARGOCD_PLUGINSOCKFILEPATH, as in
// the repo-server. The request is JSON:
//
//	{"repoRoot": DIR, "revision": SHA, "request": ManifestRequest}
//
// where ManifestRequest is reposerver/apiclient.ManifestRequest in its JSON
// form (applicationSource.path is the app path inside repoRoot). Results are
// JSON on stdout; an error is printed on stderr, as the repo-server returns
// it to the Application controller, with exit status 1.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"
	"k8s.io/apimachinery/pkg/api/resource"

	pluginclient "github.com/argoproj/argo-cd/v3/cmpserver/apiclient"
	"github.com/argoproj/argo-cd/v3/common"
	repoclient "github.com/argoproj/argo-cd/v3/reposerver/apiclient"
	"github.com/argoproj/argo-cd/v3/reposerver/repository"
	"github.com/argoproj/argo-cd/v3/util/cmp"
	utilio "github.com/argoproj/argo-cd/v3/util/io"

	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"
	log "github.com/sirupsen/logrus"
)

// request is what a test hands the driver on stdin.
type request struct {
	RepoRoot string                     `json:"repoRoot"`
	Revision string                     `json:"revision"`
	Request  repoclient.ManifestRequest `json:"request"`
}

// The repo-server's default ARGOCD_EXEC_TIMEOUT is 90s; a test app renders
// in well under a second, so a hang fails the test instead of stalling it.
const timeout = 60 * time.Second

func main() {
	// The repo-server logs to stderr; only errors belong in a test's output.
	log.SetLevel(log.ErrorLevel)
	if len(os.Args) != 2 {
		fail(fmt.Errorf("usage: %s generate|match|parameters < request.json", os.Args[0]))
	}
	req, err := readRequest(os.Stdin)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var result any
	switch os.Args[1] {
	case "generate":
		result, err = generate(ctx, req)
	case "match":
		result, err = match(ctx, req)
	case "parameters":
		result, err = parameters(ctx, req)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(result); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func readRequest(r io.Reader) (*request, error) {
	var req request
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("reading the request: %w", err)
	}
	if req.RepoRoot == "" || req.Request.ApplicationSource == nil {
		return nil, fmt.Errorf("the request needs repoRoot and request.applicationSource")
	}
	return &req, nil
}

func (r *request) appPath() string {
	return filepath.Join(r.RepoRoot, r.Request.ApplicationSource.Path)
}

// generated is the repo-server's ManifestResponse with each manifest
// decoded: the objects the Application controller would apply.
type generated struct {
	SourceType string            `json:"sourceType"`
	Manifests  []json.RawMessage `json:"manifests"`
}

// generate runs repository.GenerateManifests, the function behind the
// repo-server's GenerateManifest RPC: source type detection (plugin
// discovery when the Application names no plugin), the plugin environment
// (ARGOCD_APP_*, KUBE_*, ARGOCD_ENV_*, PARAM_*), the tarball stream to the
// sidecar, and the decoding of what the plugin printed.
func generate(ctx context.Context, req *request) (*generated, error) {
	resp, err := repository.GenerateManifests(ctx, req.appPath(), req.RepoRoot, req.Revision,
		&req.Request, false, nil, resource.MustParse("0"), nil)
	if err != nil {
		return nil, err
	}
	out := &generated{SourceType: resp.SourceType, Manifests: []json.RawMessage{}}
	for _, m := range resp.Manifests {
		out.Manifests = append(out.Manifests, json.RawMessage(m))
	}
	return out, nil
}

// matched is the named sidecar's raw discovery answer, plus the source
// type the repo-server derives, over every socket, for the same
// Application with no plugin block (auto-discovery).
type matched struct {
	IsDiscoveryConfigured bool   `json:"isDiscoveryConfigured"`
	IsSupported           bool   `json:"isSupported"`
	IsDiscoveryEnabled    bool   `json:"isDiscoveryEnabled"`
	SourceType            string `json:"sourceType"`
}

// match calls CheckPluginConfiguration and MatchRepository on the plugin
// socket the way util/app/discovery does, then lets the repo-server's
// GetAppSourceType run the discovery over every socket.
func match(ctx context.Context, req *request) (*matched, error) {
	conn, client, err := dial(req)
	if err != nil {
		return nil, err
	}
	defer utilio.Close(conn)
	cfg, err := client.CheckPluginConfiguration(ctx, &emptypb.Empty{})
	if err != nil {
		return nil, fmt.Errorf("CheckPluginConfiguration: %w", err)
	}
	stream, err := client.MatchRepository(ctx, grpc_retry.Disable())
	if err != nil {
		return nil, fmt.Errorf("MatchRepository: %w", err)
	}
	if err := cmp.SendRepoStream(ctx, req.appPath(), req.RepoRoot, stream, nil, nil); err != nil {
		return nil, fmt.Errorf("MatchRepository stream: %w", err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, fmt.Errorf("MatchRepository: %w", err)
	}
	source := req.Request.ApplicationSource.DeepCopy()
	source.Plugin = nil
	sourceType, err := repository.GetAppSourceType(ctx, source, req.appPath(), req.RepoRoot,
		req.Request.AppName, req.Request.EnabledSourceTypes, nil, nil)
	if err != nil {
		return nil, err
	}
	return &matched{
		IsDiscoveryConfigured: cfg.GetIsDiscoveryConfigured(),
		IsSupported:           resp.GetIsSupported(),
		IsDiscoveryEnabled:    resp.GetIsDiscoveryEnabled(),
		SourceType:            string(sourceType),
	}, nil
}

// parameters calls GetParametersAnnouncement as the repo-server does for
// the UI's parameter form (populatePluginAppDetails).
func parameters(ctx context.Context, req *request) (any, error) {
	conn, client, err := dial(req)
	if err != nil {
		return nil, err
	}
	defer utilio.Close(conn)
	stream, err := client.GetParametersAnnouncement(ctx, grpc_retry.Disable())
	if err != nil {
		return nil, fmt.Errorf("GetParametersAnnouncement: %w", err)
	}
	if err := cmp.SendRepoStream(ctx, req.appPath(), req.RepoRoot, stream, nil, nil); err != nil {
		return nil, fmt.Errorf("GetParametersAnnouncement stream: %w", err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, fmt.Errorf("GetParametersAnnouncement: %w", err)
	}
	return resp.GetParameterAnnouncements(), nil
}

// dial connects to the socket of the plugin the Application names
// (`<name>.sock` in the plugin socket directory), with the repo-server's
// client settings.
func dial(req *request) (utilio.Closer, pluginclient.ConfigManagementPluginServiceClient, error) {
	plugin := req.Request.ApplicationSource.Plugin
	if plugin == nil || plugin.Name == "" {
		return nil, nil, fmt.Errorf("request.applicationSource.plugin.name names the socket to call")
	}
	address := filepath.Join(common.GetPluginSockFilePath(), plugin.Name+".sock")
	return pluginclient.NewConfigManagementPluginClientSet(address).NewConfigManagementPluginClient()
}

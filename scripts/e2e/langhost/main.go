// pulumi-language-python for the e2e tier: a small Python language host for the real engine.
//
// Pulumi's own host (sdk/python/cmd/pulumi-language-python) is a separate Go module that the Go
// module proxy does not serve at any version, so this one is written here against the gRPC
// contract of the SDK release we build the CLI from (pulumirpc.LanguageRuntimeServer). It does what
// `preview`, `up`, `destroy` and policy packs need and nothing more:
//   - Run: the SDK's own executor script (pulumi-language-python-exec, shipped in the same release's
//     sdk module, installed next to this binary) under the project's virtualenv, with the engine's
//     arguments and the stack config in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS;
//   - RunPlugin: policy packs (`python -u -m pulumi.policy <args> <pack dir>` behind the SDK's
//     PolicyProxy, which hands the pack its stack config) and Python component plugins
//     (`python <plugin dir> <args>`);
//   - GetRequiredPackages: none (providers load on first use at the version the SDK registers);
//   - InstallDependencies: nothing to install (the e2e runs after `uv sync --frozen`).
// Every other method answers Unimplemented, which the engine treats as "not supported".
// Started as pulumi-language-nodejs, the same binary is the Node.js host (nodejs.go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

var version = "0.0.0-dev" // set by -ldflags

// exit code the executor uses after printing a user-actionable message
const exitAfterUserMessage = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	exec          string
	engineAddress string
}

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	_ = flag.String("tracing", "", "ignored")
	executor := flag.String("use-executor", "", "the executor script (default: next to this binary)")
	flag.Parse()
	if *showVersion {
		fmt.Println(version)
		return
	}
	self, _ := os.Executable()
	if strings.HasPrefix(filepath.Base(os.Args[0]), "pulumi-language-nodejs") || strings.HasPrefix(filepath.Base(self), "pulumi-language-nodejs") {
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
		defer cancel()
		stop := make(chan bool)
		go func() { <-ctx.Done(); close(stop) }()
		serveNode(ctx, cancel, stop, flag.Arg(0))
		return
	}
	h := &host{exec: *executor}
	if h.exec == "" {
		self, err := os.Executable()
		if err != nil {
			fail(err)
		}
		h.exec = filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	}
	if _, err := os.Stat(h.exec); err != nil {
		fail(fmt.Errorf("missing executor %s: %w", h.exec, err))
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	stop := make(chan bool)
	go func() { <-ctx.Done(); close(stop) }()
	if args := flag.Args(); len(args) > 0 {
		h.engineAddress = args[0]
		if err := rpcutil.Healthcheck(ctx, h.engineAddress, 5*time.Minute, cancel); err != nil {
			fail(fmt.Errorf("engine health check: %w", err))
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(s, h)
			return nil
		},
	})
	if err != nil {
		fail(err)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python (e2e): %v\n", err)
	os.Exit(1)
}

// python returns the interpreter of the program's virtualenv (runtime option `virtualenv`,
// relative to the project root) and the environment that activates it.
func python(info *pulumirpc.ProgramInfo) (string, []string) {
	env := os.Environ()
	var opts map[string]any
	if info != nil && info.Options != nil {
		opts = info.Options.AsMap()
	}
	venv, _ := opts["virtualenv"].(string)
	if venv == "" {
		// no virtualenv option (a plugin's PulumiPlugin.yaml): the environment the caller
		// activated, as Pulumi's host does when VIRTUAL_ENV is set; else python3 on PATH
		if active := os.Getenv("VIRTUAL_ENV"); active != "" {
			return filepath.Join(active, "bin", "python"), env
		}
		return "python3", env
	}
	if !filepath.IsAbs(venv) {
		venv = filepath.Join(info.RootDirectory, venv)
	}
	bin := filepath.Join(venv, "bin")
	env = append(env, "VIRTUAL_ENV="+venv, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return filepath.Join(bin, "python"), env
}

func (h *host) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.EngineAddress
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	return nil
}

func (h *host) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	py, env := python(req.GetInfo())
	cmd := exec.CommandContext(ctx, py, "-c", "import sys; print(sys.version.split()[0])")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", py, err)
	}
	return &pulumirpc.AboutResponse{Executable: py, Version: strings.TrimSpace(string(out))}, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	py, env := python(req.GetInfo())
	args := []string{"-u", h.exec}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	args = append(args, req.GetArgs()...)

	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	keys, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(keys))
	if err := cmd.Run(); err != nil {
		_ = os.Stdout.Sync()
		_ = os.Stderr.Sync()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitAfterUserMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run %s: %v", py, err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	py, env := python(req.GetInfo())
	dir := req.GetInfo().GetProgramDirectory()
	analyzer := req.GetKind() == "analyzer"
	var args []string
	if analyzer {
		args = append(append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...), dir)
	} else {
		args = append([]string{"-u", dir}, req.GetArgs()...)
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	cmd := exec.CommandContext(ctx, py, args...)
	cmd.Env = env
	cmd.Dir = req.GetPwd()
	var proxy *sdk.PolicyProxy
	if analyzer {
		// policy packs run from their own directory and read the stack config from the environment,
		// which only the engine's ConfigureStack call carries: the SDK's proxy receives it first.
		cmd.Dir = dir
		proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("policy pack proxy: %w", err)
		}
		cfg, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("policy pack stack configuration: %w", err)
		}
		if cfg != nil {
			set := func(k, v string) {
				if v != "" {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
			}
			set("PULUMI_ORGANIZATION", cfg.Organization)
			set("PULUMI_PROJECT", cfg.Project)
			set("PULUMI_STACK", cfg.Stack)
			set("PULUMI_DRY_RUN", strconv.FormatBool(cfg.DryRun))
			if cfg.Config != nil {
				b, err := json.Marshal(cfg.Config)
				if err != nil {
					return err
				}
				set("PULUMI_CONFIG", string(b))
			}
		}
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not run %s: %w", py, err)
	}
	if proxy != nil {
		return proxy.Attach(ctx, cmd)
	}
	if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				return server.Send(&pulumirpc.RunPluginResponse{
					Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(ws.ExitStatus())},
				})
			}
		}
		return err
	}
	return closer.Close()
}

var _ = structpb.NewStruct

// Only in builds with the Simulator trait (the default); the in-cluster image has no simulator.
#if Simulator
    import ArgumentParser
    import DRCore
    import Foundation
    import Logging
    import ProcessRunner
    import SimulatedExercise
    import SimulatedFlux
    import Simulator

    struct SimCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sim",
            abstract: "Run the built-in simulated cluster.",
            subcommands: [Serve.self])

        struct Serve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Serve a simulated Kubernetes API on loopback until interrupted.",
                discussion: """
                    Writes a kubeconfig (client certificate user `admin`, bearer-token user `token`) with mode 0600 \
                    and prints its path, so kubectl, Task and scripts can talk to the simulator: \
                    `KUBECONFIG=<path> kubectl get ns`.
                    """)

            @Option(help: "Port to listen on (0 picks a free one).")
            var port = 0

            @Option(help: "Where to write the kubeconfig.")
            var kubeconfig = "longhorn-dr-sim.kubeconfig"

            @Flag(help: "Serve plain HTTP instead of HTTPS (token auth only).")
            var insecureHTTP = false

            @Flag(
                help:
                    "Offer HTTP/1.1 only, like a proxy in front of the API server; by default HTTPS offers HTTP/2 (ALPN h2) as well, as the kube-apiserver does."
            )
            var http1Only = false

            @Option(help: "The bearer token to accept (default: a random one).")
            var token: String?

            @Option(help: "Also write every request the server receives to this file, one JSON object per line.")
            var requestLog: String?

            @Option(help: "How much the HTTP layer logs to standard error: trace, debug, info, notice, warning, error or critical.")
            var logLevel = "critical"

            @Option(help: "How many changes the watch history keeps; older resourceVersions get 410 Gone.")
            var watchHistory = 10_000

            @Option(
                help:
                    "The Longhorn version the simulated manager behaves like (\(LonghornPersonality.supported.map(\.description).joined(separator: ", "))), or `none`."
            )
            var longhorn = LonghornPersonality.default.description

            @Option(help: "The backup target BackupTarget/default starts with.")
            var backupTarget = "s3://longhorn-dr-sim@us-east-1/"

            @Option(
                help:
                    "Folder standing in for the object store: each bucket of a target URL is a subfolder (kept between runs, so a backup outlives a rebuilt cluster)."
            )
            var backupstore = "longhorn-dr-sim-backupstore"

            @Option(
                help: ArgumentHelp(
                    "Serve s3:// backup targets from this S3 endpoint instead of --backupstore folders (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); the bucket must exist.",
                    valueName: "url"))
            var backupstoreS3Endpoint: String?

            @Option(help: "Folder for volume contents, pod files and scratch images (default: new temporary folders).")
            var dataDir: String?

            @Option(
                help: ArgumentHelp(
                    "Run containers of IMAGE (any tag) with FOLDER first on their PATH, as if the image held its commands, e.g. ghcr.io/longhorn-dr/longhorn-dr=.build/debug. Repeatable.",
                    valueName: "IMAGE=FOLDER"))
            var imageBin: [String] = []

            @Option(
                help: ArgumentHelp(
                    "How pod containers run: `process` (their command as a host process in private mount namespaces) or `podman` (a container whose image is in podman's local storage runs as a real podman container with its securityContext; needs root; other images run as processes).",
                    valueName: "process|podman"))
            var containerRuntime = "process"

            @Option(
                help: ArgumentHelp(
                    "Run a simulated Flux whose GitRepository flux-system/flux-system serves FOLDER (every change is a new revision); Kustomizations are built with kubectl kustomize (docs/simulator.md).",
                    valueName: "folder"))
            var fluxSource: String?

            @Option(help: "How long a Flux Kustomization waits before checking its dependsOn again (Flux's --requeue-dependency).")
            var fluxRequeueDependency = "30s"

            @Option(help: "How often backup targets re-read the store on their own (e.g. 300s, 10s).")
            var pollInterval = "300s"

            @Option(
                help:
                    "Time between the hops of a backup sync (target listed, then each BackupVolume, then each Backup), as Longhorn runs them in separate passes (e.g. 1s, 5s for a slow store)."
            )
            var syncHopDelay = "1s"

            func validate() throws {
                if longhorn != "none", LonghornPersonality(longhorn) == nil {
                    throw ValidationError("--longhorn must be a version like v1.10.2 or `none`, got \(longhorn)")
                }
                guard DurationText.parse(pollInterval) != nil else {
                    throw ValidationError("--poll-interval must be a duration like 300s, got \(pollInterval)")
                }
                guard DurationText.parse(syncHopDelay) != nil else { throw ValidationError("--sync-hop-delay must be a duration like 1s, got \(syncHopDelay)") }
                guard watchHistory > 0 else { throw ValidationError("--watch-history must be at least 1, got \(watchHistory)") }
                for mapping in imageBin {
                    let parts = mapping.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                        throw ValidationError("--image-bin must be IMAGE=FOLDER, got \(mapping)")
                    }
                    var isFolder: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: String(parts[1]), isDirectory: &isFolder), isFolder.boolValue else {
                        throw ValidationError("--image-bin \(mapping): \(parts[1]) is not a folder")
                    }
                }
                guard DurationText.parse(fluxRequeueDependency) != nil else {
                    throw ValidationError("--flux-requeue-dependency must be a duration like 30s, got \(fluxRequeueDependency)")
                }
                if let fluxSource {
                    var isFolder: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: fluxSource, isDirectory: &isFolder), isFolder.boolValue else {
                        throw ValidationError("--flux-source \(fluxSource) is not a folder")
                    }
                    guard ToolLocator.locate("kubectl") != nil else {
                        throw ValidationError(
                            "--flux-source needs kubectl on PATH: its kustomize builds the Kustomizations (scripts/install-tools puts one in .tools/venv/bin)")
                    }
                }
                guard ["process", "podman"].contains(containerRuntime) else {
                    throw ValidationError("--container-runtime must be `process` or `podman`, got \(containerRuntime)")
                }
                guard Logger.Level(rawValue: logLevel) != nil else {
                    throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \(logLevel)")
                }
                guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535, got \(port)") }
            }

            func run() async throws {
                var serve = SimulatorServe(
                    kubeconfigPath: kubeconfig,
                    backupstoreFolder: URL(fileURLWithPath: (backupstore as NSString).expandingTildeInPath))
                serve.server.port = port
                serve.server.tls = !insecureHTTP
                serve.server.http2 = !http1Only
                serve.server.token = token
                serve.server.logLevel = Logger.Level(rawValue: logLevel) ?? .critical
                if serve.server.logLevel < .critical { LoggingSystem.bootstrap(StreamLogHandler.standardError) }
                serve.watchHistory = watchHistory
                serve.requestLogPath = requestLog
                serve.longhorn = LonghornPersonality(longhorn)
                serve.backupTarget = backupTarget
                serve.backupstoreS3Endpoint = backupstoreS3Endpoint
                serve.dataFolder = dataDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
                serve.imageBins = imageBin.map { mapping in
                    let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
                    return (parts[0], parts[1])
                }
                if containerRuntime == "podman" {
                    switch PodmanEngine.locate() {
                    case .success(let engine): serve.podman = engine
                    case .failure(let error): throw ValidationError(error.message)
                    }
                }
                if let fluxSource, let kubectl = ToolLocator.locate("kubectl") {
                    var flux = FluxSimulation.Options(sourceFolder: URL(fileURLWithPath: fluxSource).standardizedFileURL, kubectl: kubectl)
                    flux.requeueDependency = DurationText.parse(fluxRequeueDependency) ?? .seconds(30)
                    serve.flux = flux
                }
                serve.pollInterval = DurationText.parse(pollInterval) ?? .seconds(300)
                serve.syncHopDelay = DurationText.parse(syncHopDelay) ?? .seconds(1)
                // Written straight to the descriptor: scripts wait for these lines, and stdout is
                // block-buffered when it is a pipe.
                try await serve.run { FileHandle.standardOutput.write(Data($0.utf8)) }
            }
        }
    }
#endif

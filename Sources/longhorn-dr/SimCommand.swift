// Only in builds with the Simulator trait (the default); the in-cluster image has no simulator.
#if Simulator
import AWS
import ArgumentParser
import Backupstore
import BackupstoreS3
import DRCore
import Exercise
import Foundation
import Logging
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

        @Flag(help: "Offer HTTP/1.1 only, like a proxy in front of the API server; by default HTTPS offers HTTP/2 (ALPN h2) as well, as the kube-apiserver does.")
        var http1Only = false

        @Option(help: "The bearer token to accept (default: a random one).")
        var token: String?

        @Option(help: "Also write every request the server receives to this file, one JSON object per line.")
        var requestLog: String?

        @Option(help: "How much the HTTP layer logs to standard error: trace, debug, info, notice, warning, error or critical.")
        var logLevel = "critical"

        @Option(help: "How many changes the watch history keeps; older resourceVersions get 410 Gone.")
        var watchHistory = 10_000

        @Option(help: "The Longhorn version the simulated manager behaves like (\(LonghornPersonality.supported.map(\.description).joined(separator: ", "))), or `none`.")
        var longhorn = LonghornPersonality.default.description

        @Option(help: "The backup target BackupTarget/default starts with.")
        var backupTarget = "s3://longhorn-dr-sim@us-east-1/"

        @Option(help: "Folder standing in for the object store: each bucket of a target URL is a subfolder (kept between runs, so a backup outlives a rebuilt cluster).")
        var backupstore = "longhorn-dr-sim-backupstore"

        @Option(help: ArgumentHelp("Serve s3:// backup targets from this S3 endpoint instead of --backupstore folders (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY); the bucket must exist.", valueName: "url"))
        var backupstoreS3Endpoint: String?

        @Option(help: "Folder for volume contents, pod files and scratch images (default: new temporary folders).")
        var dataDir: String?

        @Option(help: ArgumentHelp("Run containers of IMAGE (any tag) with FOLDER first on their PATH, as if the image held its commands, e.g. ghcr.io/longhorn-dr/longhorn-dr=.build/debug. Repeatable.", valueName: "IMAGE=FOLDER"))
        var imageBin: [String] = []

        @Option(help: "How often backup targets re-read the store on their own (e.g. 300s, 10s).")
        var pollInterval = "300s"

        @Option(help: "Time between the hops of a backup sync (target listed, then each BackupVolume, then each Backup), as Longhorn runs them in separate passes (e.g. 1s, 5s for a slow store).")
        var syncHopDelay = "1s"

        func validate() throws {
            if longhorn != "none", LonghornPersonality(longhorn) == nil {
                throw ValidationError("--longhorn must be a version like v1.10.2 or `none`, got \(longhorn)")
            }
            guard DurationText.parse(pollInterval) != nil else { throw ValidationError("--poll-interval must be a duration like 300s, got \(pollInterval)") }
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
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \(logLevel)")
            }
            guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535, got \(port)") }
        }

        func run() async throws {
            // Pod volumes and service-account files live under the data folder too, when one is given.
            let clusterData = dataDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath).appendingPathComponent("cluster") }
            let cluster = await SimulatedCluster(historyLimit: watchHistory, dataRoot: clusterData, requestLogPath: requestLog)
            let options: SimulatorServer.Options = {
                var options = SimulatorServer.Options()
                options.port = port
                options.tls = !insecureHTTP
                options.http2 = !http1Only
                options.token = token
                options.logLevel = Logger.Level(rawValue: logLevel) ?? .critical
                if options.logLevel < .critical { LoggingSystem.bootstrap(StreamLogHandler.standardError) }
                return options
            }()
            let path = kubeconfig
            for mapping in imageBin {
                let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
                await cluster.runtime.setImageBin(parts[0], folder: URL(fileURLWithPath: parts[1]).standardizedFileURL.path)
            }
            let s3 = try backupstoreS3Endpoint.map { endpoint in try AWSHTTPClient(caPEM: nil).withStores(endpoint: endpoint) }
            defer { if let s3 { Task { try? await s3.http.shutdown() } } }
            let simulation = try await installLonghorn(cluster, s3: s3)
            // SIGTERM/SIGINT stop the pods' processes before the server exits: they are real
            // processes and would otherwise outlive it.
            let runtime = cluster.runtime
            let signals = [SIGTERM, SIGINT].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    Task {
                        await runtime.stopAll()
                        // Every group a pod or exec started, TERM then KILL: nothing outlives the server.
                        await ContainerProcess.stopEverything(grace: .seconds(2))
                        Foundation.exit(0)
                    }
                }
                source.resume()
                return source
            }
            defer { signals.forEach { $0.cancel() } }
            let running = try await RunningSimulator.start(cluster, options: options, alongside: simulation.map { simulation in [{ await simulation.run() }] } ?? [])
            do {
                try AtomicFile.write(Data(running.endpoint.kubeconfig().utf8), to: URL(fileURLWithPath: (path as NSString).expandingTildeInPath))
            } catch {
                Terminal.error("sim serve: cannot write kubeconfig \(path): \(error)")
                Foundation.exit(ExitStatus.environment.rawValue)
            }
            // Written straight to the descriptor: scripts wait for these lines, and stdout is
            // block-buffered when it is a pipe.
            let pods: String = switch PodSandbox.current {
            case .success(let sandbox): "pods: run \(sandbox)"
            case .failure(let error): "pods: cannot run commands here: \(error.message)"
            }
            FileHandle.standardOutput.write(Data("serving \(running.endpoint.url)\nkubeconfig: \(path)\n\(pods)\n".utf8))
            await running.wait()
        }
    }
}

extension SimCommand.Serve {
    /// Installs the simulated Longhorn manager, unless `--longhorn none`.
    func installLonghorn(_ cluster: SimulatedCluster, s3: S3Stores? = nil) async throws -> LonghornSimulation? {
        guard let personality = LonghornPersonality(longhorn) else { return nil }
        let storeRoot = URL(fileURLWithPath: (backupstore as NSString).expandingTildeInPath)
        let data = dataDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("longhorn-dr-sim-\(UUID().uuidString)")
        var options = LonghornSimulation.Options(dataRoot: data, storeResolver: s3?.resolver ?? LonghornSimulation.Options.folderStores(root: storeRoot))
        options.personality = personality
        options.backupTargetURL = backupTarget
        options.pollInterval = DurationText.parse(pollInterval) ?? .seconds(300)
        options.syncHopDelay = DurationText.parse(syncHopDelay) ?? .seconds(1)
        let simulation = LonghornSimulation(cluster: cluster, options: options)
        try await simulation.install()
        return simulation
    }
}

/// `sim serve --backupstore-s3-endpoint`: backup targets served from a real S3 server, so the
/// store the simulated Longhorn writes is the one `backup verify` and the exercise read.
struct S3Stores: Sendable {
    let http: AWSHTTPClient
    let endpoint: String
    let credentials: AWSCredentials

    var resolver: @Sendable (String) -> (any ObjectStore)? {
        { [http, endpoint, credentials] url in
            guard let location = try? S3Location(parsing: url),
                let addressing = try? S3Addressing(region: location.region ?? "us-east-1", customEndpoint: endpoint)
            else { return nil }
            return S3ObjectStore(client: S3Client(http: http, addressing: addressing, credentials: credentials), bucket: location.bucket)
        }
    }
}

extension AWSHTTPClient {
    func withStores(endpoint: String) throws -> S3Stores {
        let credentials = try AWSCredentialChain(environment: .process(), sources: [.environment]).resolveCredentials()
        return S3Stores(http: self, endpoint: endpoint, credentials: credentials)
    }
}
#endif

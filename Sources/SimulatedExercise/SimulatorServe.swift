import AWS
import Backupstore
import BackupstoreS3
import DRCore
import Exercise
import Foundation
import KubeClient
import SimulatedFlux
import Simulator

/// `sim serve`: a simulated cluster (with the simulated Longhorn unless told otherwise) on
/// loopback until SIGTERM or SIGINT, its kubeconfig written for kubectl, Task and scripts.
public struct SimulatorServe: Sendable {
    public var server = SimulatorServer.Options()
    public var kubeconfigPath: String
    public var watchHistory = 10_000
    public var requestLogPath: String?
    /// nil: no Longhorn (`--longhorn none`).
    public var longhorn: LonghornPersonality? = .default
    public var backupTarget = "s3://longhorn-dr-sim@us-east-1/"
    /// The folder standing in for the object store (each bucket a subfolder).
    public var backupstoreFolder: URL
    /// Serve s3:// targets from this S3 endpoint instead (credentials from the environment).
    public var backupstoreS3Endpoint: String?
    public var dataFolder: URL?
    /// Image name → folder put first on PATH of that image's containers.
    public var imageBins: [(image: String, folder: String)] = []
    /// Run containers whose image is in podman's storage as podman containers.
    public var podman: PodmanEngine?
    /// Flux over this folder (`--flux-source`): its GitRepository and controllers.
    public var flux: FluxSimulation.Options?
    public var pollInterval: Duration = .seconds(300)
    public var syncHopDelay: Duration = .seconds(1)

    public init(kubeconfigPath: String, backupstoreFolder: URL) {
        self.kubeconfigPath = kubeconfigPath
        self.backupstoreFolder = backupstoreFolder
    }

    /// Serves until a signal ends the process. `announce` gets the lines scripts wait for.
    public func run(announce: @escaping @Sendable (String) -> Void) async throws {
        // Pod volumes and service-account files live under the data folder too, when one is given.
        let cluster = await SimulatedCluster(
            historyLimit: watchHistory, dataRoot: dataFolder?.appendingPathComponent("cluster"),
            requestLogPath: requestLogPath)
        for (image, folder) in imageBins {
            await cluster.runtime.setImageBin(image, folder: URL(fileURLWithPath: folder).standardizedFileURL.path)
        }
        await cluster.runtime.setEngine(podman)
        let s3 = try backupstoreS3Endpoint.map { endpoint in try AWSHTTPClient(caPEM: nil).withStores(endpoint: endpoint) }
        defer { if let s3 { Task { try? await s3.http.shutdown() } } }
        let simulation = try await installLonghorn(cluster, s3: s3)
        // SIGTERM/SIGINT stop the pods' processes before the server exits: they are real
        // processes and would otherwise outlive it.
        let runtime = cluster.runtime
        let signals = SignalWatch([SIGTERM, SIGINT]) { _ in
            Task {
                await runtime.stopAll()
                // Every group a pod or exec started, TERM then KILL: nothing outlives the server.
                await ContainerProcess.stopEverything(grace: .seconds(2))
                Foundation.exit(0)
            }
        }
        defer { signals.cancel() }
        let running = try await RunningSimulator.start(
            cluster, options: server,
            alongside: simulation.map { simulation in [{ await simulation.run() }] } ?? [])
        do {
            try AtomicFile.write(Data(running.endpoint.kubeconfig().utf8), to: URL(fileURLWithPath: (kubeconfigPath as NSString).expandingTildeInPath))
        } catch {
            await running.stop()
            throw DRError(
                .environment, subject: "kubeconfig \(kubeconfigPath)", detail: "cannot be written: \(error)",
                hint: "pass --kubeconfig with a path in a writable folder")
        }
        // Flux reaches the server as a client, as the real controllers do, with the admin identity.
        var fluxTask: Task<Void, Never>?
        if var flux {
            // Its artifacts live with the cluster's other data when there is a data folder.
            if flux.artifactFolder == nil, let dataFolder { flux.artifactFolder = dataFolder.appendingPathComponent("flux-artifacts") }
            let client: KubeClient
            do {
                let cluster = try KubeconfigLoader().load(KubeconfigLoader.Options(kubeconfigPath: (kubeconfigPath as NSString).expandingTildeInPath))
                client = try KubeClient(cluster: cluster)
                let simulation = FluxSimulation(client: client, options: flux)
                try await simulation.install()
                fluxTask = Task { await simulation.run() }
            } catch {
                await running.stop()
                throw DRError(.environment, subject: "simulated Flux", detail: "cannot start: \(error)", hint: "check --flux-source and that kubectl runs")
            }
        }
        defer { fluxTask?.cancel() }
        let pods: String =
            switch PodSandbox.current {
            case .success(let sandbox):
                "pods: run \(sandbox)" + (podman.map { " or, when their image is in podman's storage, as podman containers (\($0.podman))" } ?? "")
            case .failure(let error): "pods: cannot run commands here: \(error.message)"
            }
        let fluxLine = flux.map { "\nflux: GitRepository flux-system/flux-system serves \($0.sourceFolder.path)" } ?? ""
        announce("serving \(running.endpoint.url)\nkubeconfig: \(kubeconfigPath)\n\(pods)\(fluxLine)\n")
        await running.wait()
    }

    /// Installs the simulated Longhorn manager, unless there is none to install.
    func installLonghorn(_ cluster: SimulatedCluster, s3: S3Stores?) async throws -> LonghornSimulation? {
        guard let longhorn else { return nil }
        let data = dataFolder ?? FileManager.default.temporaryDirectory.appendingPathComponent("longhorn-dr-sim-\(UUID().uuidString)")
        var options = LonghornSimulation.Options(
            dataRoot: data,
            storeResolver: s3?.resolver ?? LonghornSimulation.Options.folderStores(root: backupstoreFolder))
        options.personality = longhorn
        options.faultsFromConfigMap = true
        options.backupTargetURL = backupTarget
        options.pollInterval = pollInterval
        options.syncHopDelay = syncHopDelay
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

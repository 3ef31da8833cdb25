import Backupstore
import ClusterExercise
import DRCore
import Exercise
import Foundation
import KubeClient
import KubeModels
import Longhorn
import RestoreOrchestrator
import Simulator

/// The DR exercise against the built-in simulated cluster: each "cluster" is a simulated API
/// server with Longhorn, served over HTTPS on loopback and driven only through the real client;
/// destroying it throws away everything but the backup store (a folder standing in for the
/// bucket); rebuilding starts a new one whose bootstrap runs the real restore orchestrator.
public actor SimulatedExerciseEnvironment: ExerciseEnvironment {
    struct Instance {
        var cluster: SimulatedCluster
        var longhorn: LonghornSimulation
        var client: KubeClient
        var longhornClient: LonghornClient
        var endpoint: SimulatorServer.Endpoint
        /// Where the cluster keeps its volumes' contents.
        var dataRoot: URL
        /// Runs the server and controllers; cancelled by destroy (or when the environment ends).
        var task: Task<Void, Never>
    }

    let config: ExerciseConfig
    let personality: LonghornPersonality
    let workRoot: URL
    let storeRoot: URL
    let targetURL: String
    let log: @Sendable (String) -> Void
    let fault: Fault?
    private var instance: Instance?
    private var generation = 0

    /// Ways to break the simulated run on purpose, to see the exercise say FAIL.
    public enum Fault: String, Sendable, CaseIterable {
        /// Longhorn ends the backup in state Error.
        case backupError = "backup-error"
        /// A block of the backup is corrupted in the store after the upload.
        case corruptBlock = "corrupt-block"
        /// The snapshot misses the sentinel just written (taken before the write reached the
        /// volume): the backup completes and every block verifies, but the sentinel is not in it.
        case staleSnapshot = "stale-snapshot"
        /// The rebuilt cluster's restore faults (RestoreFailure).
        case restoreFault = "restore-fault"
        /// The rebuilt cluster's bootstrap starts the volume fresh instead of restoring it (the
        /// original plan's silent-empty-volume defect): the data does not come back.
        case skipRestore = "skip-restore"
        /// After the rebuilt cluster restored everything, the last workload's sentinel is
        /// overwritten in its volume (a restore that brought back the wrong bytes): that volume
        /// FAILs, the others PASS.
        case damageOneVolume = "damage-one-volume"
    }

    public init(config: ExerciseConfig, personality: LonghornPersonality = .default, workRoot: URL, fault: Fault? = nil,
        log: @escaping @Sendable (String) -> Void)
    {
        self.fault = fault
        self.config = config
        self.personality = personality
        self.workRoot = workRoot
        self.storeRoot = workRoot.appendingPathComponent("backupstore")
        self.targetURL = "s3://longhorn-dr-sim@us-east-1/\(config.cluster.name)/"
        self.log = log
    }

    /// Stops whatever cluster is still running. Call when the exercise is over.
    public func shutdown() async {
        await stopInstance()
    }

    // MARK: - Cluster lifecycle

    private func current() async throws -> Instance {
        if let instance { return instance }
        let started = try await startInstance()
        instance = started
        return started
    }

    private func startInstance() async throws -> Instance {
        generation += 1
        let root = workRoot.appendingPathComponent("cluster-\(generation)")
        let dataRoot = root.appendingPathComponent("data")
        let cluster = await SimulatedCluster(dataRoot: dataRoot)
        var options = LonghornSimulation.Options(dataRoot: root.appendingPathComponent("longhorn"),
            storeResolver: LonghornSimulation.Options.folderStores(root: storeRoot))
        options.personality = personality
        options.backupTargetURL = targetURL
        let longhorn = LonghornSimulation(cluster: cluster, options: options)
        try await longhorn.install()
        let (ready, readyContinuation) = AsyncStream.makeStream(of: SimulatorServer.Endpoint.self)
        // The cluster lives until destroy cancels this task; everything it runs is its child.
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await cluster.runControllers() }
                group.addTask { await longhorn.run() }
                group.addTask { try? await SimulatorServer.run(cluster) { readyContinuation.yield($0) } }
                await group.waitForAll()
            }
        }
        var iterator = ready.makeAsyncIterator()
        guard let endpoint = await iterator.next() else {
            task.cancel()
            throw DRError(.infrastructure, subject: "simulated cluster", detail: "the API server did not start")
        }
        let kubeconfig = root.appendingPathComponent("kubeconfig")
        try AtomicFile.write(Data(endpoint.kubeconfig().utf8), to: kubeconfig)
        let resolved = try KubeconfigLoader().load(.init(kubeconfigPath: kubeconfig.path))
        let client = try KubeClient(cluster: resolved)
        do {
            let longhornClient = try await LonghornClient.connect(kube: client)
            try await applyFault(to: longhorn, client: client)
            log("  simulated cluster \(config.cluster.name) #\(generation) at \(endpoint.url) (Longhorn \(personality))")
            return Instance(cluster: cluster, longhorn: longhorn, client: client, longhornClient: longhornClient, endpoint: endpoint,
                dataRoot: dataRoot, task: task)
        } catch {
            // Nothing may outlive a failed start: the HTTP client and the cluster's task end here.
            try? await client.shutdown()
            task.cancel()
            _ = await task.value
            throw error
        }
    }

    private func applyFault(to longhorn: LonghornSimulation, client: KubeClient) async throws {
        switch fault {
        case .backupError: await longhorn.faults.set(backupError: "simulated fault: replica failed to upload")
        case .staleSnapshot: await longhorn.faults.set(staleSnapshots: true)
        case .restoreFault where generation > 1: await longhorn.faults.set(restoreFaults: true)
        case .skipRestore where generation > 1:
            if try await client.getIfPresent(.namespaces, name: "flux-system") == nil {
                try await client.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "flux-system"]])
            }
            try await client.apply(.configMaps, namespace: "flux-system", object: ["apiVersion": "v1", "kind": "ConfigMap",
                "metadata": ["name": "cluster-config", "namespace": "flux-system"], "data": ["skip_backup_restore": "true"]],
                fieldManager: "simulated-fault")
        default: break
        }

    }

    private func stopInstance() async {
        guard let instance else { return }
        try? await instance.client.shutdown()
        instance.task.cancel()
        _ = await instance.task.value
        self.instance = nil
    }

    // MARK: - Phases

    public func preflight() async throws -> [String: String] {
        for tool in ["mke2fs", "debugfs", "unshare"] where Self.which(tool) == nil {
            throw DRError(.environment, subject: "tool \(tool)", detail: "not found on PATH", hint: "apt-get install e2fsprogs util-linux")
        }
        // Pods run real processes: find out now, not half-way through, whether this machine lets them.
        switch PodSandbox.current {
        case .success(let sandbox): log("  simulated pods run \(sandbox)")
        case .failure(let error):
            throw DRError(.environment, subject: "the simulated cluster's pods", detail: error.message,
                hint: "the simulated exercise runs pod commands as real processes in Linux namespaces; it needs root or unprivileged user namespaces (Linux only)")
        }
        let instance = try await current()
        return ["longhorn": instance.longhornClient.version.description, "apiServer": instance.endpoint.url, "backupTarget": targetURL]
    }

    public func clusterFingerprint() async throws -> String {
        try await ExerciseWorkload.fingerprint(current().client)
    }

    private func workload(_ workload: ExerciseConfig.Workload) async throws -> ExerciseWorkload {
        let instance = try await current()
        return ExerciseWorkload(config: config, workload: workload, client: instance.client, longhorn: instance.longhornClient)
    }

    public func backupInventory(_ workload: ExerciseConfig.Workload) async throws -> [String: String] {
        try await self.workload(workload).backupInventory()
    }

    /// What the cluster's bootstrap does: the restore Job (failing when any volume fails, as the
    /// real Job does), then Flux applies the workloads.
    private func bootstrap(_ instance: Instance) async throws -> [VolumeOutcome] {
        let restore = ExerciseWorkload.setupRestoreConfig(config, statusConfigMap: RestoreConfig.Defaults.statusConfigMap)
        let port = LonghornRestorePort(longhorn: instance.longhornClient)
        let log = self.log
        let outcomes = await RestoreOrchestrator(config: restore, port: port, log: { log("    restore: \($0)") }).run()
        let failed = outcomes.filter { !$0.succeeded }
        guard failed.isEmpty, outcomes.count == config.workloads.count else {
            throw DRError(.infrastructure, subject: "restore orchestrator", detail: failed.map { "\($0.volume): \($0.message)" }.joined(separator: "; "))
        }
        for workload in config.workloads {
            try await self.workload(workload).applyWorkload()
        }
        return outcomes
    }

    public func setUpWorkloads() async throws -> [String: [String: String]] {
        let instance = try await current()
        let outcomes = try await bootstrap(instance)
        var facts: [String: [String: String]] = [:]
        for workload in config.workloads {
            let pod = try await self.workload(workload).runningPod()
            facts[workload.volume] = ["pod": pod, "bootstrapDecision": outcomes.first { $0.volume == workload.volume }?.decision ?? ""]
        }
        return facts
    }

    public func writeSentinel(_ bytes: Data, into workload: ExerciseConfig.Workload) async throws -> Data {
        try await self.workload(workload).writeSentinel(bytes)
    }

    public func backUp(_ workload: ExerciseConfig.Workload) async throws -> BackupEvidence {
        let evidence = try await self.workload(workload).backUp()
        if fault == .corruptBlock { try await corruptOneBlock() }
        return evidence
    }

    /// Flips one byte of one stored block, as bit rot or a bad upload would.
    private func corruptOneBlock() async throws {
        let blocks = FileManager.default.enumerator(at: storeRoot, includingPropertiesForKeys: nil)?.allObjects
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "blk" } ?? []
        guard let victim = blocks.sorted(by: { $0.path < $1.path }).first else { return }
        var bytes = try Data(contentsOf: victim)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: victim)
        log("  simulated fault: corrupted \(victim.lastPathComponent) in the store")
    }

    public func verifyInStore(_ backup: BackupEvidence) async throws -> [String: String] {
        // Straight from the store: nothing here asks the cluster.
        let store = LonghornSimulation.Options.folderStores(root: storeRoot)(targetURL)
        guard let store else { throw DRError(.infrastructure, subject: "backup store \(targetURL)", detail: "cannot be opened") }
        let reader = BackupReader(store: store, layout: BackupstoreLayout(targetURL: targetURL))
        let image = workRoot.appendingPathComponent("verify-\(backup.backupName).img")
        defer { try? FileManager.default.removeItem(at: image) }
        let result = try await reader.restore(volume: backup.volume, backup: backup.backupName, to: image)
        let sentinel = try await Ext4FileExtractor.extract(path: config.sentinel.file, from: image, into: workRoot)
        return ["blocksVerified": String(result.blocksVerified), "bytesVerified": String(result.bytesVerified),
            "storeSentinelSHA256": sentinel.sha256, "storeSentinelBytes": String(sentinel.size)]
    }

    public func destroy() async throws {
        await stopInstance()
        log("  the simulated cluster is gone; only the backup store remains")
    }

    public func rebuild() async throws {
        instance = try await startInstance()
    }

    public func waitReady() async throws -> [String: String] {
        let instance = try await current()
        // The bootstrap's orchestrator waits for Longhorn and the target itself, as the real Job does.
        _ = try await bootstrap(instance)
        if fault == .damageOneVolume, let victim = config.workloads.last {
            let file = instance.dataRoot.appendingPathComponent("volumes").appendingPathComponent(victim.volume).appendingPathComponent(config.sentinel.file)
            let size = (try? Data(contentsOf: file).count) ?? Int(config.sentinel.size.bytes)
            try Data(repeating: 0, count: size).write(to: file)
            log("  simulated fault: overwrote \(config.sentinel.file) in restored volume \(victim.volume)")
        }
        // The same proof the real run gives, read back from the cluster: its identity and the
        // orchestrator's published status.
        let status = try await instance.client.get(.configMaps, namespace: config.longhorn.namespace, name: RestoreConfig.Defaults.statusConfigMap)
        return ["clusterFingerprint": try await ExerciseWorkload.fingerprint(instance.client),
            "restoreStartedAt": status[path: ["data", "startedAt"]]?.stringValue ?? ""]
    }

    public func workloadReady(_ workload: ExerciseConfig.Workload) async throws -> [String: String] {
        let exercise = try await self.workload(workload)
        let pod = try await exercise.runningPod()
        var facts = try await exercise.restoreRecord()
        facts["pod"] = pod
        return facts
    }

    public func readSentinel(from workload: ExerciseConfig.Workload) async throws -> Data {
        try await self.workload(workload).readSentinel()
    }

    // MARK: - Tools

    static func which(_ tool: String) -> String? { ToolRunner.locate(tool) }

    static func run(_ tool: String, _ arguments: [String]) async throws -> String {
        do {
            return try await ToolRunner.run(tool, arguments)
        } catch {
            throw DRError(.environment, subject: tool, detail: "\(error)")
        }
    }
}

import Backupstore
import Crypto
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
        /// The rebuilt cluster's restore faults (RestoreFailure).
        case restoreFault = "restore-fault"
        /// The rebuilt cluster's bootstrap starts the volume fresh instead of restoring it (the
        /// original plan's silent-empty-volume defect): the data does not come back.
        case skipRestore = "skip-restore"
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

    var volume: String { config.workload.volume }
    var sentinelPath: String { (config.workload.mountPath as NSString).appendingPathComponent(config.sentinel.file) }

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
        let cluster = await SimulatedCluster(dataRoot: root.appendingPathComponent("data"))
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
        try FileJournalStore.writePrivate(Data(endpoint.kubeconfig().utf8), to: kubeconfig)
        let resolved = try KubeconfigLoader().load(.init(kubeconfigPath: kubeconfig.path))
        let client = try KubeClient(cluster: resolved)
        do {
            let longhornClient = try await LonghornClient.connect(kube: client)
            try await applyFault(to: longhorn, client: client)
            log("  simulated cluster \(config.cluster.name) #\(generation) at \(endpoint.url) (Longhorn \(personality))")
            return Instance(cluster: cluster, longhorn: longhorn, client: client, longhornClient: longhornClient, endpoint: endpoint, task: task)
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
        let instance = try await current()
        return ["longhorn": instance.longhornClient.version.description, "apiServer": instance.endpoint.url, "backupTarget": targetURL]
    }

    public func clusterFingerprint() async throws -> String {
        let instance = try await current()
        let uid = try await instance.client.get(.namespaces, name: "kube-system")[path: ["metadata", "uid"]]?.stringValue ?? "?"
        return "\(instance.endpoint.url) kube-system=\(uid)"
    }

    /// What the cluster's bootstrap does (the restore Job before Flux applies the workloads).
    private func bootstrap(_ instance: Instance) async throws -> VolumeOutcome {
        let restore = RestoreConfig(
            longhornNamespace: config.longhorn.namespace, backupTarget: config.longhorn.backupTarget, syncTimeout: .seconds(60),
            restoreTimeout: .seconds(300), concurrency: 1, skipFlag: RestoreConfig.Defaults.skipFlag,
            volumes: [RestoreConfig.Volume(name: volume, pvcNamespace: config.workload.namespace, pvcName: config.workload.pvc,
                size: config.workload.size, replicas: 3, storageClass: config.workload.storageClass, fsType: .ext4,
                accessMode: .readWriteOnce, restore: .latest, onMissingBackup: .fresh)])
        let port = LonghornRestorePort(longhorn: instance.longhornClient)
        let log = self.log
        let outcomes = await RestoreOrchestrator(config: restore, port: port, log: { log("    restore: \($0)") }).run()
        guard let outcome = outcomes.first, outcome.succeeded else {
            throw DRError(.infrastructure, subject: "restore orchestrator", detail: outcomes.first?.message ?? "no outcome")
        }
        try await applyWorkload(instance)
        return outcome
    }

    private func applyWorkload(_ instance: Instance) async throws {
        let client = instance.client
        let ns = config.workload.namespace
        if try await client.getIfPresent(.namespaces, name: ns) == nil {
            try await client.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(ns)]])
        }
        let pvc: JSONValue = ["apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": ["name": .string(config.workload.pvc), "namespace": .string(ns)],
            "spec": ["accessModes": ["ReadWriteOnce"], "storageClassName": .string(config.workload.storageClass),
                "volumeName": .string(volume), "resources": ["requests": ["storage": .string(config.workload.size.description)]]]]
        try await client.apply(.persistentVolumeClaims, namespace: ns, object: pvc, fieldManager: "longhorn-dr-exercise", force: true)
        let labels: JSONValue = ["app.kubernetes.io/name": .string(config.workload.deployment)]
        let deployment: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(config.workload.deployment), "namespace": .string(ns)],
            "spec": ["replicas": 1, "selector": ["matchLabels": labels], "strategy": ["type": "Recreate"],
                "template": ["metadata": ["labels": labels], "spec": [
                    "containers": [["name": "workload", "image": .string(config.workload.image), "command": ["sleep", "infinity"],
                        "volumeMounts": [["name": "data", "mountPath": .string(config.workload.mountPath)]]]],
                    "volumes": [["name": "data", "persistentVolumeClaim": ["claimName": .string(config.workload.pvc)]]]]]]]
        try await client.apply(.deployments, namespace: ns, object: deployment, fieldManager: "longhorn-dr-exercise", force: true)
    }

    /// The workload's running pod.
    private func workloadPod(_ instance: Instance, timeout: Duration = .seconds(120)) async throws -> String {
        let ns = config.workload.namespace
        let selector = "app.kubernetes.io/name=\(config.workload.deployment)"
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let events = instance.client.watch(.pods, namespace: ns, labelSelector: selector)
        var pods: [String: JSONValue] = [:]
        for try await event in events {
            switch event {
            case .relisted(let items): pods = Dictionary(items.compactMap { i in i[path: ["metadata", "name"]]?.stringValue.map { ($0, i) } }, uniquingKeysWith: { $1 })
            case .added(let pod), .modified(let pod):
                if let name = pod[path: ["metadata", "name"]]?.stringValue { pods[name] = pod }
            case .deleted(let pod):
                if let name = pod[path: ["metadata", "name"]]?.stringValue { pods[name] = nil }
            }
            if let running = pods.values.first(where: { $0[path: ["status", "phase"]] == "Running" && $0[path: ["metadata", "deletionTimestamp"]] == nil }),
                let name = running[path: ["metadata", "name"]]?.stringValue
            {
                return name
            }
            if clock.now > deadline { break }
        }
        throw DRError(.infrastructure, subject: "deployment \(ns)/\(config.workload.deployment)", detail: "no pod is Running after \(timeout)",
            hint: "kubectl -n \(ns) describe pods -l \(selector)")
    }

    public func setUpWorkload() async throws -> [String: String] {
        let instance = try await current()
        let outcome = try await bootstrap(instance)
        let pod = try await workloadPod(instance)
        return ["pod": pod, "bootstrapDecision": outcome.decision]
    }

    public func writeSentinel(_ bytes: Data) async throws -> Data {
        let instance = try await current()
        let pod = try await workloadPod(instance)
        // A fixed script; the path is a positional argument, never part of the script text.
        let result = try await instance.client.exec(namespace: config.workload.namespace, pod: pod,
            command: ["sh", "-c", "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\" && sync && cat \"$1\"", "sh", sentinelPath], stdin: bytes)
        guard result.exitCode == 0 else {
            throw DRError(.infrastructure, subject: "pod \(config.workload.namespace)/\(pod)", detail: "writing \(sentinelPath) exited \(result.exitCode): \(result.stderrText)")
        }
        return result.stdout
    }

    public func backUp() async throws -> BackupEvidence {
        let instance = try await current()
        let longhorn = instance.longhornClient
        let snapshot = try await longhorn.createSnapshot(volume: volume)
        _ = try await longhorn.waitForSnapshot(snapshot.metadata.name, timeout: .seconds(120))
        let backup = try await longhorn.createBackup(snapshot: snapshot.metadata.name, volume: volume, target: config.longhorn.backupTarget)
        let done = try await longhorn.waitForBackup(backup.metadata.name, timeout: .seconds(600))
        if fault == .corruptBlock { try await corruptOneBlock() }
        return BackupEvidence(backupName: done.metadata.name, url: done.status?.url ?? "", state: done.status?.state ?? "",
            snapshotCreatedAt: done.status?.snapshotCreatedAt ?? "", volume: volume)
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
        let extracted = workRoot.appendingPathComponent("verify-\(backup.backupName).sentinel")
        defer { try? FileManager.default.removeItem(at: extracted) }
        _ = try await Self.run("debugfs", ["-R", "dump /\(config.sentinel.file) \(extracted.path)", image.path])
        let bytes = FileManager.default.contents(atPath: extracted.path) ?? Data()
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        return ["blocksVerified": String(result.blocksVerified), "bytesVerified": String(result.bytesVerified),
            "storeSentinelSHA256": sha]
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
        _ = try await instance.longhornClient.waitUntilReadyForRestore(target: config.longhorn.backupTarget, timeout: .seconds(120))
        let outcome = try await bootstrap(instance)
        let pod = try await workloadPod(instance)
        return ["pod": pod, "restoreDecision": outcome.decision, "restoredFrom": outcome.backup ?? "", "restoreDuration": DurationText.format(outcome.duration)]
    }

    public func readSentinel() async throws -> Data {
        let instance = try await current()
        let pod = try await workloadPod(instance)
        let result = try await instance.client.exec(namespace: config.workload.namespace, pod: pod, command: ["cat", sentinelPath])
        guard result.exitCode == 0 else {
            // A missing or unreadable sentinel means the data did not come back: a verification failure.
            throw DRError(.verificationFailed, subject: "pod \(config.workload.namespace)/\(pod)", detail: "reading \(sentinelPath) exited \(result.exitCode): \(result.stderrText)")
        }
        return result.stdout
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

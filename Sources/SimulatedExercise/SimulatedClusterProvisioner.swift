import Backupstore
import ClusterExercise
import DRCore
import Exercise
import Foundation
import KubeClient
import KubeModels
import Longhorn
import Simulator

/// The built-in simulated cluster as a provisioner: each "cluster" is a simulated API server
/// with Longhorn, served over HTTPS on loopback; destroying it throws away everything but the
/// backup store (a folder standing in for the bucket); rebuilding starts a new one and runs its
/// bootstrap as Flux would: the restore orchestrator's objects as they ship (its Job runs this
/// very binary as a pod, with the in-cluster config and RBAC enforced), and once the Job is
/// Complete (the gate) the workloads. The exercise's phases are `ClusterExerciseEnvironment`'s,
/// the same code a real cluster gets.
public actor SimulatedClusterProvisioner: ClusterProvisioner {
    /// Ways to break the simulated run on purpose, to see the exercise say FAIL.
    public enum Fault: String, Sendable, CaseIterable {
        /// Longhorn ends the backup in state Error.
        case backupError = "backup-error"
        /// A block of the backup is corrupted in the store after the upload.
        case corruptBlock = "corrupt-block"
        /// The snapshot misses the sentinel just written (taken before the write reached the
        /// volume): the backup completes and every block verifies, but the sentinel is not in it.
        case staleSnapshot = "stale-snapshot"
        /// The rebuilt cluster's restore faults (RestoreFailure): its Job fails, the gate stays shut.
        case restoreFault = "restore-fault"
        /// The rebuilt cluster's bootstrap starts the volume fresh instead of restoring it (the
        /// original plan's silent-empty-volume defect): the data does not come back.
        case skipRestore = "skip-restore"
        /// After the rebuilt cluster restored everything, the last workload's sentinel is
        /// overwritten in its volume (a restore that brought back the wrong bytes): that volume
        /// FAILs, the others PASS.
        case damageOneVolume = "damage-one-volume"
    }

    struct Instance {
        var cluster: SimulatedCluster
        var longhorn: LonghornSimulation
        var endpoint: SimulatorServer.Endpoint
        var connection: ClusterConnection
        /// Where the cluster keeps its volumes' contents.
        var dataRoot: URL
        /// The server and controllers; stopped by destroy (or when the provisioner ends).
        var running: RunningSimulator
    }

    let config: ExerciseConfig
    let personality: LonghornPersonality
    let workRoot: URL
    /// The bucket stand-in: the one folder that outlives every cluster.
    public nonisolated let storeRoot: URL
    let targetURL: String
    let fault: Fault?
    let log: @Sendable (String) -> Void
    private var instance: Instance?
    private var generation = 0

    public init(
        config: ExerciseConfig, personality: LonghornPersonality = .default, workRoot: URL, fault: Fault? = nil,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.config = config
        self.personality = personality
        self.workRoot = workRoot
        self.storeRoot = workRoot.appendingPathComponent("backupstore")
        self.targetURL = "s3://longhorn-dr-sim@us-east-1/\(config.cluster.name)/"
        self.fault = fault
        self.log = log
    }

    /// How the workstation reads this provisioner's store: the folder, straight.
    public nonisolated var storeOpener: FolderStoreOpener { FolderStoreOpener(root: storeRoot) }

    // MARK: - ClusterProvisioner

    public func connect() async throws -> ClusterConnection {
        if let instance { return instance.connection }
        // The bootstrap's Job is a real process: without a sandbox it would never run, and the
        // run would wait out its budget instead of saying why.
        if case .failure(let error) = PodSandbox.current {
            throw DRError(
                .environment, subject: "the simulated cluster's pods", detail: error.message,
                hint:
                    "the simulated exercise runs pod commands as real processes in Linux namespaces; it needs root or unprivileged user namespaces (Linux only)"
            )
        }
        let started = try await startInstance()
        instance = started
        return started.connection
    }

    /// The simulated cluster makes filesystems and runs pods as real processes: the tools and
    /// the sandbox must be there before the run begins.
    public func preflightProblems() async -> [String] {
        var problems: [String] = []
        for tool in ["mke2fs", "unshare"] where ToolRunner.locate(tool) == nil {
            problems.append("\(tool) is not installed; the simulated cluster needs it (apt-get install e2fsprogs util-linux)")
        }
        if case .success(let sandbox) = PodSandbox.current { log("  simulated pods run \(sandbox)") }
        return problems
    }

    public func destroy() async throws {
        await stopInstance()
        log("  the simulated cluster is gone; only the backup store remains")
    }

    public func rebuild() async throws {
        await stopInstance()
        instance = try await startInstance()
    }

    public func shutdown() async {
        await stopInstance()
    }

    // MARK: - Cluster lifecycle

    private func startInstance() async throws -> Instance {
        generation += 1
        let root = workRoot.appendingPathComponent("cluster-\(generation)")
        let dataRoot = root.appendingPathComponent("data")
        let cluster = await SimulatedCluster(dataRoot: dataRoot)
        var options = LonghornSimulation.Options(
            dataRoot: root.appendingPathComponent("longhorn"),
            storeResolver: LonghornSimulation.Options.folderStores(root: storeRoot))
        options.personality = personality
        options.backupTargetURL = targetURL
        let longhorn = LonghornSimulation(cluster: cluster, options: options)
        try await longhorn.install()
        let running: RunningSimulator
        do {
            running = try await RunningSimulator.start(cluster, alongside: [{ await longhorn.run() }])
        } catch {
            throw DRError(.infrastructure, subject: "simulated cluster", detail: "the API server did not start: \(error)")
        }
        let endpoint = running.endpoint
        do {
            let kubeconfig = root.appendingPathComponent("kubeconfig")
            try AtomicFile.write(Data(endpoint.kubeconfig().utf8), to: kubeconfig)
            let connection = ClusterConnection(cluster: try KubeconfigLoader().load(.init(kubeconfigPath: kubeconfig.path)))
            log("  simulated cluster \(config.cluster.name) #\(generation) at \(endpoint.url) (Longhorn \(personality))")
            let started = Instance(cluster: cluster, longhorn: longhorn, endpoint: endpoint, connection: connection, dataRoot: dataRoot, running: running)
            try await bootstrap(started)
            return started
        } catch {
            // Nothing may outlive a failed start: the cluster stops here.
            await running.stop()
            throw error
        }
    }

    private func stopInstance() async {
        guard let instance else { return }
        self.instance = nil
        await instance.running.stop()
    }

    // MARK: - Bootstrap

    /// What Flux does on a new cluster, in its order: the restore orchestrator's objects (the
    /// shipped manifests, with a restore config listing every exercise volume), its Job run to
    /// the end, then, only when it is Complete, the workloads.
    private func bootstrap(_ instance: Instance) async throws {
        let client = try KubeClient(cluster: instance.connection.cluster)
        defer { Task { try? await client.shutdown() } }
        try await applyFaults(instance, client: client)
        let namespace = config.longhorn.namespace
        let job = try await applyRestoreOrchestrator(instance, client: client)
        log("  bootstrap: waiting for Job \(namespace)/\(job) (the restore orchestrator) to finish")
        let finished = try await client.waitFor(.jobs, namespace: namespace, name: job, timeout: .seconds(3_000), until: "Complete or Failed") {
            ClusterExerciseEnvironment.condition($0, "Complete") || ClusterExerciseEnvironment.condition($0, "Failed")
        }
        await echoJobLog(client, namespace: namespace, job: job)
        guard ClusterExerciseEnvironment.condition(finished, "Complete") else {
            log("  bootstrap: the Job failed; the gate stays shut and the workloads are not applied")
            return
        }
        let longhorn = try await LonghornClient.connect(kube: client, namespace: namespace)
        for workload in config.workloads {
            try await ExerciseWorkload(config: config, workload: workload, client: client, longhorn: longhorn).applyWorkload(onlyIfMissing: true)
        }
        log("  bootstrap: the gate passed; the workloads are applied")
        if fault == .damageOneVolume, generation > 1, let victim = config.workloads.last {
            let file = instance.dataRoot.appendingPathComponent("volumes").appendingPathComponent(victim.volume).appendingPathComponent(config.sentinel.file)
            let size = (try? Data(contentsOf: file).count) ?? Int(config.sentinel.size.bytes)
            try Data(repeating: 0, count: size).write(to: file)
            log("  simulated fault: overwrote \(config.sentinel.file) in restored volume \(victim.volume)")
        }
    }

    /// Applies the shipped manifests (server-side, as Flux's kustomize-controller does) and the
    /// restore config ConfigMap the Job mounts. Its containers' image runs this binary.
    /// - Returns: the Job's name.
    private func applyRestoreOrchestrator(_ instance: Instance, client: KubeClient) async throws -> String {
        // The skip flag's Role lives in flux-system, as on a Flux cluster.
        for namespace in ["flux-system", config.longhorn.namespace] where try await client.getIfPresent(.namespaces, name: namespace) == nil {
            try await client.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        }
        var jobName: String?
        for (file, yaml) in ShippedManifests.restoreOrchestrator {
            for object in try YAMLBody.documents(yaml) {
                guard let resource = Self.resource(of: object) else {
                    throw DRError(
                        .infrastructure, subject: "shipped manifest \(file)",
                        detail: "has an object of kind \(object["kind"]?.stringValue ?? "?") the simulated bootstrap cannot apply")
                }
                if resource == .jobs {
                    jobName = object[path: ["metadata", "name"]]?.stringValue
                    try await prepareJob(object, instance: instance, client: client)
                }
                try await client.apply(
                    resource, namespace: resource.namespaced ? object[path: ["metadata", "namespace"]]?.stringValue : nil,
                    object: object, fieldManager: "kustomize-controller", force: true)
            }
        }
        guard let jobName else { throw DRError(.infrastructure, subject: "shipped manifests", detail: "hold no restore Job") }
        return jobName
    }

    /// The ConfigMap the Job mounts (generated from the exercise config), and its image mapped
    /// to the folder of the running binary, so the pod runs exactly this build.
    private func prepareJob(_ job: JSONValue, instance: Instance, client: KubeClient) async throws {
        let namespace = job[path: ["metadata", "namespace"]]?.stringValue ?? config.longhorn.namespace
        let volumes = job[path: ["spec", "template", "spec", "volumes"]]?.arrayValue ?? []
        guard let configMap = volumes.compactMap({ $0[path: ["configMap", "name"]]?.stringValue }).first else {
            throw DRError(.infrastructure, subject: "shipped Job", detail: "mounts no restore ConfigMap")
        }
        let restore = ExerciseWorkload.setupRestoreConfig(config, statusConfigMap: RestoreConfig.Defaults.statusConfigMap)
        try await client.apply(
            .configMaps, namespace: namespace,
            object: [
                "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(configMap), "namespace": .string(namespace)],
                "data": [.init(RestoreConfig.Defaults.configMapKey): .string(restore.yamlText())],
            ], fieldManager: "kustomize-controller", force: true)
        let binary = try Self.runningBinary()
        for container in job[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? [] {
            if let image = container["image"]?.stringValue {
                await instance.cluster.runtime.setImageBin(image, folder: binary.deletingLastPathComponent().path)
            }
        }
    }

    /// This process's executable, which the Job's `longhorn-dr` command must find.
    static func runningBinary() throws -> URL {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        guard binary.lastPathComponent == "longhorn-dr" else {
            throw DRError(
                .environment, subject: "the simulated restore Job", detail: "runs the longhorn-dr binary, but this process is \(binary.path)",
                hint: "run the simulated exercise from the longhorn-dr binary (swift run longhorn-dr exercise --simulate)")
        }
        return binary
    }

    private func applyFaults(_ instance: Instance, client: KubeClient) async throws {
        let faults = instance.longhorn.faults
        switch fault {
        case .backupError: await faults.set(backupError: "simulated fault: replica failed to upload")
        case .corruptBlock: await faults.set(corruptUploadedBlock: true)
        case .staleSnapshot: await faults.set(staleSnapshots: true)
        case .restoreFault where generation > 1: await faults.set(restoreFaults: true)
        case .skipRestore where generation > 1:
            let flag = RestoreConfig.Defaults.skipFlag
            if try await client.getIfPresent(.namespaces, name: flag.namespace) == nil {
                try await client.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(flag.namespace)]])
            }
            try await client.apply(
                .configMaps, namespace: flag.namespace,
                object: [
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": ["name": .string(flag.configMap), "namespace": .string(flag.namespace)], "data": [.init(flag.key): "true"],
                ],
                fieldManager: "simulated-fault")
        default: break
        }
    }

    /// The Job's log, indented under the bootstrap's lines: what a user would read with kubectl logs.
    private func echoJobLog(_ client: KubeClient, namespace: String, job: String) async {
        let pods = (try? await client.list(.pods, namespace: namespace, labelSelector: "job-name=\(job)"))?.items ?? []
        for pod in pods {
            guard let name = pod[path: ["metadata", "name"]]?.stringValue, let text = try? await client.logs(namespace: namespace, pod: name) else { continue }
            for line in text.split(separator: "\n") { log("    \(name): \(line)") }
        }
    }

    /// The resource of each kind the shipped manifests hold.
    static func resource(of object: JSONValue) -> GroupVersionResource? {
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let parts = apiVersion.split(separator: "/").map(String.init)
        let (group, version) = parts.count == 2 ? (parts[0], parts[1]) : ("", apiVersion)
        let kinds: [String: (plural: String, namespaced: Bool)] = [
            "ServiceAccount": ("serviceaccounts", true), "ConfigMap": ("configmaps", true), "Job": ("jobs", true),
            "Role": ("roles", true), "RoleBinding": ("rolebindings", true),
            "ClusterRole": ("clusterroles", false), "ClusterRoleBinding": ("clusterrolebindings", false),
            "ValidatingAdmissionPolicy": ("validatingadmissionpolicies", false),
            "ValidatingAdmissionPolicyBinding": ("validatingadmissionpolicybindings", false),
        ]
        guard let kind = object["kind"]?.stringValue, let entry = kinds[kind] else { return nil }
        return GroupVersionResource(group: group, version: version, resource: entry.plural, namespaced: entry.namespaced)
    }
}

/// The simulated store read straight from its folder, as the S3 opener reads a real bucket.
public struct FolderStoreOpener: BackupStoreOpener {
    let root: URL

    public init(root: URL) {
        self.root = root
    }

    public func withStore<T: Sendable>(target: String, longhorn: LonghornClient, _ body: (OpenedStore) async throws -> T) async throws -> T {
        guard let url = try await longhorn.backupTargetURL(target), let store = LonghornSimulation.Options.folderStores(root: root)(url) else {
            throw DRError(.infrastructure, subject: "backup target \(target)", detail: "has no URL the simulated store holds")
        }
        return try await body(OpenedStore(url: url, store: store, layout: BackupstoreLayout(targetURL: url)))
    }
}

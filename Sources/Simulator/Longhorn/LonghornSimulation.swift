import Backupstore
import Foundation
import KubeModels

/// A simulated Longhorn manager: installs Longhorn's CRDs and settings into a simulated cluster
/// and runs its controllers with a chosen version's behaviour, over a real backup store in
/// Longhorn's format. Volumes hold real files (a folder per volume); a backup turns that folder
/// into an ext4 image (`mke2fs -d`) cut into blocks, a restore reads the blocks back, verifies
/// them and unpacks the image (`debugfs rdump`).
public final class LonghornSimulation: Sendable {
    public struct Options: Sendable {
        public var personality = LonghornPersonality.default
        public var namespace = "longhorn-system"
        /// The target `BackupTarget/default` starts with (Helm's `defaultBackupStore.backupTarget`).
        public var backupTargetURL: String?
        public var credentialSecret: String?
        /// How often targets re-read the store on their own (Longhorn's default is 300 s).
        public var pollInterval: Duration = .seconds(300)
        /// The time between the hops of a sync: target listed → each BackupVolume listed → each
        /// Backup read, and (v1.7 and older) Settings → BackupTarget `default` created. Longhorn
        /// runs these in separate controller passes, so a real sync takes seconds, not one pass.
        public var syncHopDelay: Duration = .seconds(1)
        /// Where volume contents, snapshots and scratch images live.
        public var dataRoot: URL
        /// Read the faults to simulate from ConfigMap `longhorn-dr-sim-faults` (key `faults`, names
        /// separated by commas) in the namespace on every pass, so a script can switch them with
        /// kubectl while the cluster runs (`sim serve`).
        public var faultsFromConfigMap = false
        /// The backup store behind a target URL (nil: unreachable).
        public var storeResolver: @Sendable (String) -> (any ObjectStore)?

        public init(dataRoot: URL, storeResolver: @escaping @Sendable (String) -> (any ObjectStore)?) {
            self.dataRoot = dataRoot
            self.storeResolver = storeResolver
        }

        /// Every target URL maps to a folder per bucket under `root` (what `sim serve --backupstore` uses).
        public static func folderStores(root: URL) -> @Sendable (String) -> (any ObjectStore)? {
            { url in
                guard let schemeEnd = url.range(of: "://") else { return nil }
                let rest = url[schemeEnd.upperBound...]
                let bucket = rest.prefix { $0 != "/" && $0 != "@" && $0 != "?" }
                guard !bucket.isEmpty else { return nil }
                return FileSystemObjectStore(root: root.appendingPathComponent(String(bucket)))
            }
        }
    }

    public let cluster: SimulatedCluster
    public let options: Options
    public let faults = LonghornFaults()
    let inFlight = InFlight()

    public init(cluster: SimulatedCluster, options: Options) {
        self.cluster = cluster
        self.options = options
    }

    var store: ClusterStore { cluster.store }
    var personality: LonghornPersonality { options.personality }
    var namespace: String { options.namespace }

    /// The folder holding a Longhorn volume's files: the cluster's volume data keyed by the
    /// volume name, which is the PV's `csi.volumeHandle`, so pods mounting the PV see these files.
    public func volumeDirectory(_ volume: String) -> URL {
        (try? cluster.volumes.directory(volumeKey: volume))
            ?? cluster.volumes.root.appendingPathComponent("volumes").appendingPathComponent(volume)
    }

    func snapshotDirectory(volume: String, snapshot: String) -> URL {
        options.dataRoot.appendingPathComponent("snapshots").appendingPathComponent(volume).appendingPathComponent(snapshot)
    }

    // MARK: - Install

    /// Creates the namespace, CRDs, settings, the default BackupTarget and Longhorn's workloads.
    public func install() async throws {
        try FileManager.default.createDirectory(at: options.dataRoot, withIntermediateDirectories: true)
        await store.addAdmission(LonghornWebhook(personality: personality))
        let namespaces = try await type("", "namespaces")
        if await store.find(namespaces, namespace: nil, name: namespace) == nil {
            try await store.create(namespaces, namespace: nil, object: ["metadata": ["name": .string(namespace)]])
        }
        let crds = try await type("apiextensions.k8s.io", "customresourcedefinitions")
        for definition in LonghornCRDs.definitions where await store.find(crds, namespace: nil, name: "\(definition.plural).longhorn.io") == nil {
            try await store.create(crds, namespace: nil, object: LonghornCRDs.crd(definition))
        }
        let settings = try await type(LonghornCRDs.group, "settings")
        var values: [String: String] = [
            "current-longhorn-version": personality.description, "backup-compression-method": "lz4",
            "default-replica-count": personality.atLeast(1, 10) ? #"{"v1":"3","v2":"3"}"# : "3",
        ]
        if personality.targetInSettings {
            values["backup-target"] = options.backupTargetURL ?? ""
            values["backup-target-credential-secret"] = options.credentialSecret ?? ""
            values["backupstore-poll-interval"] = String(options.pollInterval.components.seconds)
        }
        for (name, value) in values where await store.find(settings, namespace: namespace, name: name) == nil {
            try await store.create(settings, namespace: namespace, object: ["metadata": ["name": .string(name)], "value": .string(value)])
        }
        let targets = try await type(LonghornCRDs.group, "backuptargets")
        // ≤1.7: the Setting controller creates BackupTarget default later, from the Settings.
        if !personality.targetInSettings, await store.find(targets, namespace: namespace, name: "default") == nil {
            try await store.create(
                targets, namespace: namespace,
                object: defaultBackupTarget(url: options.backupTargetURL ?? "", credentialSecret: options.credentialSecret ?? ""))
        }
        try await installWorkloads()
        await cluster.provisioners.register(driver: "driver.longhorn.io", hook: LonghornCSIHook(simulation: self))
    }

    /// The manager and CSI workloads a readiness check looks at: DaemonSets reported rolled out
    /// (no DaemonSet controller here), and the CSI sidecar Deployments run by the workload
    /// controllers and the kubelet like any other Deployment.
    private func installWorkloads() async throws {
        if let deployments = await store.type(group: "apps", resource: "deployments") {
            for name in ["csi-attacher", "csi-provisioner", "csi-resizer", "csi-snapshotter"]
            where await store.find(deployments, namespace: namespace, name: name) == nil {
                let labels: JSONValue = ["app": .string(name)]
                try await store.create(
                    deployments, namespace: namespace,
                    object: [
                        "metadata": ["name": .string(name), "labels": labels],
                        "spec": [
                            "replicas": 1, "selector": ["matchLabels": labels],
                            "template": [
                                "metadata": ["labels": labels],
                                "spec": [
                                    "containers": [
                                        [
                                            "name": .string(name),
                                            "image": .string("longhornio/\(name):simulated"), "command": ["sleep", "infinity"],
                                        ]
                                    ]
                                ],
                            ],
                        ],
                    ])
            }
        }
        let labels: JSONValue = ["app": "longhorn-manager"]
        if let daemonSets = await store.type(group: "apps", resource: "daemonsets") {
            for name in ["longhorn-manager", "longhorn-csi-plugin"] where await store.find(daemonSets, namespace: namespace, name: name) == nil {
                try await store.create(
                    daemonSets, namespace: namespace,
                    object: [
                        "metadata": ["name": .string(name), "labels": labels],
                        "spec": [
                            "selector": ["matchLabels": ["app": .string(name)]],
                            "template": [
                                "metadata": ["labels": ["app": .string(name)]],
                                "spec": ["containers": [["name": .string(name), "image": .string("longhornio/longhorn-manager:\(personality)")]]],
                            ],
                        ],
                    ])
                try await store.patch(daemonSets, namespace: namespace, name: name, target: .status) { old throws(APIError) in
                    var ready = old
                    ready["status"] = [
                        "desiredNumberScheduled": 1, "currentNumberScheduled": 1, "numberReady": 1, "numberAvailable": 1,
                        "updatedNumberScheduled": 1, "observedGeneration": 1,
                    ]
                    return ready
                }
            }
        }
    }

    /// `BackupTarget/default` as Helm (1.8+) or the Setting controller (≤1.7) makes it.
    func defaultBackupTarget(url: String, credentialSecret: String) -> JSONValue {
        [
            "metadata": ["name": "default"],
            "spec": [
                "backupTargetURL": .string(url), "credentialSecret": .string(credentialSecret),
                "pollInterval": .string(Self.goDuration(options.pollInterval)),
            ],
        ]
    }

    /// Go's `time.Duration.String()`: `5m0s`, `1h0m0s`, `10s`.
    static func goDuration(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60)s" }
        return "\(seconds / 3600)h\((seconds % 3600) / 60)m\(seconds % 60)s"
    }

    func type(_ group: String, _ resource: String) async throws(APIError) -> ResourceType {
        guard let type = await store.type(group: group, resource: resource) else {
            throw APIError.internalError("\(resource).\(group) is not served; install() first")
        }
        return type
    }

    // MARK: - Run

    /// Runs Longhorn's controllers until cancelled. Long work (uploads, restores) runs in child
    /// tasks of this call, so cancelling it stops everything.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            while !Task.isCancelled {
                for job in await reconcile() {
                    group.addTask { await self.perform(job) }
                }
                // Level-triggered: a short period keeps restores snappy without busy CPU.
                try? await Task.sleep(for: .milliseconds(100))
            }
            group.cancelAll()
        }
    }

    enum Job: Sendable, Hashable {
        case backup(String)
        case restore(String)
    }

    /// One level-triggered pass over every Longhorn object; returns long jobs to start.
    func reconcile() async -> [Job] {
        // Each controller runs on its own: one failing must not stop the others.
        var jobs: [Job] = []
        if options.faultsFromConfigMap { await readFaults() }
        do { try await reconcileTargets() } catch { await inFlight.note("backup targets: \(error)") }
        do { try await reconcileBackupVolumes() } catch { await inFlight.note("backup volumes: \(error)") }
        do { jobs += try await reconcileBackups() } catch { await inFlight.note("backups: \(error)") }
        do { try await reconcileSnapshots() } catch { await inFlight.note("snapshots: \(error)") }
        do { jobs += try await reconcileVolumes() } catch { await inFlight.note("volumes: \(error)") }
        var started: [Job] = []
        for job in jobs where await inFlight.start(job) { started.append(job) }
        return started
    }

    static let faultsConfigMap = "longhorn-dr-sim-faults"

    /// Takes the faults the ConfigMap names; without the ConfigMap, none.
    func readFaults() async {
        guard let configMaps = await store.type(group: "", resource: "configmaps") else { return }
        let text = await store.find(configMaps, namespace: namespace, name: Self.faultsConfigMap)?[path: ["data", "faults"]]?.stringValue ?? ""
        let names = Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let unknown = await faults.set(named: names)
        if !unknown.isEmpty {
            await inFlight.note(
                "ConfigMap \(Self.faultsConfigMap): unknown faults \(unknown.joined(separator: ", ")); known: \(LonghornFaults.names.joined(separator: ", "))")
        }
    }

    /// The last error a controller pass hit, for tests and debugging.
    public var lastError: String? { get async { await inFlight.lastError } }

    func perform(_ job: Job) async {
        switch job {
        case .backup(let name): await performBackup(name)
        case .restore(let name): await performRestore(name)
        }
        await inFlight.finish(job)
    }

    var now: String { ClusterStore.timestamp(store.now()) }

    static func date(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        return ISO8601DateFormatter().date(from: text)
    }

    /// Patches status through the status subresource, ignoring objects that went away meanwhile.
    func setStatus(_ type: ResourceType, _ name: String, _ change: @escaping @Sendable (inout JSONValue) -> Void) async {
        _ = try? await store.patch(type, namespace: namespace, name: name, target: .status) { old throws(APIError) in
            var new = old
            var status = old["status"] ?? [:]
            change(&status)
            new["status"] = status
            return new
        }
    }

    func setSpec(_ type: ResourceType, _ name: String, _ change: @escaping @Sendable (inout JSONValue) -> Void) async {
        _ = try? await store.patch(type, namespace: namespace, name: name) { old throws(APIError) in
            var new = old
            change(&new)
            return new
        }
    }
}

/// Which long jobs are running, so a pass does not start one twice.
actor InFlight {
    private var running: Set<LonghornSimulation.Job> = []
    private(set) var lastError: String?

    func note(_ error: String) { lastError = error }

    func start(_ job: LonghornSimulation.Job) -> Bool { running.insert(job).inserted }
    func finish(_ job: LonghornSimulation.Job) { running.remove(job) }
}

/// What Longhorn's CSI driver does when the external provisioner asks it for a volume: a Longhorn
/// Volume named after the PV (`pvc-<claim uid>`, also its `volumeHandle`), sized from the claim;
/// deleting the PV (reclaim policy Delete) deletes the Volume. Registered for
/// `driver.longhorn.io` when the simulation is installed, replacing the bare folder hook.
struct LonghornCSIHook: VolumeProvisioningHook {
    let simulation: LonghornSimulation

    func createVolume(handle: String, capacityBytes: Int64, claim: JSONValue) async throws {
        let store = simulation.store
        let volumes = try await simulation.type(LonghornCRDs.group, "volumes")
        _ = simulation.volumeDirectory(handle)
        guard await store.find(volumes, namespace: simulation.namespace, name: handle) == nil else { return }
        let modes = claim[path: ["spec", "accessModes"]]?.arrayValue?.compactMap(\.stringValue) ?? []
        try await store.create(
            volumes, namespace: simulation.namespace,
            object: [
                "metadata": ["name": .string(handle)],
                "spec": [
                    "size": .string(String(capacityBytes)), "numberOfReplicas": 3, "frontend": "blockdev",
                    "accessMode": modes.contains("ReadWriteMany") ? "rwx" : "rwo",
                ],
            ])
    }

    func deleteVolume(handle: String) async throws {
        let volumes = try await simulation.type(LonghornCRDs.group, "volumes")
        if await simulation.store.find(volumes, namespace: simulation.namespace, name: handle) != nil {
            _ = try await simulation.store.delete(volumes, namespace: simulation.namespace, name: handle)
        }
        simulation.cluster.volumes.removeVolume(volumeKey: handle)
    }
}

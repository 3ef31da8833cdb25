import Foundation
import KubeClient
import KubeModels
import Simulator
import SimulatorTestSupport
import Synchronization
import Testing

@testable import Longhorn

/// A simulated cluster with the real Longhorn CRDs of one release registered through the API,
/// a `longhorn-system` namespace, and a recorder of every Longhorn object created. The test
/// plays Longhorn's controllers itself by patching `status` (the simulated manager is separate).
struct LonghornSimulator: Sendable {
    let kube: KubeClient
    let cluster: SimulatedCluster
    let crds: LonghornCRDs
    let recorder: CreationRecorder
    let namespace = "longhorn-system"

    var version: LonghornVersion { Fixtures.version(crds.release) }

    /// Starts the simulator (pattern of KubeClientTests' SimulatorHarness), installs the CRDs of
    /// `release`, sets `current-longhorn-version`, runs `body`, and stops everything.
    static func run<T: Sendable>(
        release: String, setVersion: Bool = true, _ body: @Sendable (LonghornSimulator) async throws -> T
    ) async throws -> T {
        let crds = try LonghornCRDs.load(release)
        let cluster = await SimulatedCluster()
        let recorder = CreationRecorder()
        await cluster.store.addAdmission(recorder)
        // Older simulators did not serve DaemonSets; serve them plainly there.
        if await cluster.store.type(group: "apps", resource: "daemonsets") == nil {
            await cluster.store.register(
                ResourceType(
                    group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet",
                    namespaced: true, shortNames: ["ds"], subresources: ["status"]))
        }
        return try await RunningSimulator.with(cluster) { running in
            let kube = try client(running.endpoint)
            do {
                let simulator = LonghornSimulator(kube: kube, cluster: cluster, crds: crds, recorder: recorder)
                try await simulator.install(setVersion: setVersion)
                let result = try await body(simulator)
                try await kube.shutdown()
                return result
            } catch {
                try? await kube.shutdown()
                throw error
            }
        }
    }

    static func client(_ endpoint: SimulatorServer.Endpoint) throws -> KubeClient {
        try SimulatorHarness.client(endpoint)
    }

    /// POSTs the release's CRDs as Longhorn's chart would, and the namespace.
    private func install(setVersion: Bool) async throws {
        try await kube.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        for name in crds.definitions.keys.sorted() {
            guard let definition = crds.definitions[name] else { continue }
            try await kube.create(.customResourceDefinitions, object: definition)
        }
        if setVersion {
            try await create(LonghornResources.settings, ["metadata": ["name": "current-longhorn-version"], "value": .string(crds.release)])
        }
    }

    func longhorn(now: @escaping @Sendable () -> Date = { Date() }) async throws -> LonghornClient {
        try await LonghornClient.connect(kube: kube, namespace: namespace, now: now)
    }

    // MARK: - Playing Longhorn

    @discardableResult
    func create(_ resource: GroupVersionResource, _ object: JSONValue) async throws -> JSONValue {
        var object = object
        object["apiVersion"] = .string(resource.apiVersion)
        object["kind"] = .string(Self.kinds[resource.resource] ?? "")
        object[path: ["metadata", "namespace"]] = .string(namespace)
        return try await kube.create(resource, namespace: namespace, object: object)
    }

    static let kinds = [
        "volumes": "Volume", "snapshots": "Snapshot", "backups": "Backup", "backupvolumes": "BackupVolume",
        "backuptargets": "BackupTarget", "settings": "Setting", "daemonsets": "DaemonSet", "deployments": "Deployment",
    ]

    /// Sets `status` fields the way a controller does (merge patch on the status subresource).
    @discardableResult
    func setStatus(_ resource: GroupVersionResource, _ name: String, _ status: JSONValue) async throws -> JSONValue {
        try await kube.patch(resource, namespace: namespace, name: name, type: .merge, patch: ["status": status], subresource: "status")
    }

    /// Waits (on a watch) until the object satisfies `predicate`, e.g. "the client created it".
    @discardableResult
    func await(_ resource: GroupVersionResource, _ name: String, _ what: String, _ predicate: @escaping @Sendable (JSONValue?) -> Bool) async throws
        -> JSONValue?
    {
        try await kube.waitFor(resource, namespace: namespace, name: name, timeout: .seconds(90), until: what, predicate)
    }

    /// Returns once a client has opened a watch on `plural` (seen in the request log), so status
    /// changes made next are seen as changes rather than folded into the first list.
    func watchOpened(on plural: String, after count: Int = 0) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            let watches = await cluster.log.entries.filter { $0.path.hasSuffix("/\(plural)") && $0.query.contains("watch=true") }
            if watches.count > count {
                try await Task.sleep(for: .milliseconds(50))
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw SimulatorFailure(message: "no watch on \(plural) within 10s")
    }

    /// The manager and CSI workloads, rolled out.
    func rollOutWorkloads(skipping: Set<String> = []) async throws {
        for workload in Workload.requiredForRestore where !skipping.contains(workload.name) {
            try await rollOut(workload)
        }
    }

    func rollOut(_ workload: Workload) async throws {
        let labels: JSONValue = ["app": .string(workload.name)]
        var object: JSONValue = [
            "metadata": ["name": .string(workload.name), "labels": labels],
            "spec": [
                "selector": ["matchLabels": labels],
                "template": [
                    "metadata": ["labels": labels],
                    "spec": ["containers": [["name": "main", "image": .string("longhornio/\(workload.name):\(crds.release)")]]],
                ],
            ],
        ]
        if workload.resource == .deployments { object[path: ["spec", "replicas"]] = 1 }
        try await create(workload.resource, object)
        let status: JSONValue =
            workload.resource == .daemonSets
            ? ["observedGeneration": 1, "desiredNumberScheduled": 3, "numberReady": 3, "updatedNumberScheduled": 3, "numberAvailable": 3]
            : ["observedGeneration": 1, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1, "availableReplicas": 1]
        try await setStatus(workload.resource, workload.name, status)
    }

    /// A configured BackupTarget `default` (and on ≤ v1.7 the Setting that really configures it).
    func configureBackupTarget(url: String = "s3://dr-bucket@us-east-1/longhorn") async throws {
        if version.backupTargetSource == .settings {
            try await create(LonghornResources.settings, ["metadata": ["name": "backup-target"], "value": .string(url)])
        }
        try await create(
            LonghornResources.backupTargets,
            [
                "metadata": ["name": "default"],
                "spec": ["backupTargetURL": .string(url), "credentialSecret": "aws-creds", "pollInterval": "5m0s"],
            ])
    }

    /// Longhorn's first hop: once a sync is requested, mark the target available and synced then.
    func syncBackupTargetWhenAsked() async throws {
        let seen = try await self.await(LonghornResources.backupTargets, "default", "sync requested") {
            $0?[path: ["spec", "syncRequestedAt"]]?.stringValue != nil
        }
        let requested = seen?[path: ["spec", "syncRequestedAt"]] ?? .null
        try await setStatus(LonghornResources.backupTargets, "default", ["available": true, "lastSyncedAt": requested])
    }

    /// Longhorn's second and third hops for one volume: its BackupVolume (named per release) and
    /// a pulled, Completed Backup.
    func pullBackup(volume: String, backup: String, size: String = "1073741824", syncedAt: String, snapshotAt: String = "2026-11-20T10:00:00Z") async throws {
        let bvName = version.expectedBackupVolumeName(volume: volume) ?? "\(volume)-1a2b3c4d"
        let existing = try await kube.getIfPresent(LonghornResources.backupVolumes, namespace: namespace, name: bvName)
        if existing == nil {
            var bv: JSONValue = ["metadata": ["name": .string(bvName)], "spec": [:]]
            if version.hasMultipleBackupTargets {
                bv[path: ["metadata", "labels"]] = ["backup-volume": .string(volume), "backup-target": "default"]
                bv["spec"] = ["volumeName": .string(volume), "backupTargetName": "default"]
            }
            try await create(LonghornResources.backupVolumes, bv)
        }
        var labels: JSONValue = ["backup-volume": .string(volume)]
        if version.hasMultipleBackupTargets { labels["backup-target"] = "default" }
        try await create(LonghornResources.backups, ["metadata": ["name": .string(backup), "labels": labels], "spec": ["labels": [:]]])
        var status: JSONValue = [
            "state": "Completed", "url": .string("s3://dr-bucket@us-east-1/longhorn?backup=\(backup)&volume=\(volume)"),
            "volumeSize": .string(size), "volumeName": .string(volume), "snapshotCreatedAt": .string(snapshotAt), "backupCreatedAt": .string(snapshotAt),
            "progress": 100,
        ]
        if version.hasMultipleBackupTargets { status["backupTargetName"] = "default" }
        try await setStatus(LonghornResources.backups, backup, status)
        try await setStatus(
            LonghornResources.backupVolumes, bvName,
            [
                "lastBackupName": .string(backup), "lastBackupAt": .string(snapshotAt),
                "lastSyncedAt": .string(syncedAt), "size": .string(size),
            ])
    }
}

/// Records every Longhorn object as the API server admitted it on create, for schema checks of
/// what the client really sent.
final class CreationRecorder: AdmissionPlugin {
    private let objects = Mutex<[(kind: String, object: JSONValue)]>([])

    func admit(_ object: inout JSONValue, operation: AdmissionOperation, type: ResourceType, old: JSONValue?, store: isolated ClusterStore) throws(APIError) {
        guard operation == .create, type.group == "longhorn.io" else { return }
        let snapshot = object
        objects.withLock { $0.append((type.resource, snapshot)) }
    }

    /// Created objects of `plural` whose name does not start with a test-made prefix.
    func created(_ plural: String) -> [JSONValue] {
        objects.withLock { $0.filter { $0.kind == plural }.map(\.object) }
    }
}

struct SimulatorFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Collects values reported from callbacks (progress lines, phases) across tasks.
final class Collector<Value: Sendable>: Sendable {
    private let storage = Mutex<[Value]>([])

    func append(_ value: Value) { storage.withLock { $0.append(value) } }

    /// Appends unless it repeats the last value.
    func appendChange(_ value: Value) where Value: Equatable {
        storage.withLock { if $0.last != value { $0.append(value) } }
    }

    var values: [Value] { storage.withLock { $0 } }
}

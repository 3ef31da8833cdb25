import DRCore
import Exercise
import Foundation
import KubeClient
import KubeModels
import Longhorn
import RestoreOrchestrator

/// The exercise's work inside one cluster for one test workload, through the real clients: the
/// workload, the sentinel in its volume, the Longhorn snapshot and backup. The simulated and the
/// real environments both use it, so the phases do exactly the same requests in both.
public struct ExerciseWorkload: Sendable {
    public let config: ExerciseConfig
    public let workload: ExerciseConfig.Workload
    public let client: KubeClient
    public let longhorn: LonghornClient

    public init(config: ExerciseConfig, workload: ExerciseConfig.Workload, client: KubeClient, longhorn: LonghornClient) {
        self.config = config
        self.workload = workload
        self.client = client
        self.longhorn = longhorn
    }

    var namespace: String { workload.namespace }
    var volume: String { workload.volume }
    public var sentinelPath: String { (workload.mountPath as NSString).appendingPathComponent(config.sentinel.file) }
    var selector: String { "app.kubernetes.io/name=\(workload.deployment)" }

    /// kube-system's uid: a rebuilt cluster has a new one even at the same URL, and the same
    /// cluster keeps it whether reached by name or by IP.
    public static func fingerprint(_ client: KubeClient) async throws -> String {
        let uid = try await client.get(.namespaces, name: "kube-system")[path: ["metadata", "uid"]]?.stringValue ?? "?"
        return ClusterIdentity.fingerprint(kubeSystemUID: uid)
    }

    /// The restore config the exercise's own setup uses to make the well-known volumes exist:
    /// the same decision the bootstrap makes (keep, restore, or fresh when the store has none).
    public static func setupRestoreConfig(_ config: ExerciseConfig, statusConfigMap: String) -> RestoreConfig {
        RestoreConfig(
            longhornNamespace: config.longhorn.namespace, backupTarget: config.longhorn.backupTarget, syncTimeout: .seconds(120),
            restoreTimeout: .seconds(600), concurrency: RestoreConfig.Defaults.concurrency, skipFlag: RestoreConfig.Defaults.skipFlag,
            statusConfigMap: statusConfigMap,
            volumes: config.workloads.map { workload in
                RestoreConfig.Volume(
                    name: workload.volume, pvcNamespace: workload.namespace, pvcName: workload.pvc,
                    size: workload.size, replicas: 3, storageClass: workload.storageClass, fsType: .ext4,
                    accessMode: .readWriteOnce, restore: .latest, onMissingBackup: .fresh)
            })
    }

    /// The exercise volume's newest backup, and the newest one a recurring job made (Longhorn
    /// labels those `RecurringJob: <job>`), as the cluster lists them.
    public func backupInventory() async throws -> BackupInventory {
        let backups = try await longhorn.list(Backup.self, labelSelector: "backup-volume=\(volume)")
            .filter { $0.status?.state == Backup.State.completed }
            .sorted { ($0.status?.snapshotCreatedAt ?? "") < ($1.status?.snapshotCreatedAt ?? "") }
        let scheduled = backups.last { $0.status?.labels?["RecurringJob"] != nil }
        return BackupInventory(
            backups: backups.count, newestBackup: backups.last?.metadata.name,
            newestBackupAt: backups.last.map { $0.status?.snapshotCreatedAt ?? "" },
            newestScheduledBackup: scheduled?.metadata.name, newestScheduledBackupAt: scheduled.map { $0.status?.snapshotCreatedAt ?? "" })
    }

    /// The exercise volume's row in the restore orchestrator's status ConfigMap (what the
    /// bootstrap decided, from which backup, when it started): the rebuild proof's evidence.
    public func restoreRecord(pod: String) async throws -> RestoredWorkload {
        let statusName = RestoreConfig.Defaults.statusConfigMap
        guard let status = try await client.getIfPresent(.configMaps, namespace: config.longhorn.namespace, name: statusName) else {
            return RestoredWorkload(
                pod: pod, restoreDecision: "", restoredFrom: "",
                restoreMessage: "the orchestrator's status ConfigMap \(config.longhorn.namespace)/\(statusName) does not exist")
        }
        let summary = status[path: ["data", "summary"]]?.stringValue ?? ""
        let started = status[path: ["data", "startedAt"]]?.stringValue ?? ""
        let rows = (try? JSONValue(parsing: status[path: ["data", "volumes.json"]]?.stringValue ?? "[]"))?.arrayValue ?? []
        guard let row = rows.first(where: { $0["volume"]?.stringValue == volume }) else {
            return RestoredWorkload(
                pod: pod, restoreDecision: "", restoredFrom: "", restoreMessage: "the status lists no volume \(volume)",
                restoreSummary: summary, restoreStatusStartedAt: started)
        }
        return RestoredWorkload(
            pod: pod, restoreDecision: row["decision"]?.stringValue ?? "", restoredFrom: row["backup"]?.stringValue ?? "",
            restoreMessage: row["message"]?.stringValue ?? "", restoreSummary: summary, restoreStatusStartedAt: started,
            restoreDuration: row["durationSeconds"]?.numberValue.map { DurationText.format(.seconds(Int64($0))) })
    }

    /// Waits for the workload's Deployment to appear (applied by the bootstrap, never by the
    /// exercise after a rebuild), then for its running pod.
    public func waitForDeployedWorkload(timeout: Duration) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        do {
            _ = try await client.waitFor(.deployments, namespace: namespace, name: workload.deployment, timeout: timeout, until: "exists") { $0 != nil }
        } catch {
            throw DRError(
                .infrastructure, subject: "deployment \(namespace)/\(workload.deployment)",
                detail: "was not created by the rebuilt cluster's bootstrap within \(DurationText.format(timeout))",
                hint:
                    "the bootstrap (Flux: kubernetes/platform/flux/longhorn-restore-orchestrator.yaml) must apply the exercise workload after the restore gate; the exercise does not apply it itself after a rebuild"
            )
        }
        return try await runningPod(timeout: max(.seconds(1), clock.now.duration(to: deadline)))
    }

    /// Applies the namespace, the PVC pre-bound to the well-known volume, and the Deployment
    /// (server-side apply, so reapplying is a no-op). With `onlyIfMissing`, a workload that is
    /// already there (e.g. applied by Flux from kubernetes/platform/config/dr-exercise) is left alone.
    public func applyWorkload(onlyIfMissing: Bool = false) async throws {
        if onlyIfMissing, try await client.getIfPresent(.deployments, namespace: namespace, name: workload.deployment) != nil { return }
        if try await client.getIfPresent(.namespaces, name: namespace) == nil {
            try await client.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        }
        let pvc: JSONValue = [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": ["name": .string(workload.pvc), "namespace": .string(namespace)],
            "spec": [
                "accessModes": ["ReadWriteOnce"], "storageClassName": .string(workload.storageClass),
                "volumeName": .string(volume), "resources": ["requests": ["storage": .string(workload.size.description)]],
            ],
        ]
        try await client.apply(.persistentVolumeClaims, namespace: namespace, object: pvc, fieldManager: "longhorn-dr-exercise", force: true)
        let labels: JSONValue = ["app.kubernetes.io/name": .string(workload.deployment)]
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(workload.deployment), "namespace": .string(namespace)],
            "spec": [
                "replicas": 1, "selector": ["matchLabels": labels], "strategy": ["type": "Recreate"],
                "template": [
                    "metadata": ["labels": labels],
                    "spec": [
                        "containers": [
                            [
                                "name": "workload", "image": .string(workload.image), "command": ["sleep", "infinity"],
                                "volumeMounts": [["name": "data", "mountPath": .string(workload.mountPath)]],
                            ]
                        ],
                        "volumes": [["name": "data", "persistentVolumeClaim": ["claimName": .string(workload.pvc)]]],
                    ],
                ],
            ],
        ]
        try await client.apply(.deployments, namespace: namespace, object: deployment, fieldManager: "longhorn-dr-exercise", force: true)
    }

    /// The workload's running pod, waited for by watching.
    public func runningPod(timeout: Duration = .seconds(120)) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        let events = client.watch(.pods, namespace: namespace, labelSelector: selector)
        var pods: [String: JSONValue] = [:]
        for try await event in events {
            switch event {
            case .relisted(let items):
                pods = Dictionary(items.compactMap { i in i[path: ["metadata", "name"]]?.stringValue.map { ($0, i) } }, uniquingKeysWith: { $1 })
            case .added(let pod), .modified(let pod):
                if let name = pod[path: ["metadata", "name"]]?.stringValue { pods[name] = pod }
            case .deleted(let pod):
                if let name = pod[path: ["metadata", "name"]]?.stringValue { pods[name] = nil }
            case .progress: continue
            }
            if let running = pods.values.first(where: { $0[path: ["status", "phase"]] == "Running" && $0[path: ["metadata", "deletionTimestamp"]] == nil }),
                let name = running[path: ["metadata", "name"]]?.stringValue
            {
                return name
            }
            if clock.now > deadline { break }
        }
        throw DRError(
            .infrastructure, subject: "deployment \(namespace)/\(workload.deployment)", detail: "no pod is Running after \(DurationText.format(timeout))",
            hint: "kubectl -n \(namespace) describe pods -l \(selector)")
    }

    /// Writes the sentinel into the volume through the pod and returns what the pod reads back.
    public func writeSentinel(_ bytes: Data) async throws -> Data {
        let pod = try await runningPod()
        // A fixed script; the path is a positional argument, never part of the script text.
        let result = try await client.exec(
            namespace: namespace, pod: pod,
            command: ["sh", "-c", "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\" && sync && cat \"$1\"", "sh", sentinelPath], stdin: bytes)
        guard result.exitCode == 0 else {
            throw DRError(
                .infrastructure, subject: "pod \(namespace)/\(pod)", detail: "writing \(sentinelPath) exited \(result.exitCode): \(result.stderrText)")
        }
        return result.stdout
    }

    /// A snapshot, then a backup of it, each waited for until Longhorn reports a final state;
    /// both waits share `timeout` (the backup phase's budget).
    public func backUp(timeout: Duration) async throws -> BackupEvidence {
        let deadline = ContinuousClock.now + timeout
        func remaining() -> Duration { max(.seconds(1), ContinuousClock.now.duration(to: deadline)) }
        let snapshot = try await longhorn.createSnapshot(volume: volume)
        _ = try await longhorn.waitForSnapshot(snapshot.metadata.name, timeout: remaining())
        let backup = try await longhorn.createBackup(snapshot: snapshot.metadata.name, volume: volume, target: config.longhorn.backupTarget)
        let done = try await longhorn.waitForBackup(backup.metadata.name, timeout: remaining())
        return BackupEvidence(
            backupName: done.metadata.name, url: done.status?.url ?? "", state: done.status?.state ?? "",
            snapshotCreatedAt: done.status?.snapshotCreatedAt ?? "", volume: volume)
    }

    /// Reads the sentinel back; a missing or unreadable file is a verification failure.
    public func readSentinel() async throws -> Data {
        let pod = try await runningPod()
        let result = try await client.exec(namespace: namespace, pod: pod, command: ["cat", sentinelPath])
        guard result.exitCode == 0 else {
            throw DRError(
                .verificationFailed, subject: "pod \(namespace)/\(pod)", detail: "reading \(sentinelPath) exited \(result.exitCode): \(result.stderrText)")
        }
        return result.stdout
    }
}

import DRCore
import Exercise
import Foundation
import KubeClient
import KubeModels
import Longhorn

/// The exercise's work inside one cluster, through the real clients: the test workload, the
/// sentinel in its volume, the Longhorn snapshot and backup. The simulated and the real
/// environments both use it, so the phases do exactly the same requests in both.
public struct ExerciseWorkload: Sendable {
    public let config: ExerciseConfig
    public let client: KubeClient
    public let longhorn: LonghornClient

    public init(config: ExerciseConfig, client: KubeClient, longhorn: LonghornClient) {
        self.config = config
        self.client = client
        self.longhorn = longhorn
    }

    var namespace: String { config.workload.namespace }
    var volume: String { config.workload.volume }
    public var sentinelPath: String { (config.workload.mountPath as NSString).appendingPathComponent(config.sentinel.file) }
    var selector: String { "app.kubernetes.io/name=\(config.workload.deployment)" }

    /// API server URL and kube-system's uid: a rebuilt cluster has a new uid even at the same URL.
    public func fingerprint(server: String) async throws -> String {
        let uid = try await client.get(.namespaces, name: "kube-system")[path: ["metadata", "uid"]]?.stringValue ?? "?"
        return "\(server) kube-system=\(uid)"
    }

    /// Applies the namespace, the PVC pre-bound to the well-known volume, and the Deployment
    /// (server-side apply, so reapplying is a no-op). With `onlyIfMissing`, a workload that is
    /// already there (e.g. applied by Flux from kubernetes/platform/config/dr-exercise) is left alone.
    public func applyWorkload(onlyIfMissing: Bool = false) async throws {
        if onlyIfMissing, try await client.getIfPresent(.deployments, namespace: namespace, name: config.workload.deployment) != nil { return }
        if try await client.getIfPresent(.namespaces, name: namespace) == nil {
            try await client.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]])
        }
        let pvc: JSONValue = ["apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": ["name": .string(config.workload.pvc), "namespace": .string(namespace)],
            "spec": ["accessModes": ["ReadWriteOnce"], "storageClassName": .string(config.workload.storageClass),
                "volumeName": .string(volume), "resources": ["requests": ["storage": .string(config.workload.size.description)]]]]
        try await client.apply(.persistentVolumeClaims, namespace: namespace, object: pvc, fieldManager: "longhorn-dr-exercise", force: true)
        let labels: JSONValue = ["app.kubernetes.io/name": .string(config.workload.deployment)]
        let deployment: JSONValue = ["apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": .string(config.workload.deployment), "namespace": .string(namespace)],
            "spec": ["replicas": 1, "selector": ["matchLabels": labels], "strategy": ["type": "Recreate"],
                "template": ["metadata": ["labels": labels], "spec": [
                    "containers": [["name": "workload", "image": .string(config.workload.image), "command": ["sleep", "infinity"],
                        "volumeMounts": [["name": "data", "mountPath": .string(config.workload.mountPath)]]]],
                    "volumes": [["name": "data", "persistentVolumeClaim": ["claimName": .string(config.workload.pvc)]]]]]]]
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
        throw DRError(.infrastructure, subject: "deployment \(namespace)/\(config.workload.deployment)", detail: "no pod is Running after \(DurationText.format(timeout))",
            hint: "kubectl -n \(namespace) describe pods -l \(selector)")
    }

    /// Writes the sentinel into the volume through the pod and returns what the pod reads back.
    public func writeSentinel(_ bytes: Data) async throws -> Data {
        let pod = try await runningPod()
        // A fixed script; the path is a positional argument, never part of the script text.
        let result = try await client.exec(namespace: namespace, pod: pod,
            command: ["sh", "-c", "mkdir -p \"$(dirname \"$1\")\" && cat > \"$1\" && sync && cat \"$1\"", "sh", sentinelPath], stdin: bytes)
        guard result.exitCode == 0 else {
            throw DRError(.infrastructure, subject: "pod \(namespace)/\(pod)", detail: "writing \(sentinelPath) exited \(result.exitCode): \(result.stderrText)")
        }
        return result.stdout
    }

    /// A snapshot, then a backup of it, each waited for until Longhorn reports a final state.
    public func backUp(backupTimeout: Duration = .seconds(600)) async throws -> BackupEvidence {
        let snapshot = try await longhorn.createSnapshot(volume: volume)
        _ = try await longhorn.waitForSnapshot(snapshot.metadata.name, timeout: .seconds(120))
        let backup = try await longhorn.createBackup(snapshot: snapshot.metadata.name, volume: volume, target: config.longhorn.backupTarget)
        let done = try await longhorn.waitForBackup(backup.metadata.name, timeout: backupTimeout)
        return BackupEvidence(backupName: done.metadata.name, url: done.status?.url ?? "", state: done.status?.state ?? "",
            snapshotCreatedAt: done.status?.snapshotCreatedAt ?? "", volume: volume)
    }

    /// Reads the sentinel back; a missing or unreadable file is a verification failure.
    public func readSentinel() async throws -> Data {
        let pod = try await runningPod()
        let result = try await client.exec(namespace: namespace, pod: pod, command: ["cat", sentinelPath])
        guard result.exitCode == 0 else {
            throw DRError(.verificationFailed, subject: "pod \(namespace)/\(pod)", detail: "reading \(sentinelPath) exited \(result.exitCode): \(result.stderrText)")
        }
        return result.stdout
    }
}
